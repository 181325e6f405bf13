//! ChainValidator on real chains made in the test: the precise error of each rejection.

mod common;

use common::{APP_DN, Hierarchy, SERVER_DN, app_spec, now, server_spec};
use mssd_certs::{
    CertInfo, ChainValidator, DistinguishedName, Error, LeafSpec, TestCa, TrustConfig, Usage,
};
use rustls_pki_types::UnixTime;
use time::{Duration, OffsetDateTime};

fn validate(
    pki: &Hierarchy,
    validator: &ChainValidator,
    leaf: &mssd_certs::IssuedCert,
    usage: Usage,
) -> mssd_certs::Result<CertInfo> {
    validator.validate(
        &leaf.cert_der,
        &[pki.intermediate.cert_der().clone()],
        usage,
        now(),
    )
}

#[test]
fn valid_chain_gives_the_certificate_info() {
    let pki = Hierarchy::new();
    let spec = LeafSpec {
        policy_oids: vec!["1.2.3.4.5".into()],
        ..server_spec()
    };
    let server = pki.issue(&spec);
    let info = validate(&pki, &pki.validator(Vec::new()), &server, Usage::ServerAuth).unwrap();
    assert_eq!(info.subject, DistinguishedName::parse(SERVER_DN).unwrap());
    assert_eq!(info.issuer, *pki.intermediate.subject());
    assert_eq!(info.common_name.as_deref(), Some("mail.hopital-a.test"));
    assert_eq!(info.dns_names, vec!["mail.hopital-a.test".to_string()]);
    assert!(info.ekus.server_auth && info.ekus.client_auth);
    assert_eq!(info.policy_oids, vec!["1.2.3.4.5".to_string()]);
    assert_eq!(info.id_nat_struct.unwrap().to_string(), "1990000002");
    assert_eq!(info.id_nat_ps, None);
    let hex: String = server.serial.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(info.serial_hex, hex);
    assert_eq!(
        info.not_after.unix_timestamp(),
        spec.not_after.unix_timestamp()
    );
    assert_eq!(
        info.not_before.unix_timestamp(),
        spec.not_before.unix_timestamp()
    );
    // The same MTA certificate also authenticates as a client.
    assert!(validate(&pki, &pki.validator(Vec::new()), &server, Usage::ClientAuth).is_ok());
}

#[test]
fn subject_dn_matches_whitelist_spellings_but_not_other_values() {
    let pki = Hierarchy::new();
    let server = pki.issue(&server_spec());
    let subject = DistinguishedName::from_certificate(&server.cert_der).unwrap();
    // The certificate encodes C first; RFC 4514 text starts from the last RDN, as the
    // whitelist does.
    assert_eq!(
        subject.to_string(),
        "CN=mail.hopital-a.test,OU=1990000002,O=HOPITAL A,ST=Paris (75),C=FR"
    );
    let equal = [
        SERVER_DN,
        "CN=mail.hopital-a.test, OU=1990000002, O=HOPITAL A, ST=Paris (75), C=FR",
        "c=FR,st=Paris (75),o=HOPITAL A,ou=1990000002,cn=mail.hopital-a.test",
        "CN = MAIL.HOPITAL-A.TEST,OU=1990000002,O=Hopital  A,ST=paris (75),C=fr",
        "OU=1990000002,CN=mail.hopital-a.test,C=FR,O=HOPITAL A,ST=Paris (75)",
    ];
    for dn in equal {
        assert_eq!(DistinguishedName::parse(dn).unwrap(), subject, "{dn:?}");
    }
    let different = [
        "CN=mail.hopital-b.test,OU=1990000002,O=HOPITAL A,ST=Paris (75),C=FR",
        "CN=mail.hopital-a.test,OU=1990000010,O=HOPITAL A,ST=Paris (75),C=FR",
        "CN=mail.hopital-a.test,OU=1990000002,O=HOPITAL A,ST=Lyon (69),C=FR",
        "CN=mail.hopital-a.test,OU=1990000002,O=HOPITAL A,C=FR",
    ];
    for dn in different {
        assert_ne!(DistinguishedName::parse(dn).unwrap(), subject, "{dn:?}");
    }
}

