//! A tiny HTTPS server for tests: serves one document at any path, with the certificate and
//! key given (so a test decides which CA the client will see).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A TLS server configuration with `chain` and `key`, no client certificate.
pub fn server_config(chain: &Path, key: &Path) -> Arc<ServerConfig> {
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                mssd_certs::load_certs(chain).unwrap(),
                mssd_certs::load_private_key(key).unwrap(),
            )
            .unwrap();
    Arc::new(config)
}

/// Serves `body` (replaceable) until the process ends or [`HttpsServer::stop`].
pub struct HttpsServer {
    pub addr: SocketAddr,
    body: Arc<Mutex<Vec<u8>>>,
    stopped: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl HttpsServer {
    pub fn start(chain: &Path, key: &Path, body: Vec<u8>) -> HttpsServer {
        let config = server_config(chain, key);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let body = Arc::new(Mutex::new(body));
        let served = Arc::clone(&body);
        let stopped = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopped);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = ServerConnection::new(Arc::clone(&config)) else {
                    continue;
                };
                let mut tls = StreamOwned::new(conn, stream);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let body = served.lock().unwrap().clone();
                let header = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls
                    .write_all(header.as_bytes())
                    .and_then(|_| tls.write_all(&body))
                    .and_then(|_| tls.flush());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        HttpsServer {
            addr,
            body,
            stopped,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Stops serving: once this returns the port is closed (connections are refused), as
    /// when the server behind a URL is down.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which sees the flag and ends, closing the listener.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.lock().unwrap().take() {
            let _ = thread.join();
        }
    }

    pub fn set_body(&self, body: Vec<u8>) {
        *self.body.lock().unwrap() = body;
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }
}
