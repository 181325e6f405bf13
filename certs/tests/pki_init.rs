//! `init_pki` writes a test PKI whose files load back, validate and serve TLS.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Instant;

use mssd_certs::{
    ChainValidator, ClientAuth, DistinguishedName, Error, TrustConfig, Usage, client_config,
    init_pki, load_certs, load_crls, load_private_key, peer_info, server_config,
};
use rustls_pki_types::UnixTime;

#[test]
fn init_pki_writes_files_that_load_and_validate() {
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    let started = Instant::now();
    let layout = init_pki(&pki_dir, "hopital.test.mssante.fr", false).unwrap();
    eprintln!("init_pki took {:?}", started.elapsed());

    assert_eq!(layout.server_name, "mail.hopital.test.mssante.fr");
    assert_eq!(
        layout.server_subject,
        "CN=mail.hopital.test.mssante.fr,OU=1990000002,O=MSSD TEST HOPITAL,ST=Paris (75),C=FR"
    );
    assert_eq!(
        layout.intermediate_subject,
        "CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR"
    );
    assert_eq!(
        layout.root_subject,
        "CN=TEST AC RACINE IGC-SANTE ELEMENTAIRE,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR"
    );

    let root = load_certs(&layout.root_cert).unwrap();
    let crls = load_crls(&layout.crl).unwrap();
    assert_eq!((root.len(), crls.len()), (1, 1));
    let validator = ChainValidator::new(TrustConfig {
        anchors: root,
        crls,
        accepted_policies: Vec::new(),
        ..Default::default()
    })
    .unwrap();
    let status = validator.crl_status(UnixTime::now());
    assert_eq!(status.len(), 1);
    assert!(!status[0].stale);
    assert_eq!(
        status[0].issuer,
        DistinguishedName::parse(&layout.intermediate_subject).unwrap()
    );

    let server_chain = load_certs(&layout.server_cert).unwrap();
    assert_eq!(
        server_chain.len(),
        2,
        "server.pem holds leaf + intermediate"
    );
    assert_eq!(
        load_certs(&layout.intermediate_cert).unwrap()[0],
        server_chain[1]
    );
    for usage in [Usage::ServerAuth, Usage::ClientAuth] {
        let info = validator
            .validate(&server_chain[0], &server_chain[1..], usage, UnixTime::now())
            .unwrap();
        assert_eq!(
            info.subject,
            DistinguishedName::parse(&layout.server_subject).unwrap()
        );
        assert_eq!(
            info.id_nat_struct.as_ref().unwrap().to_string(),
            layout.id_nat_struct
        );
        assert_eq!(info.fqdn(), Some("mail.hopital.test.mssante.fr"));
        assert!(info.dns_names.contains(&"localhost".to_string()));
    }

    let intermediate = load_certs(&layout.intermediate_cert).unwrap();
    let app = load_certs(&layout.app_cert).unwrap();
    let app_info = validator
        .validate(&app[0], &intermediate, Usage::ClientAuth, UnixTime::now())
        .unwrap();
    assert_eq!(
        app_info.subject,
        DistinguishedName::parse(&layout.app_subject).unwrap()
    );
    assert_eq!(
        app_info.id_nat_struct.unwrap().to_string(),
        layout.id_nat_struct
    );
    let app_as_server =
        validator.validate(&app[0], &intermediate, Usage::ServerAuth, UnixTime::now());
    assert!(
        matches!(
            app_as_server,
            Err(Error::WrongUsage {
                needed: "serverAuth"
            })
        ),
        "{app_as_server:?}"
    );

    let personal = load_certs(&layout.personal_cert).unwrap();
    let personal_info = validator
        .validate(
            &personal[0],
            &intermediate,
            Usage::ClientAuth,
            UnixTime::now(),
        )
        .unwrap();
    assert_eq!(
        personal_info.id_nat_ps.unwrap().to_string(),
        layout.id_nat_ps
    );
    assert_eq!(
        personal_info.subject,
        DistinguishedName::parse(&layout.personal_subject).unwrap()
    );

    for key in [&layout.server_key, &layout.app_key, &layout.personal_key] {
        load_private_key(key).unwrap();
        let mode = std::fs::metadata(key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
    }
}

#[test]
fn second_init_refuses_to_overwrite_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let first = init_pki(dir.path(), "clinique.test.mssante.fr", false).unwrap();
    let before = std::fs::read(&first.server_cert).unwrap();
    match init_pki(dir.path(), "clinique.test.mssante.fr", false) {
        Err(Error::AlreadyExists { path }) => assert_eq!(path, first.root_cert),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&first.server_cert).unwrap(),
        before,
        "nothing rewritten"
    );
    let again = init_pki(dir.path(), "clinique.test.mssante.fr", true).unwrap();
    assert_ne!(
        std::fs::read(&again.server_cert).unwrap(),
        before,
        "force rewrites"
    );
}

