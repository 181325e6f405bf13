//! The fetcher against a real HTTP server on 127.0.0.1 serving CRLs of a test hierarchy:
//! a new CRL revokes, a server down keeps the last good CRL, a restart restores it.

use std::sync::{Arc, Mutex};

use mssd_certs::{ChainValidator, LeafSpec, TestCa, TrustConfig, Usage};
use mssd_crl_fetch::{CrlCache, CrlFetcher};
use rustls_pki_types::UnixTime;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves whatever `body` holds at any path; `None` answers 503.
async fn crl_server(body: Arc<Mutex<Option<Vec<u8>>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ca.crl", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let body = body.lock().unwrap().clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let response = match body {
                    Some(bytes) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            bytes.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(&bytes);
                        r
                    }
                    None => b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                };
                let _ = stream.write_all(&response).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn downloads_revoke_failures_keep_the_last_good_crl_and_a_restart_restores_it() {
    let root = TestCa::root("FETCH ROOT").unwrap();
    let intermediate = root.intermediate("FETCH INTERMEDIATE").unwrap();
    let mut spec = LeafSpec::new(&[("CN", "app.fetch.test")]);
    spec.client_auth = true;
    let app = intermediate.issue(&spec).unwrap();
    let t = OffsetDateTime::now_utc();
    let empty = intermediate
        .crl(
            &[],
            t - time::Duration::hours(2),
            t + time::Duration::days(7),
        )
        .unwrap();
    let body = Arc::new(Mutex::new(Some(empty.der.to_vec())));
    let url = crl_server(body.clone()).await;
    let config = TrustConfig {
        anchors: vec![root.cert_der().clone()],
        crl_urls: vec![url.clone()],
        ..Default::default()
    };
    let validator = Arc::new(ChainValidator::new(config.clone()).unwrap());
    let chain = [intermediate.cert_der().clone()];
    let check = |v: &ChainValidator| {
        v.validate(&app.cert_der, &chain, Usage::ClientAuth, UnixTime::now())
            .map(|_| ())
    };
    // The validated chain teaches the validator the intermediate that signs the CRLs.
    check(&validator).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = CrlCache::new(dir.path().join("fetched"));
    let client = mssd_crl_fetch::crl_client(rustls::RootCertStore::empty()).unwrap();
    let fetcher = CrlFetcher::new(validator.clone(), client, cache.clone());
    assert_eq!(fetcher.refresh().await, 1);
    check(&validator).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("fetched"))
            .unwrap()
            .count(),
        1
    );

    // The CA revokes the certificate: refused after the next download, in PEM this time.
    let revoking = intermediate
        .crl(
            &[&app.serial],
            t - time::Duration::hours(1),
            t + time::Duration::days(7),
        )
        .unwrap();
    *body.lock().unwrap() = Some(revoking.pem.into_bytes());
    assert_eq!(fetcher.refresh().await, 1);
    assert!(matches!(check(&validator), Err(mssd_certs::Error::Revoked)));

    // The server fails, then serves the older CRL again: the revocation holds.
    *body.lock().unwrap() = None;
    assert_eq!(fetcher.refresh().await, 0);
    *body.lock().unwrap() = Some(empty.der.to_vec());
    assert_eq!(fetcher.refresh().await, 0);
    assert!(matches!(check(&validator), Err(mssd_certs::Error::Revoked)));
    let status = fetcher.status();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].failures, 1);
    assert!(status[0].last_error.is_none(), "{:?}", status[0].last_error);

    // A restart with the CA's server down: the saved CRL is back in force.
    *body.lock().unwrap() = None;
    let restarted = ChainValidator::new(config).unwrap();
    // Its signer, the intermediate, is no anchor and no chain validated yet: the saved CRL
    // waits, and the first chain bringing the intermediate is judged by it.
    assert_eq!(cache.restore_into(&restarted), 0);
    assert!(matches!(check(&restarted), Err(mssd_certs::Error::Revoked)));
}
