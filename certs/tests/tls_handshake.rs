//! Real TLS handshakes on 127.0.0.1 between our server and client configurations.

mod common;

use std::sync::Arc;

use common::{APP_DN, Hierarchy, SERVER_DN, app_spec, handshake, server_spec, tls_error};
use mssd_certs::{
    ClientAuth, DistinguishedName, LeafSpec, TestCa, client_config, peer_info, server_config,
};
use rustls::{AlertDescription, CertificateError, CipherSuite, ProtocolVersion};
use time::{Duration, OffsetDateTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ALLOWED_SUITES: [CipherSuite; 5] = [
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
];

/// Our server (client certificate required) with `server` and our client presenting `client`.
fn configs(
    pki: &Hierarchy,
    server: &mssd_certs::IssuedCert,
    client: Option<&mssd_certs::IssuedCert>,
    server_validator: Arc<mssd_certs::ChainValidator>,
) -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let server_cfg = server_config(
        pki.chain(server),
        server.private_key(),
        server_validator,
        ClientAuth::Required,
    )
    .unwrap();
    let identity = client.map(|c| (pki.chain(c), c.private_key()));
    let client_cfg = client_config(identity, pki.validator(Vec::new())).unwrap();
    (server_cfg, client_cfg)
}

#[tokio::test]
async fn valid_chains_are_accepted_both_ways_with_identities() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let app = pki.issue(&app_spec());
    let (s, c) = configs(&pki, &server, Some(&app), pki.validator(Vec::new()));
    let outcome = handshake(s, c).await;
    let server_side = outcome.server.expect("server accepts the app certificate");
    let client_side = outcome
        .client
        .expect("client accepts the server certificate");

    let seen_by_server = peer_info(&server_side.peer_certs).expect("client certificate info");
    assert_eq!(
        seen_by_server.subject,
        DistinguishedName::parse(APP_DN).unwrap()
    );
    assert_eq!(
        seen_by_server.id_nat_struct.unwrap().to_string(),
        "1990000002"
    );
    assert_eq!(
        server_side.peer_certs.len(),
        2,
        "leaf and intermediate sent"
    );

    let seen_by_client = peer_info(&client_side.peer_certs).expect("server certificate info");
    assert_eq!(
        seen_by_client.subject,
        DistinguishedName::parse(SERVER_DN).unwrap()
    );
    assert_eq!(seen_by_client.fqdn(), Some("mail.hopital-a.test"));
    assert_eq!(seen_by_client.issuer, *pki.intermediate.subject());

    assert_eq!(client_side.version, ProtocolVersion::TLSv1_3);
    assert_eq!(server_side.version, client_side.version);
    assert!(
        ALLOWED_SUITES.contains(&client_side.suite),
        "{:?}",
        client_side.suite
    );
}

#[tokio::test]
async fn personal_certificate_carries_id_nat_ps() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let personal = pki.issue(&LeafSpec {
        client_auth: true,
        ..LeafSpec::new(&[
            ("CN", "810999999997/DUPONT"),
            ("GN", "JEAN"),
            ("SN", "DUPONT"),
            ("C", "FR"),
        ])
    });
    let (s, c) = configs(&pki, &server, Some(&personal), pki.validator(Vec::new()));
    let outcome = handshake(s, c).await;
    let side = outcome.server.expect("personal certificate accepted");
    let info = peer_info(&side.peer_certs).unwrap();
    assert_eq!(info.id_nat_ps.unwrap().to_string(), "810999999997");
    assert_eq!(info.subject.first("GN"), Some("JEAN"));
    assert!(outcome.client.is_ok());
}

/// A second CA reusing the IGC-Santé names, issuing a certificate with the same subject DN.
fn rogue_hierarchy() -> Hierarchy {
    let root = TestCa::root(common::ROOT_CN).unwrap();
    let intermediate = root.intermediate(common::INTERMEDIATE_CN).unwrap();
    Hierarchy { root, intermediate }
}

