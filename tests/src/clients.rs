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
