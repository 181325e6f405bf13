//! Small protocol clients for tests: line-oriented (SMTP/IMAP), TLS with rustls' own
//! WebPKI verifier (independent of mssd's verifiers), and HTTP/1.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const IO_TIMEOUT: Duration = Duration::from_secs(15);

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// A client config trusting only `root_pem`, optionally presenting a client certificate.
pub fn tls_client_config(root_pem: &Path, client: Option<(&Path, &Path)>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in mssd_certs::load_certs(root_pem).expect("root") {
        roots.add(cert).expect("add root");
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                mssd_certs::load_certs(cert).unwrap(),
                mssd_certs::load_private_key(key).unwrap(),
            )
            .expect("client cert"),
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// Connects and completes the TLS handshake (or returns its error).
pub fn tls_connect(
    addr: SocketAddr,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> Result<TlsStream, std::io::Error> {
    let name = ServerName::try_from(server_name.to_string()).expect("server name");
    let conn = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
    let mut stream = StreamOwned::new(conn, connect(addr));
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// A line-oriented client (SMTP, IMAP) over any stream.
pub struct LineClient<S: Read + Write> {
    reader: BufReader<S>,
}

impl<S: Read + Write> LineClient<S> {
    pub fn new(stream: S) -> Self {
        LineClient {
            reader: BufReader::new(stream),
        }
    }

    /// One line without its CRLF; empty string at end of stream.
    pub fn read_line(&mut self) -> String {
        self.try_read_line().unwrap_or_else(|e| panic!("read: {e}"))
    }

    /// Like `read_line`, but returns errors (a TLS alert, a reset) to the caller.
    pub fn try_read_line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(_) => Ok(line.trim_end_matches(['\r', '\n']).to_string()),
            // A peer that closes without close_notify ends the stream for our purposes.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(String::new()),
            Err(e) => Err(e),
        }
    }

    pub fn send(&mut self, line: &str) {
        let stream = self.reader.get_mut();
        stream.write_all(line.as_bytes()).unwrap();
        stream.write_all(b"\r\n").unwrap();
        stream.flush().unwrap();
    }

    pub fn command(&mut self, line: &str) -> String {
        self.send(line);
        self.read_line()
    }
}

/// GET `path`; returns the status code and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = connect(addr);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// An SMTP client session for tests: reads multi-line replies, upgrades with STARTTLS.
pub struct SmtpClient {
    inner: SmtpStream,
}

enum SmtpStream {
    Plain(BufReader<TcpStream>),
    Tls(Box<BufReader<TlsStream>>),
}

impl SmtpClient {
    /// Connects and reads the greeting.
    pub fn connect(addr: SocketAddr) -> (SmtpClient, String) {
        let mut client = SmtpClient {
            inner: SmtpStream::Plain(BufReader::new(connect(addr))),
        };
        let greeting = client.reply();
        (client, greeting)
    }

    /// A client over an implicit-TLS connection (port 465); read the greeting with `reply`.
    pub fn over_tls(stream: TlsStream) -> SmtpClient {
        SmtpClient {
            inner: SmtpStream::Tls(Box::new(BufReader::new(stream))),
        }
    }

    /// One reply; multi-line replies are joined with '\n'.
    pub fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read = match &mut self.inner {
                SmtpStream::Plain(r) => r.read_line(&mut line),
                SmtpStream::Tls(r) => r.read_line(&mut line),
            };
            match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\r', '\n']).to_string();
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line);
            if !more {
                break;
            }
        }
        lines.join("\n")
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let result = match &mut self.inner {
            SmtpStream::Plain(r) => r
                .get_mut()
                .write_all(bytes)
                .and_then(|_| r.get_mut().flush()),
            SmtpStream::Tls(r) => r
                .get_mut()
                .write_all(bytes)
                .and_then(|_| r.get_mut().flush()),
        };
        result.expect("write to server");
    }

    /// Sends a command line and returns the reply.
    pub fn command(&mut self, line: &str) -> String {
        self.send_raw(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Whether the TLS session was resumed (a ticket or session id from an earlier one).
    pub fn resumed(&self) -> bool {
        match &self.inner {
            SmtpStream::Tls(reader) => {
                reader.get_ref().conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
            }
            SmtpStream::Plain(_) => false,
        }
    }

    /// EHLO then STARTTLS and the handshake, then EHLO again; returns the second EHLO reply.
    pub fn starttls(
        self,
        server_name: &str,
        config: Arc<ClientConfig>,
    ) -> Result<(SmtpClient, String), std::io::Error> {
        let mut client = self;
        let ehlo = client.command("EHLO client.test");
        assert!(ehlo.contains("STARTTLS"), "no STARTTLS in {ehlo}");
        let go = client.command("STARTTLS");
        assert!(go.starts_with("220"), "STARTTLS refused: {go}");
        let SmtpStream::Plain(reader) = client.inner else {
            panic!("already TLS")
        };
        assert!(
            reader.buffer().is_empty(),
            "server sent data before the TLS handshake"
        );
        let tcp = reader.into_inner();
        let name = ServerName::try_from(server_name.to_string()).expect("server name");
        let conn = ClientConnection::new(config, name).map_err(std::io::Error::other)?;
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        let mut client = SmtpClient {
            inner: SmtpStream::Tls(Box::new(BufReader::new(stream))),
        };
        let ehlo = client.command("EHLO client.test");
        Ok((client, ehlo))
    }

    /// MAIL, RCPTs, DATA with dot-stuffing; returns the reply to the final dot (or the first
    /// refusal).
    pub fn send_message(&mut self, from: &str, to: &[&str], message: &[u8]) -> String {
        let reply = self.command(&format!("MAIL FROM:<{from}>"));
        if !reply.starts_with("250") {
            return reply;
        }
        for rcpt in to {
            let reply = self.command(&format!("RCPT TO:<{rcpt}>"));
            if !reply.starts_with("250") {
                return reply;
            }
        }
        let reply = self.command("DATA");
        if !reply.starts_with("354") {
            return reply;
        }
        let mut data = Vec::with_capacity(message.len() + 16);
        for line in message.split_inclusive(|&b| b == b'\n') {
            if line.first() == Some(&b'.') {
                data.push(b'.');
            }
            data.extend_from_slice(line);
        }
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        self.send_raw(&data);
        self.reply()
    }
}