#[test]
fn init_pki_rejects_a_bad_domain() {
    let dir = tempfile::tempdir().unwrap();
    let result = init_pki(dir.path(), "Bad Domain", false);
    assert!(
        matches!(&result, Err(Error::BadDomain { domain, .. }) if domain == "Bad Domain"),
        "{result:?}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[tokio::test]
async fn initialised_pki_serves_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let layout = init_pki(dir.path(), "hopital.test.mssante.fr", false).unwrap();
    let validator = Arc::new(
        ChainValidator::new(TrustConfig {
            anchors: load_certs(&layout.root_cert).unwrap(),
            crls: load_crls(&layout.crl).unwrap(),
            accepted_policies: Vec::new(),
            ..Default::default()
        })
        .unwrap(),
    );
    let server = server_config(
        load_certs(&layout.server_cert).unwrap(),
        load_private_key(&layout.server_key).unwrap(),
        validator.clone(),
        ClientAuth::Required,
    )
    .unwrap();
    let mut app_chain = load_certs(&layout.app_cert).unwrap();
    app_chain.extend(load_certs(&layout.intermediate_cert).unwrap());
    let client = client_config(
        Some((app_chain, load_private_key(&layout.app_key).unwrap())),
        validator,
    )
    .unwrap();
    let outcome = common::handshake(server, client).await;
    let server_side = outcome.server.expect("server accepts app.pem");
    outcome.client.expect("client accepts server.pem");
    let info = peer_info(&server_side.peer_certs).unwrap();
    assert_eq!(
        info.subject,
        DistinguishedName::parse(&layout.app_subject).unwrap()
    );
}

#[test]
fn a_second_operator_issued_from_the_first_ca_validates_against_the_same_root() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let a = mssd_certs::init_pki(first.path(), "hopital-a.test.mssante.fr", false).unwrap();
    let b = mssd_certs::init_pki_from(
        second.path(),
        "clinique-b.test.mssante.fr",
        false,
        Some(first.path()),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&a.root_cert).unwrap(),
        std::fs::read(&b.root_cert).unwrap(),
        "one hierarchy: the same root"
    );
    let key_mode = std::fs::metadata(&b.intermediate_key)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(key_mode, 0o600);
    // B's server certificate validates with A's root as the only anchor.
    let validator = mssd_certs::ChainValidator::new(mssd_certs::TrustConfig {
        anchors: mssd_certs::load_certs(&a.root_cert).unwrap(),
        crls: mssd_certs::load_crls(&a.crl).unwrap(),
        accepted_policies: Vec::new(),
        ..Default::default()
    })
    .unwrap();
    let chain = mssd_certs::load_certs(&b.server_cert).unwrap();
    let info = validator
        .validate(
            &chain[0],
            &chain[1..],
            mssd_certs::Usage::ServerAuth,
            rustls::pki_types::UnixTime::now(),
        )
        .unwrap();
    assert_eq!(info.subject.to_string(), b.server_subject);
    assert!(
        b.server_subject
            .starts_with("CN=mail.clinique-b.test.mssante.fr,")
    );
    // A missing CA directory is a precise error.
    let third = tempfile::tempdir().unwrap();
    let err = mssd_certs::init_pki_from(
        third.path(),
        "x.test.fr",
        false,
        Some(&third.path().join("none")),
    )
    .unwrap_err();
    assert!(err.to_string().contains("root.pem"), "{err}");
}
