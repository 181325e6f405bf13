//! A tiny HTTPS/1.1 file server on 127.0.0.1 for the tests, with a certificate from a test
//! IGC-Santé-like hierarchy.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mssd_certs::{LeafSpec, TestCa};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// Root, intermediate and a server certificate for 127.0.0.1.
pub struct TestPki {
    pub root: TestCa,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl TestPki {
    /// `root_cn` distinguishes two hierarchies; the server names are the same in both.
    pub fn new(root_cn: &str) -> TestPki {
        let root = TestCa::root(root_cn).unwrap();
        let intermediate = root.intermediate("TEST ORGANISATIONS").unwrap();
        let mut spec = LeafSpec::new(&[
            ("CN", "listeblanche.test.mssante.fr"),
            ("OU", "318751275100020"),
            ("O", "ANS TEST"),
            ("C", "FR"),
        ]);
        spec.server_auth = true;
        spec.dns_names = vec!["listeblanche.test.mssante.fr".into()];
        spec.ip_addresses = vec!["127.0.0.1".parse().unwrap()];
        let leaf = intermediate.issue(&spec).unwrap();
        TestPki {
            chain: vec![leaf.cert_der.clone(), intermediate.cert_der().clone()],
            key: leaf.private_key(),
            root,
        }
    }

    pub fn root_der(&self) -> CertificateDer<'static> {
        self.root.cert_der().clone()
    }
}

/// Serves paths set with [`HttpsServer::set`]; 404 for others.
pub struct HttpsServer {
    pub addr: SocketAddr,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    task: JoinHandle<()>,
}

impl HttpsServer {
    pub async fn start(pki: &TestPki) -> HttpsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), pki.key.clone_key())
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let served = files.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let files = served.clone();
                tokio::spawn(async move {
                    // A client refusing our certificate ends the handshake: nothing to do.
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = answer(tls, &files).await;
                    }
                });
            }
        });
        HttpsServer { addr, files, task }
    }

    pub fn set(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_owned(), body.into());
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one request head and answers it, then closes.
async fn answer(
    mut stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    files: &Mutex<HashMap<String, Vec<u8>>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let body = files.lock().unwrap().get(&path).cloned();
    let (status, body) = match body {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}
