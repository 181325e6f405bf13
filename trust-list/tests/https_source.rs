//! HTTPS sources are verified with the roots the fetcher is given only.

mod common;

use common::https::{HttpsServer, TestPki};
use common::{assert_refused, day, list_xml, sha256_hex, simple_entries};
use mssd_trust_list::{
    Checksum, FetchOptions, Fetcher, Location, RefreshOutcome, RefreshPolicy, TrustListHandle,
    TrustListSource,
};

fn source(url: &str, checksum: Option<Checksum>, anchors: &TestPki) -> TrustListSource {
    let fetcher = Fetcher::new(&[anchors.root_der()], FetchOptions::default()).unwrap();
    TrustListSource::new(Location::parse(url).unwrap(), checksum, fetcher)
}

#[tokio::test(flavor = "multi_thread")]
async fn list_from_a_server_of_the_configured_hierarchy_is_accepted_another_ca_refused() {
    let good_pki = TestPki::new("TEST ROOT GOOD");
    let rogue_pki = TestPki::new("TEST ROOT GOOD"); // same names, other keys
    let good = HttpsServer::start(&good_pki).await;
    let rogue = HttpsServer::start(&rogue_pki).await;

    let list_a = list_xml(&day(10), &simple_entries("a", 0..50));
    good.set("/liste.xml", list_a.clone());
    good.set(
        "/liste.xml.sha256",
        format!("{}  liste.xml\n", sha256_hex(list_a.as_bytes())),
    );

    let handle = TrustListHandle::new(RefreshPolicy::default());
    let report = handle
        .refresh(&source(
            &good.url("/liste.xml"),
            Some(Checksum::parse(&good.url("/liste.xml.sha256")).unwrap()),
            &good_pki,
        ))
        .await
        .unwrap();
    assert!(matches!(report.outcome, RefreshOutcome::Accepted { .. }));
    assert_eq!(report.domains, 50);
    assert!(handle.is_listed("d49.a.fr"));

    // The rogue server has the same certificate names, from a CA we do not trust.
    let mut entries_b = simple_entries("a", 0..50);
    entries_b.extend(simple_entries("b", 0..50));
    let list_b = list_xml(&day(11), &entries_b);
    rogue.set("/liste.xml", list_b);
    let err = handle
        .refresh(&source(&rogue.url("/liste.xml"), None, &good_pki))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "download");
    let text = err.to_string();
    // Same issuer names, other keys: webpki finds the named issuer and the signature fails.
    assert!(
        text.contains("invalid peer certificate")
            && (text.contains("BadSignature") || text.contains("UnknownIssuer")),
        "{text}"
    );
    assert!(handle.is_listed("d0.a.fr") && !handle.is_listed("d0.b.fr"));
    assert_refused(&handle.status(), "download", "invalid peer certificate", 1);

    // Trusting the rogue root instead is what it would take (and then it is accepted).
    handle
        .refresh(&source(&rogue.url("/liste.xml"), None, &rogue_pki))
        .await
        .unwrap();
    assert!(handle.is_listed("d0.b.fr"));
}

#[tokio::test(flavor = "multi_thread")]
async fn http_errors_and_checksum_mismatch_over_https_are_refused() {
    let pki = TestPki::new("TEST ROOT");
    let server = HttpsServer::start(&pki).await;
    let list = list_xml(&day(10), &simple_entries("a", 0..10));
    server.set("/liste.xml", list.clone());
    server.set("/bad.sha256", sha256_hex(b"something else"));
    let handle = TrustListHandle::new(RefreshPolicy::default());

    let err = handle
        .refresh(&source(&server.url("/missing.xml"), None, &pki))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 404"), "{err}");

    let err = handle
        .refresh(&source(
            &server.url("/liste.xml"),
            Some(Checksum::parse(&server.url("/bad.sha256")).unwrap()),
            &pki,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "checksum");
    assert!(handle.snapshot().is_empty(), "nothing accepted yet");

    // Over the size limit: refused from the Content-Length.
    let tiny = Fetcher::new(
        &[pki.root_der()],
        FetchOptions {
            max_bytes: 100,
            ..FetchOptions::default()
        },
    )
    .unwrap();
    let err = handle
        .refresh(&TrustListSource::new(
            Location::parse(&server.url("/liste.xml")).unwrap(),
            None,
            tiny,
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("limit of 100 bytes"), "{err}");
    assert_eq!(handle.status().refused, 3);
}
