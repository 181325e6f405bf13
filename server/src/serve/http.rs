//! The HTTP listener: `/healthz` and `/metrics` for operators' monitoring. One request per
//! connection, bounded head, short timeouts: it is not a general web server.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::http_request::{HeadError, RequestHead, parse_head, query_param};
use super::state::ServerState;

const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(mut stream: TcpStream, peer: SocketAddr, state: &ServerState) {
    let mut buf = Vec::with_capacity(1024);
    let head = loop {
        match parse_head(&buf) {
            Ok(Some(head)) => break head,
            Ok(None) => {}
            Err(e) => {
                let (status, text) = match e {
                    HeadError::TooLarge => (
                        "431 Request Header Fields Too Large",
                        "request head too large\n",
                    ),
                    HeadError::Malformed(why) => ("400 Bad Request", why),
                };
                respond(
                    &mut stream,
                    status,
                    "text/plain; charset=utf-8",
                    text.as_bytes(),
                    false,
                )
                .await;
                return;
            }
        }
        let mut chunk = [0u8; 1024];
        let n = match tokio::time::timeout(READ_TIMEOUT, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return,
        };
        // parse_head refuses a head past MAX_HEAD, so buf stays under MAX_HEAD + 1 KiB.
        buf.extend_from_slice(&chunk[..n]);
    };
    tracing::debug!(%peer, method = %head.method, path = %head.path, "http request");
    let (status, content_type, body) = route(&head, state).await;
    respond(
        &mut stream,
        status,
        content_type,
        body.as_bytes(),
        head.method == "HEAD",
    )
    .await;
}

async fn route(head: &RequestHead, state: &ServerState) -> (&'static str, &'static str, String) {
    if head.method != "GET" && head.method != "HEAD" {
        return (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".into(),
        );
    }
    match head.path.as_str() {
        "/healthz" => match state.store.ping().await {
            Ok(()) => ("200 OK", "text/plain; charset=utf-8", "ok\n".into()),
            Err(e) => {
                tracing::error!(error = %e, "health check: store unavailable");
                (
                    "503 Service Unavailable",
                    "text/plain; charset=utf-8",
                    "store unavailable\n".into(),
                )
            }
        },
        "/annuaire/search" => search(head, state),
        "/metrics" => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            state.render_metrics().await,
        ),
        _ => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found\n".into(),
        ),
    }
}

/// `GET /annuaire/search?q=…&limit=…`: the national directory for clients and hospital
/// software, as JSON; red-listed entries are never returned.
fn search(head: &RequestHead, state: &ServerState) -> (&'static str, &'static str, String) {
    let query = head.query.as_deref();
    let Some(q) = query_param(query, "q").filter(|q| !q.trim().is_empty()) else {
        return (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            "give q=<name, RPPS, idNat, address or structure>\n".into(),
        );
    };
    let limit = query_param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 50);
    let directory = state.directory.get();
    let hits = directory.lookup(q.trim(), limit);
    let body = serde_json::to_string(&hits).unwrap_or_else(|_| "[]".into());
    ("200 OK", "application/json", body)
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) {
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(header.as_bytes()).await;
    if !head_only {
        let _ = stream.write_all(body).await;
    }
    let _ = stream.shutdown().await;
}