#[tokio::test]
async fn client_from_another_ca_with_same_dn_is_rejected() {
    let pki = Hierarchy::new();
    let rogue = rogue_hierarchy();
    assert_eq!(rogue.intermediate.subject(), pki.intermediate.subject());
    let server = pki.issue(&server_spec());
    let impostor = rogue.issue(&app_spec());
    let server_cfg = server_config(
        pki.chain(&server),
        server.private_key(),
        pki.validator(Vec::new()),
        ClientAuth::Required,
    )
    .unwrap();
    let client_cfg = client_config(
        Some((rogue.chain(&impostor), impostor.private_key())),
        pki.validator(Vec::new()),
    )
    .unwrap();
    let outcome = handshake(server_cfg, client_cfg).await;
    assert_eq!(
        tls_error(&outcome.server),
        &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    assert_eq!(
        tls_error(&outcome.client),
        &rustls::Error::AlertReceived(AlertDescription::UnknownCA)
    );
}

#[tokio::test]
async fn server_from_another_ca_with_same_dn_is_rejected_by_client() {
    let pki = Hierarchy::new();
    let rogue = rogue_hierarchy();
    let impostor = rogue.issue(&server_spec());
    let app = pki.issue(&app_spec());
    let server_cfg = server_config(
        rogue.chain(&impostor),
        impostor.private_key(),
        rogue.validator(Vec::new()),
        ClientAuth::Required,
    )
    .unwrap();
    let client_cfg = client_config(
        Some((pki.chain(&app), app.private_key())),
        pki.validator(Vec::new()),
    )
    .unwrap();
    let outcome = handshake(server_cfg, client_cfg).await;
    assert_eq!(
        tls_error(&outcome.client),
        &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    assert_eq!(
        tls_error(&outcome.server),
        &rustls::Error::AlertReceived(AlertDescription::UnknownCA)
    );
}

#[tokio::test]
async fn expired_and_not_yet_valid_clients_are_rejected() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let now = OffsetDateTime::now_utc();
    let cases = [
        (
            now - Duration::days(400),
            now - Duration::days(1),
            CertificateError::Expired,
        ),
        (
            now + Duration::days(1),
            now + Duration::days(400),
            CertificateError::NotValidYet,
        ),
    ];
    for (not_before, not_after, expected) in cases {
        let client = pki.issue(&LeafSpec {
            not_before,
            not_after,
            ..app_spec()
        });
        let (s, c) = configs(&pki, &server, Some(&client), pki.validator(Vec::new()));
        let outcome = handshake(s, c).await;
        assert_eq!(
            tls_error(&outcome.server),
            &rustls::Error::InvalidCertificate(expected)
        );
        assert_eq!(
            tls_error(&outcome.client),
            &rustls::Error::AlertReceived(AlertDescription::CertificateExpired)
        );
    }
}

#[tokio::test]
async fn revoked_client_is_rejected_and_accepted_without_the_crl() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let client = pki.issue(&app_spec());
    let other = pki.issue(&app_spec());
    let now = OffsetDateTime::now_utc();
    let crl = pki
        .intermediate
        .crl(
            &[&client.serial],
            now - Duration::minutes(1),
            now + Duration::days(7),
        )
        .unwrap();

    let with_crl = pki.validator(vec![crl.der.clone()]);
    let (s, c) = configs(&pki, &server, Some(&client), with_crl.clone());
    let outcome = handshake(s, c).await;
    assert_eq!(
        tls_error(&outcome.server),
        &rustls::Error::InvalidCertificate(CertificateError::Revoked)
    );
    assert_eq!(
        tls_error(&outcome.client),
        &rustls::Error::AlertReceived(AlertDescription::CertificateRevoked)
    );

    // Another certificate of the same CA is not on the CRL.
    let (s, c) = configs(&pki, &server, Some(&other), with_crl);
    let outcome = handshake(s, c).await;
    assert!(outcome.server.is_ok(), "{:?}", outcome.server);

    // The revoked one without the CRL configured.
    let (s, c) = configs(&pki, &server, Some(&client), pki.validator(Vec::new()));
    let outcome = handshake(s, c).await;
    assert!(outcome.server.is_ok(), "{:?}", outcome.server);
    assert!(outcome.client.is_ok(), "{:?}", outcome.client);
}

#[tokio::test]
async fn client_without_client_auth_eku_is_rejected() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let server_only = pki.issue(&LeafSpec {
        client_auth: false,
        server_auth: true,
        ..app_spec()
    });
    let (s, c) = configs(&pki, &server, Some(&server_only), pki.validator(Vec::new()));
    let outcome = handshake(s, c).await;
    assert_eq!(
        tls_error(&outcome.server),
        &rustls::Error::InvalidCertificate(CertificateError::InvalidPurpose)
    );
    assert_eq!(
        tls_error(&outcome.client),
        &rustls::Error::AlertReceived(AlertDescription::UnsupportedCertificate)
    );
}

