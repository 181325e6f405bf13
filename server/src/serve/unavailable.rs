//! What the SMTP and IMAP listeners say until their protocol sessions exist in this build:
//! real, standards-conforming refusals rather than a silent socket.
//! SMTP: RFC 5321 §3.1 — a 554 greeting, then 503 to everything but QUIT.
//! IMAP: RFC 3501 §7.1.5 BYE with the RFC 5530 UNAVAILABLE code.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::watch;

use super::state::ServerState;

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets; be a little lenient.
const MAX_LINE: usize = 1000;
/// RFC 5321 §4.5.3.2.7 asks servers to wait 5 minutes for a command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
/// A client that ignores 503 gets disconnected after this many commands.
const MAX_COMMANDS: usize = 20;

pub async fn smtp<S>(
    stream: S,
    peer: SocketAddr,
    state: &ServerState,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let host = &state.config.hostname;
    let mut stream = BufReader::new(stream);
    let greeting = format!("554 5.3.2 {host} mssd: SMTP service not available in this build\r\n");
    if stream
        .get_mut()
        .write_all(greeting.as_bytes())
        .await
        .is_err()
    {
        return;
    }
    tracing::debug!(%peer, "smtp: greeted with 554 (no SMTP service yet)");
    let mut line = Vec::with_capacity(128);
    for _ in 0..MAX_COMMANDS {
        line.clear();
        let read = {
            let mut limited = (&mut stream).take(MAX_LINE as u64 + 1);
            tokio::select! {
                _ = shutdown.changed() => None,
                read = tokio::time::timeout(COMMAND_TIMEOUT, limited.read_until(b'\n', &mut line)) => Some(read),
            }
        };
        let Some(read) = read else {
            let _ = stream
                .get_mut()
                .write_all(format!("421 4.3.2 {host} shutting down\r\n").as_bytes())
                .await;
            return;
        };
        let reply: &[u8] = match read {
            Err(_) => b"421 4.4.2 Timeout waiting for a command\r\n",
            Ok(Err(_)) | Ok(Ok(0)) => return,
            Ok(Ok(_)) if !line.ends_with(b"\n") => b"500 5.5.2 Line too long\r\n",
            Ok(Ok(_)) if is_quit(&line) => b"221 2.0.0 Bye\r\n",
            Ok(Ok(_)) => b"503 5.5.1 No SMTP service here, only QUIT is accepted\r\n",
        };
        let last = !reply.starts_with(b"503");
        if stream.get_mut().write_all(reply).await.is_err() || last {
            return;
        }
    }
    let _ = stream
        .get_mut()
        .write_all(b"421 4.7.0 Too many commands\r\n")
        .await;
}

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

fn is_quit(line: &[u8]) -> bool {
    let trimmed = line.trim_ascii();
    trimmed.eq_ignore_ascii_case(b"QUIT")
}
