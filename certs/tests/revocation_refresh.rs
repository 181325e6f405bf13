//! Revocation over the whole chain, downloaded CRLs offered to a running validator, the
//! stale-CRL policy and reloads: what `mssd serve` relies on to keep revocation fresh.

mod common;

use common::{Hierarchy, app_spec, now};
use mssd_certs::{
    ChainValidator, CrlOffer, Error, IssuedCert, StaleCrl, TestCa, TrustConfig, Usage,
};
use time::{Duration, OffsetDateTime};

fn validate(
    pki: &Hierarchy,
    validator: &ChainValidator,
    leaf: &IssuedCert,
) -> mssd_certs::Result<()> {
    validator
        .validate(
            &leaf.cert_der,
            &[pki.intermediate.cert_der().clone()],
            Usage::ClientAuth,
            now(),
        )
        .map(|_| ())
}

fn serial_of(ca: &TestCa) -> Vec<u8> {
    let (_, parsed) = x509_parser::parse_x509_certificate(ca.cert_der().as_ref()).unwrap();
    parsed.raw_serial().to_vec()
}

#[test]
fn an_intermediate_revoked_by_the_root_refuses_its_whole_branch() {
    let pki = Hierarchy::new();
    let app = pki.issue(&app_spec());
    let t = OffsetDateTime::now_utc();
    let serial = serial_of(&pki.intermediate);
    let arl = pki
        .root
        .crl(&[&serial], t - Duration::hours(1), t + Duration::days(7))
        .unwrap();
    let result = validate(&pki, &pki.validator(vec![arl.der.clone()]), &app);
    assert!(matches!(result, Err(Error::Revoked)), "{result:?}");
}

#[test]
fn a_downloaded_crl_takes_effect_only_when_signed_by_a_trusted_ca_and_newer() {
    let pki = Hierarchy::new();
    let app = pki.issue(&app_spec());
    let t = OffsetDateTime::now_utc();
    let first = pki
        .intermediate
        .crl(&[], t - Duration::hours(2), t + Duration::days(7))
        .unwrap();
    let validator = pki.validator(vec![first.der.clone()]);
    // Before any chain showed the intermediate, its CRL waits; the first chain that brings
    // the intermediate puts it in force and is judged by it.
    let early = pki
        .intermediate
        .crl(
            &[&app.serial],
            t - Duration::hours(1),
            t + Duration::days(7),
        )
        .unwrap();
    let waiting = validator
        .offer_crl(&early.der, "http://crl.test/early.crl")
        .unwrap();
    assert_eq!(waiting, CrlOffer::Pending);
    assert!(matches!(
        validate(&pki, &validator, &app),
        Err(Error::Revoked)
    ));
    let validator = pki.validator(vec![first.der.clone()]);
    assert!(validate(&pki, &validator, &app).is_ok());

    // The same names and another key: not the CA we trust.
    let impostor = TestCa::root(common::ROOT_CN)
        .unwrap()
        .intermediate(common::INTERMEDIATE_CN)
        .unwrap();
    let forged = impostor
        .crl(
            &[&app.serial],
            t - Duration::minutes(5),
            t + Duration::days(7),
        )
        .unwrap();
    let refused = validator.offer_crl(&forged.der, "http://crl.test/forged.crl");
    assert!(matches!(refused, Err(Error::BadCrl(_))), "{refused:?}");
    assert!(validate(&pki, &validator, &app).is_ok());

    // Signed by the intermediate, which the validated chain taught the validator.
    let next = pki
        .intermediate
        .crl(
            &[&app.serial],
            t - Duration::minutes(5),
            t + Duration::days(7),
        )
        .unwrap();
    let offer = validator
        .offer_crl(&next.der, "http://crl.test/inter.crl")
        .unwrap();
    assert!(
        matches!(offer, CrlOffer::Installed(ref s) if s.revoked_count == 1),
        "{offer:?}"
    );
    assert!(matches!(
        validate(&pki, &validator, &app),
        Err(Error::Revoked)
    ));

    // A replayed older CRL never brings the certificate back.
    let replay = validator
        .offer_crl(&first.der, "http://crl.test/inter.crl")
        .unwrap();
    assert_eq!(replay, CrlOffer::NotNewer);
    assert!(matches!(
        validate(&pki, &validator, &app),
        Err(Error::Revoked)
    ));
    assert_eq!(validator.fetched_crls().len(), 1);
    let sources: Vec<_> = validator
        .crl_status(now())
        .into_iter()
        .map(|s| s.source)
        .collect();
    assert_eq!(sources, ["http://crl.test/inter.crl"]);

    // A reload keeps what was downloaded.
    validator
        .reload(TrustConfig {
            anchors: vec![pki.root.cert_der().clone()],
            crls: vec![first.der.clone()],
            ..Default::default()
        })
        .unwrap();
    assert!(matches!(
        validate(&pki, &validator, &app),
        Err(Error::Revoked)
    ));
}