#[tokio::test]
async fn server_without_server_auth_eku_is_rejected() {
    let pki = Hierarchy::new();
    let client_only_server = pki.issue(&LeafSpec {
        server_auth: false,
        client_auth: true,
        ..server_spec()
    });
    let app = pki.issue(&app_spec());
    let (s, c) = configs(
        &pki,
        &client_only_server,
        Some(&app),
        pki.validator(Vec::new()),
    );
    let outcome = handshake(s, c).await;
    assert_eq!(
        tls_error(&outcome.client),
        &rustls::Error::InvalidCertificate(CertificateError::InvalidPurpose)
    );
    assert_eq!(
        tls_error(&outcome.server),
        &rustls::Error::AlertReceived(AlertDescription::UnsupportedCertificate)
    );
}

#[tokio::test]
async fn required_client_auth_refuses_a_client_without_certificate() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let (s, c) = configs(&pki, &server, None, pki.validator(Vec::new()));
    let outcome = handshake(s, c).await;
    assert_eq!(
        tls_error(&outcome.server),
        &rustls::Error::NoCertificatesPresented
    );
    assert!(outcome.client.is_err());
}

#[tokio::test]
async fn optional_client_auth_accepts_no_certificate_but_rejects_a_bad_one() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let optional = server_config(
        pki.chain(&server),
        server.private_key(),
        pki.validator(Vec::new()),
        ClientAuth::Optional,
    )
    .unwrap();
    let anonymous = client_config(None, pki.validator(Vec::new())).unwrap();
    let outcome = handshake(optional.clone(), anonymous).await;
    assert!(outcome.server.unwrap().peer_certs.is_empty());
    assert!(outcome.client.is_ok());

    let rogue = rogue_hierarchy();
    let impostor = rogue.issue(&app_spec());
    let client = client_config(
        Some((rogue.chain(&impostor), impostor.private_key())),
        pki.validator(Vec::new()),
    )
    .unwrap();
    let outcome = handshake(optional, client).await;
    assert_eq!(
        tls_error(&outcome.server),
        &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
}

#[tokio::test]
async fn deferred_client_auth_admits_the_certificate_for_the_caller_to_judge() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let validator = pki.validator(Vec::new());
    let deferred = server_config(
        pki.chain(&server),
        server.private_key(),
        validator.clone(),
        ClientAuth::Deferred,
    )
    .unwrap();
    let rogue = rogue_hierarchy();
    let impostor = rogue.issue(&app_spec());
    let client = client_config(
        Some((rogue.chain(&impostor), impostor.private_key())),
        pki.validator(Vec::new()),
    )
    .unwrap();
    // The handshake completes: the impostor proved it holds its key...
    let outcome = handshake(deferred.clone(), client).await;
    let seen = outcome
        .server
        .expect("deferred mode completes the handshake");
    assert_eq!(seen.peer_certs.len(), 2);
    // ...and the caller's validation, which must run before trusting the peer, refuses it.
    let (leaf, intermediates) = seen.peer_certs.split_first().unwrap();
    let verdict = validator.validate(
        leaf,
        intermediates,
        mssd_certs::Usage::ClientAuth,
        rustls::pki_types::UnixTime::now(),
    );
    assert!(
        matches!(verdict, Err(mssd_certs::Error::UntrustedIssuer)),
        "{verdict:?}"
    );

    // A genuine certificate passes the same caller-side validation; no certificate is allowed.
    let app = pki.issue(&app_spec());
    let client = client_config(
        Some((pki.chain(&app), app.private_key())),
        pki.validator(Vec::new()),
    )
    .unwrap();
    let seen = handshake(deferred.clone(), client).await.server.unwrap();
    let (leaf, intermediates) = seen.peer_certs.split_first().unwrap();
    assert!(
        validator
            .validate(
                leaf,
                intermediates,
                mssd_certs::Usage::ClientAuth,
                rustls::pki_types::UnixTime::now()
            )
            .is_ok()
    );
    let anonymous = client_config(None, pki.validator(Vec::new())).unwrap();
    assert!(
        handshake(deferred, anonymous)
            .await
            .server
            .unwrap()
            .peer_certs
            .is_empty()
    );
}