#[test]
fn other_ca_with_same_names_is_untrusted() {
    let pki = Hierarchy::new();
    let rogue_root = TestCa::root(common::ROOT_CN).unwrap();
    let rogue_intermediate = rogue_root.intermediate(common::INTERMEDIATE_CN).unwrap();
    let impostor = rogue_intermediate.issue(&app_spec()).unwrap();
    assert_eq!(
        DistinguishedName::from_certificate(&impostor.cert_der).unwrap(),
        DistinguishedName::parse(APP_DN).unwrap()
    );
    let validator = pki.validator(Vec::new());
    for intermediates in [
        vec![rogue_intermediate.cert_der().clone()],
        vec![pki.intermediate.cert_der().clone()],
    ] {
        let result =
            validator.validate(&impostor.cert_der, &intermediates, Usage::ClientAuth, now());
        assert!(matches!(result, Err(Error::UntrustedIssuer)), "{result:?}");
    }
}

#[test]
fn missing_intermediate_is_untrusted() {
    let pki = Hierarchy::new();
    let app = pki.issue(&app_spec());
    let result = pki
        .validator(Vec::new())
        .validate(&app.cert_der, &[], Usage::ClientAuth, now());
    assert!(matches!(result, Err(Error::UntrustedIssuer)), "{result:?}");
}

#[test]
fn validity_period_is_enforced() {
    let pki = Hierarchy::new();
    let now_dt = OffsetDateTime::now_utc();
    let expired_at = now_dt - Duration::days(2);
    let expired = pki.issue(&LeafSpec {
        not_before: now_dt - Duration::days(300),
        not_after: expired_at,
        ..app_spec()
    });
    match validate(
        &pki,
        &pki.validator(Vec::new()),
        &expired,
        Usage::ClientAuth,
    ) {
        Err(Error::Expired { not_after }) => {
            assert_eq!(not_after.unix_timestamp(), expired_at.unix_timestamp());
        }
        other => panic!("expected Expired, got {other:?}"),
    }
    let starts_at = now_dt + Duration::days(2);
    let future = pki.issue(&LeafSpec {
        not_before: starts_at,
        not_after: now_dt + Duration::days(300),
        ..app_spec()
    });
    match validate(&pki, &pki.validator(Vec::new()), &future, Usage::ClientAuth) {
        Err(Error::NotYetValid { not_before }) => {
            assert_eq!(not_before.unix_timestamp(), starts_at.unix_timestamp());
        }
        other => panic!("expected NotYetValid, got {other:?}"),
    }
}

#[test]
fn extended_key_usage_is_enforced() {
    let pki = Hierarchy::new();
    let client_only = pki.issue(&app_spec());
    let server_only = pki.issue(&LeafSpec {
        client_auth: false,
        ..server_spec()
    });
    let validator = pki.validator(Vec::new());
    let cases = [
        (&client_only, Usage::ServerAuth, "serverAuth"),
        (&server_only, Usage::ClientAuth, "clientAuth"),
    ];
    for (leaf, usage, expected) in cases {
        match validate(&pki, &validator, leaf, usage) {
            Err(Error::WrongUsage { needed }) => assert_eq!(needed, expected),
            other => panic!("expected WrongUsage, got {other:?}"),
        }
    }
    assert!(validate(&pki, &validator, &client_only, Usage::ClientAuth).is_ok());
    assert!(validate(&pki, &validator, &server_only, Usage::ServerAuth).is_ok());
}

#[test]
fn revocation_by_the_issuer_crl() {
    let pki = Hierarchy::new();
    let revoked = pki.issue(&app_spec());
    let fine = pki.issue(&app_spec());
    let t = OffsetDateTime::now_utc();
    let crl = pki
        .intermediate
        .crl(
            &[&revoked.serial],
            t - Duration::hours(1),
            t + Duration::days(7),
        )
        .unwrap();
    let validator = pki.validator(vec![crl.der.clone()]);
    let result = validate(&pki, &validator, &revoked, Usage::ClientAuth);
    assert!(matches!(result, Err(Error::Revoked)), "{result:?}");
    assert!(validate(&pki, &validator, &fine, Usage::ClientAuth).is_ok());
    assert!(
        validate(
            &pki,
            &pki.validator(Vec::new()),
            &revoked,
            Usage::ClientAuth
        )
        .is_ok()
    );
}

