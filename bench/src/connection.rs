//! An async SMTP client connection: replies, commands, and the STARTTLS upgrade with a
//! client certificate (tokio-rustls).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::{Error, Result, io};
use crate::reply::{Reply, parse_reply_line};

/// Longest reply line we accept: a server answering more is broken, not slow.
const MAX_LINE: usize = 4096;

/// A TLS client configuration trusting only `ca` and presenting `cert` (chain, leaf first)
/// with `key`.
pub fn client_config(ca: &Path, cert: &Path, key: &Path) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for root in mssd_certs::load_certs(ca)? {
        roots.add(root)?;
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_client_auth_cert(
                mssd_certs::load_certs(cert)?,
                mssd_certs::load_private_key(key)?,
            )?;
    Ok(Arc::new(config))
}

/// An SMTP session over any byte stream.
pub struct SmtpConnection<S> {
    stream: BufReader<S>,
    line: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SmtpConnection<S> {
    pub fn new(stream: S) -> Self {
        SmtpConnection {
            stream: BufReader::new(stream),
            line: String::new(),
        }
    }

    /// Reads one complete (possibly multi-line) reply; `step` names what it answers.
    pub async fn reply(&mut self, step: &'static str) -> Result<Reply> {
        let mut lines = Vec::new();
        loop {
            self.line.clear();
            let read = AsyncReadExt::take(&mut self.stream, MAX_LINE as u64)
                .read_line(&mut self.line)
                .await
                .map_err(io(format!("reading the reply to {step}")))?;
            if read == 0 {
                return Err(Error::Closed(step));
            }
            let parsed = parse_reply_line(self.line.trim_end_matches(['\r', '\n']))?;
            lines.push(parsed.text);
            if parsed.last {
                return Ok(Reply {
                    code: parsed.code,
                    lines,
                });
            }
        }
    }

    /// Writes `bytes` and flushes them to the socket.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let stream = self.stream.get_mut();
        stream
            .write_all(bytes)
            .await
            .map_err(io("writing to the server"))?;
        stream.flush().await.map_err(io("writing to the server"))
    }

    /// Writes `bytes` without flushing (the next `send` flushes them).
    pub async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream
            .get_mut()
            .write_all(bytes)
            .await
            .map_err(io("writing to the server"))
    }

    /// The stream under the session (e.g. a TLS connection, to ask how it was negotiated).
    pub fn get_ref(&self) -> &S {
        self.stream.get_ref()
    }

    /// Sends one command line and reads its reply.
    pub async fn command(&mut self, line: &str, step: &'static str) -> Result<Reply> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        self.reply(step).await
    }

    /// Sends a command and fails unless the reply has the code `expected`.
    pub async fn expect(&mut self, line: &str, step: &'static str, expected: u16) -> Result<Reply> {
        let reply = self.command(line, step).await?;
        if reply.code != expected {
            return Err(Error::UnexpectedReply {
                step,
                expected: expected_text(expected),
                reply: reply.to_string(),
            });
        }
        Ok(reply)
    }
}

fn expected_text(code: u16) -> &'static str {
    match code {
        220 => "220",
        250 => "250",
        354 => "354",
        _ => "positive",
    }
}

/// Connects to `addr`, reads the greeting, EHLO, STARTTLS with `config`, EHLO again.
pub async fn connect_starttls(
    addr: SocketAddr,
    server_name: &str,
    ehlo_name: &str,
    config: Arc<ClientConfig>,
) -> Result<SmtpConnection<TlsStream<TcpStream>>> {
    connect_starttls_from(None, addr, server_name, ehlo_name, config).await
}

/// `connect_starttls` from the local address `from` when given (e.g. 127.0.0.12: loopback
/// clients the server counts apart, as it does distinct hosts).
pub async fn connect_starttls_from(
    from: Option<IpAddr>,
    addr: SocketAddr,
    server_name: &str,
    ehlo_name: &str,
    config: Arc<ClientConfig>,
) -> Result<SmtpConnection<TlsStream<TcpStream>>> {
    let name = ServerName::try_from(server_name.to_string())
        .map_err(|_| Error::ServerName(server_name.to_string()))?;
    let tcp = match from {
        None => TcpStream::connect(addr)
            .await
            .map_err(io(format!("connecting to {addr}")))?,
        Some(from) => {
            let socket = match from {
                IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
                IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
            }
            .map_err(io("creating a socket"))?;
            socket
                .bind(SocketAddr::new(from, 0))
                .map_err(io(format!("binding to {from}")))?;
            socket
                .connect(addr)
                .await
                .map_err(io(format!("connecting to {addr} from {from}")))?
        }
    };
    tcp.set_nodelay(true).map_err(io("setting TCP_NODELAY"))?;
    let mut plain = SmtpConnection::new(tcp);
    let greeting = plain.reply("the greeting").await?;
    if greeting.code != 220 {
        return Err(Error::UnexpectedReply {
            step: "the greeting",
            expected: "220",
            reply: greeting.to_string(),
        });
    }
    let ehlo = plain
        .expect(&format!("EHLO {ehlo_name}"), "EHLO", 250)
        .await?;
    if !ehlo
        .lines
        .iter()
        .any(|l| l.eq_ignore_ascii_case("STARTTLS"))
    {
        return Err(Error::UnexpectedReply {
            step: "EHLO",
            expected: "STARTTLS capability",
            reply: ehlo.to_string(),
        });
    }
    plain.expect("STARTTLS", "STARTTLS", 220).await?;
    // Anything buffered past the 220 would be bytes from before the handshake: refuse it.
    if !plain.stream.buffer().is_empty() {
        return Err(Error::UnexpectedReply {
            step: "STARTTLS",
            expected: "nothing after 220",
            reply: String::from_utf8_lossy(plain.stream.buffer()).into_owned(),
        });
    }
    let tcp = plain.stream.into_inner();
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(io("TLS handshake"))?;
    let mut secure = SmtpConnection::new(tls);
    secure
        .expect(&format!("EHLO {ehlo_name}"), "EHLO after STARTTLS", 250)
        .await?;
    Ok(secure)
}
