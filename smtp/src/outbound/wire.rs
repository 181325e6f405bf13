//! The client's connection: clear text until STARTTLS, then TLS; replies read with a
//! deadline and a bounded length (smtp-proto's receiver caps a reply at 4 KiB), commands
//! written with a deadline. Bytes the peer sends ahead are kept for the next reply.

use std::time::Duration;

use smtp_proto::response::parser::ResponseReceiver;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::client::TlsStream;

use super::outcome::Failure;
use crate::reply::Reply;

const READ_CHUNK: usize = 8 * 1024;

pub(crate) enum Stream<S> {
    Plain(S),
    Tls(Box<TlsStream<S>>),
    /// The handshake owns the socket, or it failed.
    Closed,
}

pub(crate) struct Wire<S> {
    pub(crate) stream: Stream<S>,
    receiver: ResponseReceiver,
    /// Received bytes not yet parsed.
    pending: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    pub(crate) fn new(stream: S) -> Wire<S> {
        Wire {
            stream: Stream::Plain(stream),
            receiver: ResponseReceiver::default(),
            pending: Vec::new(),
        }
    }

    /// Forgets bytes read before a TLS upgrade (RFC 3207 §5: nothing sent in clear after
    /// the 220 may be trusted).
    pub(crate) fn discard_pending(&mut self) -> usize {
        self.receiver.reset();
        std::mem::take(&mut self.pending).len()
    }

    pub(crate) async fn send(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), Failure> {
        let write = async {
            match &mut self.stream {
                Stream::Plain(s) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
                Stream::Tls(s) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
                Stream::Closed => Err(std::io::ErrorKind::NotConnected.into()),
            }
        };
        match tokio::time::timeout(timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Failure::temporary(
                (4, 4, 2),
                format!("writing to the peer failed: {e}"),
            )),
            Err(_) => Err(Failure::temporary(
                (4, 4, 2),
                format!("writing to the peer timed out after {timeout:?}"),
            )),
        }
    }

    /// The next complete reply, within `timeout`.
    pub(crate) async fn reply(&mut self, timeout: Duration) -> Result<Reply, Failure> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if !self.pending.is_empty() {
                let mut iter = self.pending.iter();
                let parsed = self.receiver.parse(&mut iter);
                let consumed = self.pending.len() - iter.as_slice().len();
                self.pending.drain(..consumed);
                match parsed {
                    Ok(response) => {
                        self.receiver.reset();
                        return Ok(to_reply(response.code, response.esc, &response.message));
                    }
                    Err(smtp_proto::Error::NeedsMoreData { .. }) => {}
                    Err(smtp_proto::Error::ResponseTooLong) => {
                        return Err(Failure::temporary(
                            (4, 5, 0),
                            "the peer's reply exceeds 4096 octets",
                        ));
                    }
                    Err(e) => {
                        return Err(Failure::temporary(
                            (4, 5, 0),
                            format!("unreadable reply from the peer: {e}"),
                        ));
                    }
                }
            }
            let mut chunk = [0u8; READ_CHUNK];
            let read = async {
                match &mut self.stream {
                    Stream::Plain(s) => s.read(&mut chunk).await,
                    Stream::Tls(s) => s.read(&mut chunk).await,
                    Stream::Closed => Err(std::io::ErrorKind::NotConnected.into()),
                }
            };
            match tokio::time::timeout_at(deadline, read).await {
                Ok(Ok(0)) => {
                    return Err(Failure::temporary(
                        (4, 4, 2),
                        "the peer closed the connection",
                    ));
                }
                Ok(Ok(n)) => self.pending.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => {
                    return Err(Failure::temporary(
                        (4, 4, 2),
                        format!("reading from the peer failed: {e}"),
                    ));
                }
                Err(_) => {
                    return Err(Failure::temporary(
                        (4, 4, 2),
                        format!("no reply from the peer within {timeout:?}"),
                    ));
                }
            }
        }
    }

    /// Sends `command` (CRLF added) and reads its reply.
    pub(crate) async fn command(
        &mut self,
        command: &str,
        timeout: Duration,
    ) -> Result<Reply, Failure> {
        self.send(format!("{command}\r\n").as_bytes(), timeout)
            .await?;
        self.reply(timeout).await
    }

    pub(crate) async fn shutdown(&mut self) {
        let _ = match &mut self.stream {
            Stream::Plain(s) => s.shutdown().await,
            Stream::Tls(s) => s.shutdown().await,
            Stream::Closed => Ok(()),
        };
    }
}