#[tokio::test]
async fn tls12_client_negotiates_an_ecdhe_rsa_gcm_suite() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let app = pki.issue(&app_spec());
    let server_cfg = server_config(
        pki.chain(&server),
        server.private_key(),
        pki.validator(Vec::new()),
        ClientAuth::Required,
    )
    .unwrap();
    // A TLS 1.2-only peer with our verifier, as another operator's older MTA would be.
    let verifier = Arc::new(mssd_certs::IgcServerVerifier::new(
        pki.validator(Vec::new()),
        mssd_certs::crypto_provider().signature_verification_algorithms,
    ));
    let tls12_client =
        rustls::ClientConfig::builder_with_provider(Arc::new(mssd_certs::crypto_provider()))
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(pki.chain(&app), app.private_key())
            .unwrap();
    let outcome = handshake(server_cfg, Arc::new(tls12_client)).await;
    let side = outcome.client.expect("TLS 1.2 handshake succeeds");
    assert_eq!(side.version, ProtocolVersion::TLSv1_2);
    assert!(
        [
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        ]
        .contains(&side.suite),
        "{:?}",
        side.suite
    );
    let info = peer_info(&outcome.server.unwrap().peer_certs).unwrap();
    assert_eq!(info.subject, DistinguishedName::parse(APP_DN).unwrap());
}

/// rustls cannot speak TLS 1.1, so the old client is a hand-written TLS 1.1 ClientHello.
#[tokio::test]
async fn tls11_only_client_is_refused_with_protocol_version_alert() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let server_cfg = server_config(
        pki.chain(&server),
        server.private_key(),
        pki.validator(Vec::new()),
        ClientAuth::Required,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accept = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tokio_rustls::TlsAcceptor::from(server_cfg)
            .accept(tcp)
            .await
            .map(|_| ())
    });
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&tls11_client_hello()).await.unwrap();
    let mut reply = Vec::new();
    tcp.read_to_end(&mut reply).await.unwrap();
    let server_result = accept.await.unwrap();
    // One alert record: type 21, then level fatal (2) and protocol_version (70).
    assert_eq!(reply.first(), Some(&21), "reply {reply:?}");
    assert_eq!(&reply[reply.len() - 2..], &[2, 70], "reply {reply:?}");
    let err = server_result.expect_err("server refuses TLS 1.1");
    let inner = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .unwrap();
    assert_eq!(
        inner,
        &rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered)
    );
}

fn tls11_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02]; // client_version TLS 1.1
    body.extend([0x42; 32]); // random
    body.push(0); // no session id
    body.extend([0x00, 0x04, 0xc0, 0x13, 0xc0, 0x14]); // ECDHE_RSA_AES_{128,256}_CBC_SHA
    body.extend([0x01, 0x00]); // null compression
    // signature_algorithms (rsa_pkcs1_sha256/384/512): old clients sent it, and rustls wants
    // it before it looks at the version.
    let sig_algs = [0x00, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01];
    let mut extensions = vec![0x00, 0x0d, 0x00, sig_algs.len() as u8];
    extensions.extend(sig_algs);
    body.extend(u16::try_from(extensions.len()).unwrap().to_be_bytes());
    body.extend(extensions);
    let mut handshake = vec![0x01, 0x00];
    handshake.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x02];
    record.extend(u16::try_from(handshake.len()).unwrap().to_be_bytes());
    record.extend(handshake);
    record
}

/// A client that reconnects resumes its session (a TLS 1.3 ticket): no full handshake, and
/// the server still sees the client's certificate chain, which the sessions validate again.
#[tokio::test]
async fn a_reconnecting_client_resumes_with_its_certificate() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let app = pki.issue(&app_spec());
    let (s, c) = configs(&pki, &server, Some(&app), pki.validator(Vec::new()));
    let first = handshake(s.clone(), c.clone()).await;
    let (server_side, client_side) = (first.server.unwrap(), first.client.unwrap());
    assert!(!server_side.resumed && !client_side.resumed);
    for _ in 0..3 {
        let again = handshake(s.clone(), c.clone()).await;
        let (server_side, client_side) = (again.server.unwrap(), again.client.unwrap());
        assert!(
            client_side.resumed && server_side.resumed,
            "resumed on both sides"
        );
        let seen = peer_info(&server_side.peer_certs).expect("the chain is kept");
        assert_eq!(seen.subject, DistinguishedName::parse(APP_DN).unwrap());
        assert_eq!(server_side.version, ProtocolVersion::TLSv1_3);
    }
}
