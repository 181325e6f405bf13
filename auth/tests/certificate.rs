//! EXTERNAL with real certificates issued by mssd-certs' TestCa.

mod common;

use common::{Fixture, MailboxSpec, PEER, ctx, sasl};
use mssd_auth::{AuthConfig, FailureReason, Mechanism};
use mssd_certs::{CertInfo, LeafSpec, TEST_ID_NAT_PS, TEST_ID_NAT_STRUCT, TestCa};
use mssd_core::{IdNatPs, IdNatStruct, Identity, MailboxKind};
use mssd_store::{MailboxStatus, Store};

struct Certificates {
    app: CertInfo,
    personal: CertInfo,
    unbound: CertInfo,
}

fn certificates() -> Certificates {
    let root = TestCa::root("TEST AC RACINE IGC-SANTE ELEMENTAIRE").unwrap();
    let issue = |subject: &[(&str, &str)]| {
        let mut spec = LeafSpec::new(subject);
        spec.client_auth = true;
        CertInfo::parse(&root.issue(&spec).unwrap().cert_der).unwrap()
    };
    Certificates {
        app: issue(&[
            ("CN", "dmp-app.hopital.test.mssante.fr"),
            ("OU", TEST_ID_NAT_STRUCT),
            ("O", "CHU TEST"),
            ("C", "FR"),
        ]),
        personal: issue(&[("CN", TEST_ID_NAT_PS), ("O", "CHU TEST"), ("C", "FR")]),
        unbound: issue(&[("CN", "other-app"), ("O", "CHU TEST"), ("C", "FR")]),
    }
}

const APP: &str = "dmp-app@hopital.test.mssante.fr";
const PER: &str = "dr.martin@hopital.test.mssante.fr";

/// Ok((mailbox, identity)) or the failure reason.
type Expected<'a> = Result<(&'a str, &'a Identity), FailureReason>;

#[tokio::test]
async fn external_outcomes_table() {
    let certs = certificates();
    let fx = Fixture::new();
    fx.add(MailboxSpec {
        certificate_dn: Some(certs.app.subject.canonical()),
        ..MailboxSpec::new(APP, MailboxKind::App)
    })
    .await;
    fx.add(MailboxSpec {
        certificate_dn: Some(certs.personal.subject.canonical()),
        owner: Some(TEST_ID_NAT_PS),
        ..MailboxSpec::new(PER, MailboxKind::Per)
    })
    .await;
    let auth = fx.authenticator(AuthConfig::default());
    let application = Identity::Application {
        subject_dn: certs.app.subject.canonical(),
        id_nat_struct: Some(IdNatStruct::parse(TEST_ID_NAT_STRUCT).unwrap()),
    };
    let professional = Identity::Professional {
        id_nat_ps: IdNatPs::parse(TEST_ID_NAT_PS).unwrap(),
    };
    // (authzid sent, certificate, expected)
    let cases: Vec<(&str, Option<&CertInfo>, Expected)> = vec![
        ("", Some(&certs.app), Ok((APP, &application))),
        (APP, Some(&certs.app), Ok((APP, &application))),
        (
            "DMP-APP@hopital.test.mssante.fr",
            Some(&certs.app),
            Ok((APP, &application)),
        ),
        ("", Some(&certs.personal), Ok((PER, &professional))),
        (
            PER,
            Some(&certs.app),
            Err(FailureReason::InvalidCredentials),
        ),
        (
            "",
            Some(&certs.unbound),
            Err(FailureReason::InvalidCredentials),
        ),
        ("", None, Err(FailureReason::MechanismNotAllowed)),
    ];
    for (i, (authzid, cert, expected)) in cases.into_iter().enumerate() {
        let peer = format!("192.0.2.{}:6000", i + 1);
        let credentials = sasl(Mechanism::External, authzid.as_bytes());
        let got = auth
            .authenticate(credentials, &ctx(&peer, true, cert.cloned()))
            .await;
        match (got, expected) {
            (Ok(ok), Ok((address, identity))) => {
                assert_eq!(ok.mailbox.address.as_str(), address, "case {i}");
                assert_eq!(&ok.identity, identity, "case {i}");
                assert_eq!(ok.mechanism, Mechanism::External);
            }
            (Err(failure), Err(reason)) => {
                assert_eq!(failure.reason, reason, "case {i}: {failure:?}")
            }
            (got, expected) => panic!("case {i}: got {got:?}, expected {expected:?}"),
        }
    }
    let events = fx.audit().await;
    assert_eq!(events.len(), 7);
    assert_eq!(events[0].kind, "auth.success");
    assert_eq!(events[0].subject, APP);
    assert_eq!(
        events[0].detail["certificate_dn"],
        certs.app.subject.canonical()
    );
    assert_eq!(events[0].detail["mechanism"], "EXTERNAL");
    assert_eq!(events[5].kind, "auth.failure");
    assert_eq!(
        events[5].detail["certificate_dn"],
        certs.unbound.subject.canonical()
    );
    assert!(
        events[5].detail["detail"]
            .as_str()
            .unwrap()
            .contains("is bound to no mailbox"),
        "{:?}",
        events[5].detail
    );
    assert_eq!(events[6].detail["certificate_dn"], serde_json::Value::Null);
}

#[tokio::test]
async fn suspended_certificate_mailbox_is_refused() {
    let certs = certificates();
    let fx = Fixture::new();
    fx.add(MailboxSpec {
        certificate_dn: Some(certs.app.subject.canonical()),
        ..MailboxSpec::new(APP, MailboxKind::App)
    })
    .await;
    fx.store
        .set_mailbox_status(&APP.parse().unwrap(), MailboxStatus::Suspended)
        .await
        .unwrap();
    let auth = fx.authenticator(AuthConfig::default());
    let failure = auth
        .authenticate(
            sasl(Mechanism::External, b""),
            &ctx(PEER, true, Some(certs.app)),
        )
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::MailboxSuspended);
    assert_eq!(fx.audit().await[0].detail["reason"], "mailbox_suspended");
}
