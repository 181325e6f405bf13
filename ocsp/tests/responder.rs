//! The checker against a real OCSP responder (`openssl ocsp`, Debian's openssl package)
//! answering for a test hierarchy: a good certificate stays accepted, a revoked one is
//! refused once the answer is in, a forged answer is refused, and an answer outlives the
//! responder's death until it expires.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mssd_certs::{
    ChainValidator, IssuedCert, LeafSpec, OcspAnswer, OcspQuestion, TestCa, TrustConfig, Usage,
};
use mssd_ocsp::OcspChecker;
use rustls_pki_types::UnixTime;

struct Responder(Child);

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn index_line(cert: &IssuedCert, revoked: bool) -> String {
    let serial = hex::encode_upper(&cert.serial);
    let serial = if serial.len() % 2 == 1 {
        format!("0{serial}")
    } else {
        serial
    };
    if revoked {
        format!("R\t301231000000Z\t261201000000Z,keyCompromise\t{serial}\tunknown\t/CN=x\n")
    } else {
        format!("V\t301231000000Z\t\t{serial}\tunknown\t/CN=x\n")
    }
}

/// `openssl ocsp` on a free port, signing with the CA's own key.
fn responder(dir: &std::path::Path, ca: &TestCa, index: &str) -> (Responder, String) {
    std::fs::write(dir.join("ca.pem"), ca.cert_pem()).unwrap();
    std::fs::write(dir.join("ca.key"), ca.key_pem()).unwrap();
    std::fs::write(dir.join("index.txt"), index).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("openssl")
        .current_dir(dir)
        .args(["ocsp", "-index", "index.txt", "-port"])
        .arg(port.to_string())
        .args([
            "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA", "ca.pem", "-nmin", "10",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl ocsp (apt-get install openssl)");
    // It prints "ACCEPT ..." once listening.
    let mut err = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 && !line.contains("ACCEPT") {
        line.clear();
    }
    std::thread::spawn(move || for _ in err.lines() {});
    (Responder(child), format!("http://127.0.0.1:{port}/"))
}

fn client() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_are_checked_cached_and_a_revoked_certificate_refused() {
    let root = TestCa::root("OCSP ROOT").unwrap();
    let intermediate = root.intermediate("OCSP INTERMEDIATE").unwrap();
    let mut spec = LeafSpec::new(&[("CN", "peer.ocsp.test")]);
    spec.client_auth = true;
    let good = intermediate.issue(&spec).unwrap();
    let revoked = intermediate.issue(&spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index = format!("{}{}", index_line(&good, false), index_line(&revoked, true));
    let (responder_process, url) = responder(dir.path(), &intermediate, &index);

    let validator = ChainValidator::new(TrustConfig {
        anchors: vec![root.cert_der().clone()],
        ..Default::default()
    })
    .unwrap();
    let checker = OcspChecker::new(&validator, url.clone(), client(), Duration::from_secs(60));
    let chain = [intermediate.cert_der().clone()];
    let check = |cert: &IssuedCert| {
        validator
            .validate(&cert.cert_der, &chain, Usage::ClientAuth, UnixTime::now())
            .map(|_| ())
    };
    // First sight: no answer yet, the CRLs (none here) decide; both are asked about.
    check(&good).unwrap();
    check(&revoked).unwrap();
    assert_eq!(checker.counts(), (2, 0));
    let asked = checker
        .ask(&OcspQuestion {
            certificate: good.cert_der.clone(),
            issuer: intermediate.cert_der().clone(),
        })
        .await;
    assert_eq!(asked.unwrap(), OcspAnswer::Good);
    assert_eq!(checker.round().await, 2);
    check(&good).unwrap();
    let refused = check(&revoked);
    assert!(
        matches!(refused, Err(mssd_certs::Error::RevokedByOcsp)),
        "{refused:?}"
    );
    assert_eq!(checker.counts(), (2, 1));
    // Cached: nothing to ask again within the cache time.
    assert_eq!(checker.round().await, 0);

    // The responder gone: the answers stay until they expire.
    drop(responder_process);
    assert!(matches!(
        check(&revoked),
        Err(mssd_certs::Error::RevokedByOcsp)
    ));

    // An answer signed by another CA with the same name is refused.
    let impostor = TestCa::root("OCSP ROOT")
        .unwrap()
        .intermediate("OCSP INTERMEDIATE")
        .unwrap();
    let other = tempfile::tempdir().unwrap();
    let (_forger, forged_url) = responder(other.path(), &impostor, &index_line(&good, true));
    let forged = OcspChecker::new(
        &ChainValidator::new(TrustConfig {
            anchors: vec![root.cert_der().clone()],
            ..Default::default()
        })
        .unwrap(),
        forged_url,
        client(),
        Duration::from_secs(60),
    );
    let question = OcspQuestion {
        certificate: good.cert_der.clone(),
        issuer: intermediate.cert_der().clone(),
    };
    let err = forged.ask(&question).await.unwrap_err();
    assert!(err.to_string().contains("not trusted"), "{err}");
}
