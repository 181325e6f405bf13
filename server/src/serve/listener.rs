//! Accept loops: one per configured listener. Each connection gets a permit from the
//! connection limits, its metrics, and a task; shutdown stops accepting and lets sessions end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::limits::Refusal;
use super::protocol::Protocol;
use super::state::ServerState;
use mssd_smtp::{Conn, Role, Session};

/// How long sessions get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn accept_loop(
    protocol: Protocol,
    listener: TcpListener,
    state: Arc<ServerState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let metrics = state.metrics.listener(protocol.name());
    let mut sessions = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(listener = protocol.name(), error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let permit = match state.limits.try_acquire(protocol, peer.ip()) {
            Ok(permit) => permit,
            Err(reason) => {
                metrics.refused_limit.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(listener = protocol.name(), %peer, ?reason, "connection refused by limit");
                refuse(stream, protocol, &reason).await;
                continue;
            }
        };
        metrics.accepted.fetch_add(1, Ordering::Relaxed);
        metrics.active.fetch_add(1, Ordering::Relaxed);
        let state = Arc::clone(&state);
        let session_shutdown = shutdown.clone();
        sessions.spawn(async move {
            serve_connection(protocol, stream, peer, &state, session_shutdown).await;
            state
                .metrics
                .listener(protocol.name())
                .active
                .fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, async {
        while sessions.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!(
            listener = protocol.name(),
            left = sessions.len(),
            "sessions still open at shutdown, closing them"
        );
        sessions.shutdown().await;
    }
}

async fn serve_connection(
    protocol: Protocol,
    stream: TcpStream,
    peer: SocketAddr,
    state: &ServerState,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    match protocol {
        Protocol::Http => {
            if let Some(web) = state.web.get() {
                mssd_web::serve_connection(stream, peer, web.http.clone()).await
            }
        }
        Protocol::Https => {
            let web = state.web.get().map(|w| w.https.clone());
            if let (Some(router), Some(tls)) = (
                web,
                state
                    .tls_handshake(protocol, &state.https_tls, stream, peer)
                    .await,
            ) {
                mssd_web::serve_connection(tls, peer, router).await
            }
        }
        Protocol::Smtp => smtp_session(state, Role::Mta, Conn::Plain(stream), peer, shutdown).await,
        Protocol::Submission => {
            smtp_session(state, Role::Submission, Conn::Plain(stream), peer, shutdown).await
        }
        Protocol::Submissions => {
            // The SMTP acceptor defers certificate validation to the session (EXTERNAL).
            if let Some(tls) = state
                .tls_handshake(protocol, &state.smtp.tls, stream, peer)
                .await
            {
                let conn = Conn::Tls(Box::new(tls));
                smtp_session(state, Role::Submission, conn, peer, shutdown).await
            }
        }
        Protocol::Imap => mssd_imap::serve(&state.imap, Conn::Plain(stream), peer, shutdown).await,
        Protocol::Imaps => {
            // Like submissions: the session validates a client certificate itself (EXTERNAL).
            if let Some(tls) = state
                .tls_handshake(protocol, &state.smtp.tls, stream, peer)
                .await
            {
                mssd_imap::serve(&state.imap, Conn::Tls(Box::new(tls)), peer, shutdown).await
            }
        }
    }
}

async fn smtp_session(
    state: &ServerState,
    role: Role,
    conn: Conn,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
) {
    Session::new(&state.smtp, role, conn, peer)
        .run(shutdown)
        .await
}

async fn refuse(mut stream: TcpStream, protocol: Protocol, reason: &Refusal) {
    if let Some(line) = protocol.refusal_line(reason == &Refusal::PerIp) {
        let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(line)).await;
    }
}
