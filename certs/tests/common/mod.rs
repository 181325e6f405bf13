//! Shared helpers of the integration tests: a test hierarchy made for the test, and real TLS
//! handshakes over 127.0.0.1 with tokio-rustls.
#![allow(dead_code)] // each test file uses its own subset

use std::io;
use std::sync::Arc;
use std::time::Duration;

use mssd_certs::{ChainValidator, IssuedCert, LeafSpec, TestCa, TrustConfig};
use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

pub const ROOT_CN: &str = "TEST AC RACINE IGC-SANTE ELEMENTAIRE";
pub const INTERMEDIATE_CN: &str = "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS";
pub const SERVER_DN: &str = "CN=mail.hopital-a.test,OU=1990000002,O=HOPITAL A,ST=Paris (75),C=FR";
pub const APP_DN: &str = "CN=app.hopital-a.test,OU=1990000002,O=HOPITAL A,ST=Paris (75),C=FR";

pub struct Hierarchy {
    pub root: TestCa,
    pub intermediate: TestCa,
}

impl Hierarchy {
    /// Root and ORGANISATIONS intermediate with the IGC-Santé test DNs.
    pub fn new() -> Hierarchy {
        let root = TestCa::root(ROOT_CN).unwrap();
        let intermediate = root.intermediate(INTERMEDIATE_CN).unwrap();
        Hierarchy { root, intermediate }
    }

    pub fn issue(&self, spec: &LeafSpec) -> IssuedCert {
        self.intermediate.issue(spec).unwrap()
    }

    /// Leaf then intermediate, as a peer sends it.
    pub fn chain(&self, leaf: &IssuedCert) -> Vec<CertificateDer<'static>> {
        vec![leaf.cert_der.clone(), self.intermediate.cert_der().clone()]
    }

    pub fn validator(
        &self,
        crls: Vec<CertificateRevocationListDer<'static>>,
    ) -> Arc<ChainValidator> {
        Arc::new(
            ChainValidator::new(TrustConfig {
                anchors: vec![self.root.cert_der().clone()],
                crls,
                accepted_policies: Vec::new(),
                ..Default::default()
            })
            .unwrap(),
        )
    }
}

/// A spec from an RFC 4514 DN (CN first).
pub fn spec_for(dn: &str) -> LeafSpec {
    let pairs: Vec<(String, String)> = dn
        .split(',')
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    LeafSpec::new(&borrowed)
}

/// An MTA certificate: serverAuth + clientAuth, DNS name.
pub fn server_spec() -> LeafSpec {
    LeafSpec {
        dns_names: vec!["mail.hopital-a.test".into()],
        server_auth: true,
        client_auth: true,
        ..spec_for(SERVER_DN)
    }
}

/// An applicative mailbox certificate: clientAuth only.
pub fn app_spec() -> LeafSpec {
    LeafSpec {
        client_auth: true,
        ..spec_for(APP_DN)
    }
}

pub fn now() -> UnixTime {
    UnixTime::now()
}

/// What one side saw of a successful handshake.
#[derive(Debug)]
pub struct Side {
    pub peer_certs: Vec<CertificateDer<'static>>,
    /// The handshake resumed an earlier session.
    pub resumed: bool,
    pub version: rustls::ProtocolVersion,
    pub suite: rustls::CipherSuite,
}

#[derive(Debug)]
pub struct Outcome {
    pub server: io::Result<Side>,
    pub client: io::Result<Side>,
}

/// Runs a real handshake on 127.0.0.1 and exchanges a few bytes both ways, so that a
/// rejection of the client certificate (known only after the TLS 1.3 client has finished)
/// reaches the client.
pub async fn handshake(
    server_config: Arc<ServerConfig>,
    client_config: Arc<ClientConfig>,
) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = TlsAcceptor::from(server_config).accept(tcp).await?;
        let (_, conn) = tls.get_ref();
        let side = side(
            conn.peer_certificates(),
            conn.protocol_version(),
            conn.negotiated_cipher_suite(),
            conn.handshake_kind(),
        );
        tls.write_all(b"hello").await?;
        tls.flush().await?;
        let mut ack = [0u8; 2];
        tls.read_exact(&mut ack).await?;
        Ok::<_, io::Error>(side)
    });
    let client = async move {
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::try_from("mail.hopital-a.test").unwrap();
        let mut tls = TlsConnector::from(client_config).connect(name, tcp).await?;
        let (_, conn) = tls.get_ref();
        let side = side(
            conn.peer_certificates(),
            conn.protocol_version(),
            conn.negotiated_cipher_suite(),
            conn.handshake_kind(),
        );
        let mut hello = [0u8; 5];
        tls.read_exact(&mut hello).await?;
        tls.write_all(b"ok").await?;
        tls.flush().await?;
        Ok::<_, io::Error>(side)
    };
    let limit = Duration::from_secs(30);
    let client = tokio::time::timeout(limit, client)
        .await
        .expect("client timed out");
    let server = tokio::time::timeout(limit, server)
        .await
        .expect("server timed out")
        .unwrap();
    Outcome { server, client }
}

fn side(
    certs: Option<&[CertificateDer<'static>]>,
    version: Option<rustls::ProtocolVersion>,
    suite: Option<rustls::SupportedCipherSuite>,
    kind: Option<rustls::HandshakeKind>,
) -> Side {
    Side {
        peer_certs: certs.map(<[_]>::to_vec).unwrap_or_default(),
        resumed: kind == Some(rustls::HandshakeKind::Resumed),
        version: version.expect("handshake done: version known"),
        suite: suite.expect("handshake done: suite known").suite(),
    }
}

/// The rustls error inside an I/O error from tokio-rustls.
pub fn tls_error(result: &io::Result<Side>) -> &rustls::Error {
    let err = result.as_ref().expect_err("this side should have failed");
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a rustls error: {err:?}"))
}