#[test]
fn a_crl_of_another_ca_does_not_block_certificates_of_ours() {
    let pki = Hierarchy::new();
    let app = pki.issue(&app_spec());
    let t = OffsetDateTime::now_utc();
    // The root's CRL lists the app serial, but the app certificate is issued by the
    // intermediate, which has no configured CRL: not revocation-checked (documented).
    let root_crl = pki
        .root
        .crl(
            &[&app.serial],
            t - Duration::hours(1),
            t + Duration::days(7),
        )
        .unwrap();
    let result = validate(
        &pki,
        &pki.validator(vec![root_crl.der.clone()]),
        &app,
        Usage::ClientAuth,
    );
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn stale_crl_is_still_used_and_reported() {
    let pki = Hierarchy::new();
    let revoked = pki.issue(&app_spec());
    let t = OffsetDateTime::now_utc();
    let stale = pki
        .intermediate
        .crl(
            &[&revoked.serial],
            t - Duration::days(10),
            t - Duration::days(3),
        )
        .unwrap();
    let fresh = pki
        .root
        .crl(&[], t - Duration::hours(1), t + Duration::days(3))
        .unwrap();
    let validator = pki.validator(vec![stale.der.clone(), fresh.der.clone()]);
    let result = validate(&pki, &validator, &revoked, Usage::ClientAuth);
    assert!(matches!(result, Err(Error::Revoked)), "{result:?}");
    let status = validator.crl_status(UnixTime::now());
    assert_eq!(status.len(), 2);
    assert_eq!(&status[0].issuer, pki.intermediate.subject());
    assert!(status[0].stale);
    assert_eq!(status[0].revoked_count, 1);
    assert_eq!(&status[1].issuer, pki.root.subject());
    assert!(!status[1].stale);
    assert_eq!(status[1].revoked_count, 0);
}

#[test]
fn accepted_policies_are_enforced() {
    let pki = Hierarchy::new();
    let with_policy = pki.issue(&LeafSpec {
        policy_oids: vec!["1.2.250.9.1".into(), "1.2.250.9.2".into()],
        ..app_spec()
    });
    let without = pki.issue(&app_spec());
    let validator = ChainValidator::new(TrustConfig {
        anchors: vec![pki.root.cert_der().clone()],
        crls: Vec::new(),
        accepted_policies: vec!["1.2.250.9.2".into()],
        ..Default::default()
    })
    .unwrap();
    let info = validate(&pki, &validator, &with_policy, Usage::ClientAuth).unwrap();
    assert_eq!(
        info.policy_oids,
        vec!["1.2.250.9.1".to_string(), "1.2.250.9.2".to_string()]
    );
    match validate(&pki, &validator, &without, Usage::ClientAuth) {
        Err(Error::PolicyNotAccepted { found }) => assert!(found.is_empty()),
        other => panic!("expected PolicyNotAccepted, got {other:?}"),
    }
}

#[test]
fn configuration_errors_are_precise() {
    let pki = Hierarchy::new();
    let empty = ChainValidator::new(TrustConfig::default());
    assert!(matches!(empty, Err(Error::NoTrustAnchor)), "{empty:?}");
    let bad_policy = ChainValidator::new(TrustConfig {
        anchors: vec![pki.root.cert_der().clone()],
        crls: Vec::new(),
        accepted_policies: vec!["igc-sante".into()],
        ..Default::default()
    });
    assert!(
        matches!(&bad_policy, Err(Error::BadPolicyOid(oid)) if oid == "igc-sante"),
        "{bad_policy:?}"
    );
    let bad_anchor = ChainValidator::new(TrustConfig {
        anchors: vec![vec![0x30, 0x03, 0x02, 0x01, 0x01].into()],
        ..TrustConfig::default()
    });
    assert!(
        matches!(bad_anchor, Err(Error::BadTrustAnchor(_))),
        "{bad_anchor:?}"
    );
    let bad_crl = ChainValidator::new(TrustConfig {
        anchors: vec![pki.root.cert_der().clone()],
        crls: vec![vec![0x30, 0x00].into()],
        accepted_policies: Vec::new(),
        ..Default::default()
    });
    assert!(matches!(bad_crl, Err(Error::BadCrl(_))), "{bad_crl:?}");
    let validator = pki.validator(Vec::new());
    assert_eq!(
        validator.anchor_subjects(),
        std::slice::from_ref(pki.root.subject())
    );
    let garbage = validator.validate(&vec![1, 2, 3].into(), &[], Usage::ClientAuth, now());
    assert!(
        matches!(garbage, Err(Error::BadCertificate(_))),
        "{garbage:?}"
    );
}