/// A parsed reply as a [`Reply`]: an all-zero enhanced code means none was given; the text
/// keeps one entry per line, bounded by the receiver's limit.
pub(crate) fn to_reply(code: u16, esc: [u8; 3], message: &str) -> Reply {
    let status = (esc[0] != 0).then(|| (esc[0], u16::from(esc[1]), u16::from(esc[2])));
    let lines = message
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_string().into())
        .collect();
    Reply {
        code,
        status,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply as (code, enhanced status, lines), or the failure's reason.
    type Parsed = Result<(u16, Option<(u8, u16, u16)>, Vec<String>), String>;

    async fn replies_of(wire_bytes: &[u8]) -> Vec<Parsed> {
        let (mut peer, ours) = tokio::io::duplex(64 * 1024);
        peer.write_all(wire_bytes).await.unwrap();
        drop(peer);
        let mut wire = Wire::new(ours);
        let mut out = Vec::new();
        loop {
            match wire.reply(Duration::from_secs(5)).await {
                Ok(r) => out.push(Ok((
                    r.code,
                    r.status,
                    r.lines.iter().map(|l| l.to_string()).collect(),
                ))),
                Err(f) => {
                    out.push(Err(f.reason));
                    return out;
                }
            }
        }
    }

    #[tokio::test]
    async fn replies_table() {
        let closed = Err("the peer closed the connection".to_string());
        let long = format!("250 {}\r\n", "x".repeat(5000));
        let cases: Vec<(&[u8], Vec<Parsed>)> = vec![
            (
                b"220 mx ESMTP\r\n",
                vec![Ok((220, None, vec!["mx ESMTP".into()])), closed.clone()],
            ),
            (
                b"250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n550 5.1.1 No such user\r\n",
                vec![
                    Ok((
                        250,
                        None,
                        vec!["mx".into(), "PIPELINING".into(), "SIZE 100".into()],
                    )),
                    Ok((550, Some((5, 1, 1)), vec!["No such user".into()])),
                    closed.clone(),
                ],
            ),
            (
                b"451 4.3.0 Try later\n",
                vec![
                    Ok((451, Some((4, 3, 0)), vec!["Try later".into()])),
                    closed.clone(),
                ],
            ),
            (
                b"250 2.1.5 OK\r\n250 2.",
                vec![
                    Ok((250, Some((2, 1, 5)), vec!["OK".into()])),
                    closed.clone(),
                ],
            ),
            (
                b"hello\r\n",
                vec![Err(
                    "unreadable reply from the peer: Syntax error: Invalid response code".into(),
                )],
            ),
            (
                long.as_bytes(),
                vec![Err("the peer's reply exceeds 4096 octets".into())],
            ),
            (b"", vec![closed.clone()]),
        ];
        for (bytes, expected) in cases {
            let got = replies_of(bytes).await;
            assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[tokio::test]
    async fn silent_peer_times_out() {
        let (_peer, ours) = tokio::io::duplex(1024);
        let mut wire = Wire::new(ours);
        let err = wire.reply(Duration::from_millis(50)).await.unwrap_err();
        assert!(!err.permanent);
        assert!(
            err.reason.starts_with("no reply from the peer within"),
            "{}",
            err.reason
        );
    }
}
