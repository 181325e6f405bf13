//! One SMTP session: the read → process → reply loop over an explicit state.
//! `Role::Mta` serves other operators (mutual TLS, liste blanche); `Role::Submission` serves
//! our users (AUTH after TLS). Replies to pipelined commands are written together once the
//! bytes read so far are processed (RFC 2920).

mod commands;
mod finish;
mod input;
mod mta;
mod state;
mod submission;

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use crate::context::SmtpContext;
use crate::replies;
use crate::reply::Reply;
use mssd_certs::Conn;
use state::{Input, PeerVerdict, TlsFacts, Transaction};

/// Which listener the session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Port 25: other MSSanté operators.
    Mta,
    /// Ports 587 (STARTTLS) and 465 (implicit TLS): our users.
    Submission,
}

/// What the processing of some input asks the loop to do next.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    StartTls,
    Close,
}

const READ_BUFFER: usize = 64 * 1024;

pub struct Session<'a> {
    ctx: &'a SmtpContext,
    role: Role,
    conn: Conn,
    peer: SocketAddr,
    receiver: smtp_proto::request::receiver::RequestReceiver,
    input: Input,
    /// Replies not yet written.
    out: Vec<u8>,
    helo: Option<String>,
    tls: Option<TlsFacts>,
    verdict: Option<PeerVerdict>,
    user: Option<mssd_auth::Authenticated>,
    auth: Option<submission::AuthInProgress>,
    tx: Option<Transaction>,
    commands: usize,
    errors: usize,
    accepted: usize,
    /// Set by the recipient check when the directory does not know the recipient (warn).
    directory_warning: bool,
}

impl<'a> Session<'a> {
    pub fn new(ctx: &'a SmtpContext, role: Role, conn: Conn, peer: SocketAddr) -> Session<'a> {
        let tls = conn.tls().map(tls_facts);
        Session {
            ctx,
            role,
            conn,
            peer,
            receiver: Default::default(),
            input: Input::Command,
            out: Vec::with_capacity(1024),
            helo: None,
            tls,
            verdict: None,
            user: None,
            auth: None,
            tx: None,
            commands: 0,
            errors: 0,
            accepted: 0,
            directory_warning: false,
        }
    }

    /// Runs the session to its end; never panics on peer input, never returns an error:
    /// what went wrong is logged and, where it concerns trust, audited.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        self.reply(replies::greeting(&self.ctx.config.hostname));
        let mut buf = vec![0u8; READ_BUFFER];
        loop {
            if !self.flush().await {
                break;
            }
            let timeout = match self.input {
                Input::Data(_) | Input::Bdat(_) | Input::Discard { .. } => {
                    self.ctx.config.data_timeout
                }
                _ => self.ctx.config.command_timeout,
            };
            let read = tokio::select! {
                _ = shutdown.changed() => {
                    self.reply(replies::shutting_down(&self.ctx.config.hostname));
                    break;
                }
                read = tokio::time::timeout(timeout, self.conn.read(&mut buf)) => read,
            };
            let n = match read {
                Err(_) => {
                    self.reply(replies::timeout(&self.ctx.config.hostname));
                    break;
                }
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => n,
            };
            match self.process(&buf[..n]).await {
                Flow::Continue => {}
                Flow::Close => break,
                Flow::StartTls => {
                    if !self.flush().await || !self.start_tls().await {
                        break;
                    }
                }
            }
        }
        let _ = self.flush().await;
        let _ = self.conn.shutdown().await;
        tracing::debug!(peer = %self.peer, accepted = self.accepted, commands = self.commands, "smtp session closed");
    }

    fn reply(&mut self, reply: Reply) {
        if reply.code >= 500 {
            self.errors += 1;
        }
        reply.write_to(&mut self.out);
    }

    async fn flush(&mut self) -> bool {
        if self.out.is_empty() {
            return true;
        }
        let ok = self.conn.write_all(&self.out).await.is_ok() && self.conn.flush().await.is_ok();
        self.out.clear();
        ok
    }

    /// RFC 3207: the handshake on the same socket, then a fresh session state.
    async fn start_tls(&mut self) -> bool {
        let Conn::Plain(tcp) = std::mem::replace(&mut self.conn, Conn::Upgrading) else {
            return false;
        };
        match tokio::time::timeout(self.ctx.config.command_timeout, self.ctx.tls.accept(tcp)).await
        {
            Ok(Ok(tls)) => {
                self.conn = Conn::Tls(Box::new(tls));
                self.tls = self.conn.tls().map(tls_facts);
                // RFC 3207 §4.2: forget everything learnt before TLS.
                self.helo = None;
                self.tx = None;
                self.verdict = None;
                self.receiver = Default::default();
                self.input = Input::Command;
                true
            }
            Ok(Err(e)) => {
                tracing::info!(peer = %self.peer, error = %e, "smtp STARTTLS handshake failed");
                let (actor, subject) = (self.peer.to_string(), self.role_name().to_string());
                self.ctx
                    .audit(
                        "smtp.tls_failed",
                        actor,
                        subject,
                        "refused",
                        serde_json::json!({ "error": e.to_string() }),
                    )
                    .await;
                false
            }
            Err(_) => false,
        }
    }

    fn role_name(&self) -> &'static str {
        match self.role {
            Role::Mta => "smtp",
            Role::Submission => "submission",
        }
    }
}

fn tls_facts(tls: &tokio_rustls::server::TlsStream<tokio::net::TcpStream>) -> TlsFacts {
    let (_, conn) = tls.get_ref();
    TlsFacts {
        version: conn
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        peer_chain: conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default(),
    }
}