#[test]
fn a_stale_crl_refuses_only_when_the_policy_says_so() {
    let pki = Hierarchy::new();
    let app = pki.issue(&app_spec());
    let t = OffsetDateTime::now_utc();
    let stale = pki
        .intermediate
        .crl(&[], t - Duration::days(10), t - Duration::days(3))
        .unwrap();
    let config = |stale_crl| TrustConfig {
        anchors: vec![pki.root.cert_der().clone()],
        crls: vec![stale.der.clone()],
        stale_crl,
        ..Default::default()
    };
    let warn = ChainValidator::new(config(StaleCrl::Warn)).unwrap();
    assert!(validate(&pki, &warn, &app).is_ok());
    let refuse = ChainValidator::new(config(StaleCrl::Refuse)).unwrap();
    let result = validate(&pki, &refuse, &app);
    assert!(matches!(result, Err(Error::StaleCrl { .. })), "{result:?}");
    // A reload to "warn" lets it through again; a broken reload changes nothing.
    refuse.reload(config(StaleCrl::Warn)).unwrap();
    assert!(validate(&pki, &refuse, &app).is_ok());
    assert!(refuse.reload(TrustConfig::default()).is_err());
    assert!(validate(&pki, &refuse, &app).is_ok());
}

#[test]
fn crl_sources_list_the_configured_urls_then_the_distribution_points() {
    let pki = Hierarchy::new();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
        uris: vec![
            "http://crl.test/root.crl".into(),
            "ldap://crl.test/cn=root".into(),
        ],
    }];
    let anchor = params.self_signed(&key).unwrap();
    let validator = ChainValidator::new(TrustConfig {
        anchors: vec![pki.root.cert_der().clone(), anchor.der().clone()],
        crl_urls: vec!["http://crl.test/configured.crl".into()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        validator.crl_sources(),
        ["http://crl.test/configured.crl", "http://crl.test/root.crl"]
    );
}

#[test]
fn certificates_a_peer_sends_besides_the_path_sign_no_crl_and_weaken_nothing() {
    let pki = Hierarchy::new();
    let app = pki.issue(&app_spec());
    let t = OffsetDateTime::now_utc();
    // The root's CRL and an ARL of the intermediate (CA certificates only): every CA of the
    // path has a CRL, none gives the app's status, so it is refused...
    let arl = pki
        .root
        .crl(&[], t - Duration::hours(1), t + Duration::days(7))
        .unwrap();
    let partition = pki
        .intermediate
        .ca_only_crl(
            &[],
            t - Duration::hours(1),
            t + Duration::days(7),
            "http://crl.test/arl.crl",
        )
        .unwrap();
    let validator = pki.validator(vec![arl.der.clone(), partition.der.clone()]);
    let impostor = TestCa::root(common::ROOT_CN)
        .unwrap()
        .intermediate(common::INTERMEDIATE_CN)
        .unwrap();
    let junk = TestCa::root("JUNK").unwrap();
    let with = |extra: &[&TestCa]| {
        let mut chain = vec![pki.intermediate.cert_der().clone()];
        chain.extend(extra.iter().map(|ca| ca.cert_der().clone()));
        validator.validate(&app.cert_der, &chain, Usage::ClientAuth, now())
    };
    assert!(
        matches!(with(&[]), Err(Error::RevocationStatusUnknown)),
        "{:?}",
        with(&[])
    );
    // ...and still refused when the peer adds certificates that are not on the path.
    let padded = with(&[&impostor, &junk]);
    assert!(
        matches!(padded, Err(Error::RevocationStatusUnknown)),
        "{padded:?}"
    );

    // A validator without CRLs: the extra same-named certificate is not learned, so a CRL
    // it signed is refused and changes nothing.
    let open = pki.validator(Vec::new());
    let chain = [
        pki.intermediate.cert_der().clone(),
        impostor.cert_der().clone(),
    ];
    open.validate(&app.cert_der, &chain, Usage::ClientAuth, now())
        .unwrap();
    let forged = impostor
        .crl(
            &[&app.serial],
            t - Duration::minutes(1),
            t + Duration::days(7),
        )
        .unwrap();
    let refused = open.offer_crl(&forged.der, "http://crl.test/forged.crl");
    assert!(matches!(refused, Err(Error::BadCrl(_))), "{refused:?}");
    assert!(validate(&pki, &open, &app).is_ok());
    // A junk certificate's distribution points and key are not learned either.
    assert!(open.crl_sources().is_empty(), "{:?}", open.crl_sources());
}
