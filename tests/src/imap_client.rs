//! An async IMAP client for tests and benchmarks: plain, STARTTLS or implicit TLS, tagged
//! commands, literals in both directions, IDLE. It reads into one growable buffer and parses
//! whole responses out of it (lines and `{n}` literals), so reads are cancel-safe (IDLE waits
//! under a timeout) and a multi-megabyte FETCH costs a few copies at most.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

mod compress;
#[cfg(test)]
mod loopback_tests;
mod response;

use response::{Frame, Parsed, line_end, parse_frame, strip_crlf};
pub use response::{MAX_LINE, MAX_LITERAL, Reply, Untagged};

/// How long a read may wait before the client gives up (a server that went silent).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Minimum room made in the buffer before each socket read.
const READ_CHUNK: usize = 64 * 1024;
enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while STARTTLS swaps the stream, or after a failed handshake.
    Closed,
}

pub struct ImapClient {
    conn: Conn,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    start: usize,
    tag_counter: u64,
    idle_tag: Option<String>,
    /// COMPRESS=DEFLATE, once the server accepted it.
    deflate: Option<Box<compress::Deflate>>,
    /// Bytes read from the socket (compressed ones under COMPRESS), TLS records aside.
    wire_read: u64,
}

impl ImapClient {
    /// Connects without TLS and reads the greeting line.
    pub async fn connect_plain(addr: SocketAddr) -> io::Result<(ImapClient, String)> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let mut client = ImapClient::over(Conn::Plain(tcp));
        let greeting = client.read_line().await?;
        Ok((client, greeting))
    }

    /// Connects with implicit TLS (port 993) and reads the greeting line.
    pub async fn connect_tls(
        addr: SocketAddr,
        tls: Arc<ClientConfig>,
        server_name: &str,
    ) -> io::Result<(ImapClient, String)> {
        let tcp = TcpStream::connect(addr).await?;
        ImapClient::tls_over(tcp, tls, server_name).await
    }

    /// `connect_tls` from the local address `from` (e.g. 127.0.0.7: many loopback clients
    /// the server tells apart, as it does distinct hosts).
    pub async fn connect_tls_from(
        from: std::net::IpAddr,
        addr: SocketAddr,
        tls: Arc<ClientConfig>,
        server_name: &str,
    ) -> io::Result<(ImapClient, String)> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        let tcp = socket.connect(addr).await?;
        ImapClient::tls_over(tcp, tls, server_name).await
    }

    async fn tls_over(
        tcp: TcpStream,
        tls: Arc<ClientConfig>,
        server_name: &str,
    ) -> io::Result<(ImapClient, String)> {
        tcp.set_nodelay(true)?;
        let stream = handshake(tcp, tls, server_name).await?;
        let mut client = ImapClient::over(Conn::Tls(Box::new(stream)));
        let greeting = client.read_line().await?;
        Ok((client, greeting))
    }

    fn over(conn: Conn) -> ImapClient {
        ImapClient {
            conn,
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
            tag_counter: 0,
            idle_tag: None,
            deflate: None,
            wire_read: 0,
        }
    }

    /// Sends STARTTLS; on OK performs the handshake. Returns the server's reply either way.
    pub async fn starttls(
        &mut self,
        tls: Arc<ClientConfig>,
        server_name: &str,
    ) -> io::Result<Reply> {
        let reply = self.command("STARTTLS").await?;
        if !reply.is_ok() {
            return Ok(reply);
        }
        if self.start < self.buf.len() {
            // RFC 3501 §6.2.1: data sent before the handshake would be a plaintext injection.
            return Err(io::Error::other(
                "server sent data after the STARTTLS OK, before the TLS handshake",
            ));
        }
        let Conn::Plain(tcp) = std::mem::replace(&mut self.conn, Conn::Closed) else {
            return Err(io::Error::other(
                "STARTTLS on a connection that is not plain",
            ));
        };
        let stream = handshake(tcp, tls, server_name).await?;
        self.conn = Conn::Tls(Box::new(stream));
        Ok(reply)
    }

    /// COMPRESS DEFLATE (RFC 4978); on OK, everything after is compressed both ways.
    pub async fn compress(&mut self) -> io::Result<Reply> {
        let reply = self.command("COMPRESS DEFLATE").await?;
        if reply.is_ok() {
            if self.start < self.buf.len() {
                return Err(io::Error::other(
                    "server sent data after the COMPRESS OK, uncompressed",
                ));
            }
            self.deflate = Some(Box::new(compress::Deflate::new()));
        }
        Ok(reply)
    }

    /// Bytes read from the connection so far, as they travelled (compressed under COMPRESS).
    pub fn wire_bytes_read(&self) -> u64 {
        self.wire_read
    }

    /// Sends `cmd` with the next tag and returns the reply.
    pub async fn command(&mut self, cmd: &str) -> io::Result<Reply> {
        let tag = self.next_tag();
        self.send_raw(format!("{tag} {cmd}\r\n").as_bytes()).await?;
        self.read_reply(&tag).await
    }

    /// LOGIN with both arguments as quoted strings.
    pub async fn login(&mut self, user: &str, password: &str) -> io::Result<Reply> {
        let cmd = format!("LOGIN {} {}", quoted(user), quoted(password));
        self.command(&cmd).await
    }

    /// APPEND `message` to `folder` (quoted here) with `flags` (e.g. "\\Seen", may be empty),
    /// as a synchronizing literal (waits for "+") or a LITERAL+ one.
    pub async fn append(
        &mut self,
        folder: &str,
        flags: &str,
        message: &[u8],
        non_sync: bool,
    ) -> io::Result<Reply> {
        let tag = self.next_tag();
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" ({flags})")
        };
        let plus = if non_sync { "+" } else { "" };
        let head = format!(
            "{tag} APPEND {}{flags} {{{}{plus}}}\r\n",
            quoted(folder),
            message.len()
        );
        if non_sync {
            let mut all = Vec::with_capacity(head.len() + message.len() + 2);
            all.extend_from_slice(head.as_bytes());
            all.extend_from_slice(message);
            all.extend_from_slice(b"\r\n");
            self.send_raw(&all).await?;
            return self.read_reply(&tag).await;
        }
        self.send_raw(head.as_bytes()).await?;
        let mut early = Vec::new();
        let mut bytes = 0;
        loop {
            let (frame, used) = self.read_frame().await?;
            bytes += used;
            match frame {
                Frame::Untagged(u) => early.push(u),
                Frame::Continuation(_) => break,
                // The server refused the literal (too large, bad folder...).
                Frame::Tagged { tag: t, rest } if t == tag => {
                    return Ok(Reply {
                        tag_line: rest,
                        untagged: early,
                        bytes,
                    });
                }
                Frame::Tagged { tag: t, rest } => return Err(wrong_tag(&tag, &t, &rest)),
            }
        }
        let mut body = Vec::with_capacity(message.len() + 2);
        body.extend_from_slice(message);
        body.extend_from_slice(b"\r\n");
        self.send_raw(&body).await?;
        let mut reply = self.read_reply(&tag).await?;
        early.append(&mut reply.untagged);
        reply.untagged = early;
        reply.bytes += bytes;
        Ok(reply)
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let compressed;
        let bytes = match &mut self.deflate {
            Some(deflate) => {
                compressed = deflate.deflate(bytes)?;
                &compressed[..]
            }
            None => bytes,
        };
        match &mut self.conn {
            Conn::Plain(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Conn::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Conn::Closed => Err(closed()),
        }
    }

    /// Reads untagged responses until the tagged one for `tag`. A continuation request or
    /// another tag is an error (it means the caller and the server disagree).
    pub async fn read_reply(&mut self, tag: &str) -> io::Result<Reply> {
        let mut reply = Reply::default();
        loop {
            let (frame, used) = self.read_frame().await?;
            reply.bytes += used;
            match frame {
                Frame::Untagged(u) => reply.untagged.push(u),
                Frame::Tagged { tag: t, rest } if t == tag => {
                    reply.tag_line = rest;
                    return Ok(reply);
                }
                Frame::Tagged { tag: t, rest } => return Err(wrong_tag(tag, &t, &rest)),
                Frame::Continuation(text) => {
                    return Err(io::Error::other(format!(
                        "unexpected continuation request \"+ {text}\" while waiting for {tag}"
                    )));
                }
            }
        }
    }

    /// One raw line without its CRLF (no literal handling), lossily decoded.
    pub async fn read_line(&mut self) -> io::Result<String> {
        loop {
            let pending = &self.buf[self.start..];
            if let Some(end) = line_end(pending)? {
                let line = String::from_utf8_lossy(strip_crlf(&pending[..end])).into_owned();
                self.consume(end);
                return Ok(line);
            }
            self.fill(READ_CHUNK).await?;
        }
    }

    /// Sends IDLE and waits for the continuation request.
    pub async fn idle(&mut self) -> io::Result<()> {
        let tag = self.next_tag();
        self.send_raw(format!("{tag} IDLE\r\n").as_bytes()).await?;
        loop {
            match self.read_frame().await?.0 {
                Frame::Continuation(_) => {
                    self.idle_tag = Some(tag);
                    return Ok(());
                }
                Frame::Untagged(_) => {}
                Frame::Tagged { rest, .. } => {
                    return Err(io::Error::other(format!("IDLE refused: {rest}")));
                }
            }
        }
    }

    /// The next untagged response during IDLE (without "* "), or None after `timeout`.
    pub async fn idle_wait(&mut self, timeout: Duration) -> io::Result<Option<String>> {
        // Parsing only consumes complete responses, so a timeout never loses data.
        match tokio::time::timeout(timeout, self.read_frame_untimed()).await {
            Err(_) => Ok(None),
            Ok(Err(e)) => Err(e),
            Ok(Ok((Frame::Untagged(u), _))) => Ok(Some(u.line)),
            Ok(Ok((frame, _))) => Err(io::Error::other(format!(
                "unexpected response during IDLE: {frame:?}"
            ))),
        }
    }

    /// Sends DONE and returns the reply that ends the IDLE command.
    pub async fn idle_done(&mut self) -> io::Result<Reply> {
        let tag = self
            .idle_tag
            .take()
            .ok_or_else(|| io::Error::other("idle_done without idle"))?;
        self.send_raw(b"DONE\r\n").await?;
        self.read_reply(&tag).await
    }

    /// The next tag: "a1", "a2", ...
    pub fn next_tag(&mut self) -> String {
        self.tag_counter += 1;
        format!("a{}", self.tag_counter)
    }

    async fn read_frame(&mut self) -> io::Result<(Frame, usize)> {
        match tokio::time::timeout(READ_TIMEOUT, self.read_frame_untimed()).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no complete response from the server in {READ_TIMEOUT:?}"),
            )),
        }
    }

    async fn read_frame_untimed(&mut self) -> io::Result<(Frame, usize)> {
        loop {
            match parse_frame(&self.buf[self.start..])? {
                Parsed::Complete(frame, used) => {
                    self.consume(used);
                    return Ok((frame, used));
                }
                Parsed::Need(more) => self.fill(more.max(READ_CHUNK)).await?,
            }
        }
    }

    /// Reads at least one more byte from the socket, with room for `room` bytes.
    async fn fill(&mut self, room: usize) -> io::Result<()> {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= READ_CHUNK && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(room);
        let had = self.buf.len();
        // Under COMPRESS, until a read inflates to at least one byte.
        while self.buf.len() == had {
            let mut wire = Vec::new();
            let target = match self.deflate {
                Some(_) => {
                    wire.reserve(room);
                    &mut wire
                }
                None => &mut self.buf,
            };
            let read = match &mut self.conn {
                Conn::Plain(s) => s.read_buf(target).await?,
                Conn::Tls(s) => s.read_buf(target).await?,
                Conn::Closed => return Err(closed()),
            };
            if read == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            self.wire_read += read as u64;
            if let Some(deflate) = &mut self.deflate {
                deflate.inflate(&wire, &mut self.buf)?;
            }
        }
        Ok(())
    }

    fn consume(&mut self, used: usize) {
        self.start += used;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }
}

/// `text` as an IMAP quoted string.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

async fn handshake(
    tcp: TcpStream,
    tls: Arc<ClientConfig>,
    server_name: &str,
) -> io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(server_name.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    TlsConnector::from(tls).connect(name, tcp).await
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "connection closed")
}

fn wrong_tag(expected: &str, got: &str, rest: &str) -> io::Error {
    io::Error::other(format!(
        "expected the reply to {expected}, got \"{got} {rest}\""
    ))
}
