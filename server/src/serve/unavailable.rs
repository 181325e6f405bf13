//! What the IMAP listeners say until the IMAP sessions exist in this build: a real,
//! standards-conforming refusal rather than a silent socket (RFC 3501 §7.1.5 BYE with the
//! RFC 5530 UNAVAILABLE code).

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::state::ServerState;

pub async fn imap<S>(mut stream: S, peer: SocketAddr, state: &ServerState)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let host = &state.config.hostname;
    let bye =
        format!("* BYE [UNAVAILABLE] {host} mssd: IMAP service not available in this build\r\n");
    let _ = stream.write_all(bye.as_bytes()).await;
    let _ = stream.shutdown().await;
    tracing::debug!(%peer, "imap: sent BYE (no IMAP service yet)");
}
