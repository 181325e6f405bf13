//! PLAIN / LOGIN against a real SqliteStore: outcomes, categories, audit and throttling.

mod common;

use std::time::Duration;

use common::{CountingVerifier, Fixture, MailboxSpec, PEER, ctx, plain, sasl};
use mssd_auth::{AuthConfig, FailureReason, Mechanism, ThrottleConfig};
use mssd_core::{Identity, MailboxKind};
use mssd_store::{MailboxStatus, Store};

const PASSWORD: &str = "correct horse battery staple";

async fn fixture_with_mailboxes() -> Fixture {
    let fx = Fixture::new();
    for (address, kind) in [
        ("dr.martin@hopital.test.mssante.fr", MailboxKind::Per),
        ("secretariat@hopital.test.mssante.fr", MailboxKind::Org),
        (
            "295109912611193@patient.test.mssante.fr",
            MailboxKind::Citizen,
        ),
        ("suspendu@hopital.test.mssante.fr", MailboxKind::Per),
    ] {
        fx.add(MailboxSpec {
            password: Some(PASSWORD),
            ..MailboxSpec::new(address, kind)
        })
        .await;
    }
    fx.add(MailboxSpec::new(
        "sans-mdp@hopital.test.mssante.fr",
        MailboxKind::App,
    ))
    .await;
    fx.store
        .set_mailbox_status(
            &"suspendu@hopital.test.mssante.fr".parse().unwrap(),
            MailboxStatus::Suspended,
        )
        .await
        .unwrap();
    fx
}

#[tokio::test]
async fn password_outcomes_table() {
    let fx = fixture_with_mailboxes().await;
    let verifier = CountingVerifier::new();
    let auth = fx
        .authenticator(AuthConfig::default())
        .with_password_verifier(verifier.clone());
    let login = |user: &str, pw: &str| {
        let (mut exchange, _) = mssd_auth::SaslExchange::start(Mechanism::Login, None);
        exchange.step(user.as_bytes());
        match exchange.step(pw.as_bytes()) {
            mssd_auth::Step::Done(c) => c,
            other => panic!("{other:?}"),
        }
    };
    // (credentials, expected: Ok(address) or Err(reason), expected detail fragment)
    let cases = [
        (plain("dr.martin@hopital.test.mssante.fr", PASSWORD), Ok("dr.martin@hopital.test.mssante.fr"), ""),
        (plain("Dr.Martin@HOPITAL.test.mssante.fr", PASSWORD), Ok("dr.martin@hopital.test.mssante.fr"), ""),
        (login("secretariat@hopital.test.mssante.fr", PASSWORD), Ok("secretariat@hopital.test.mssante.fr"), ""),
        (
            sasl(Mechanism::Plain, format!("dr.martin@hopital.test.mssante.fr\0dr.martin@hopital.test.mssante.fr\0{PASSWORD}").as_bytes()),
            Ok("dr.martin@hopital.test.mssante.fr"),
            "",
        ),
        (plain("dr.martin@hopital.test.mssante.fr", "wrong"), Err(FailureReason::InvalidCredentials), "wrong password"),
        (plain("nobody@hopital.test.mssante.fr", PASSWORD), Err(FailureReason::InvalidCredentials), "no mailbox"),
        (plain("not an address", PASSWORD), Err(FailureReason::InvalidCredentials), "not a mail address"),
        (plain("sans-mdp@hopital.test.mssante.fr", PASSWORD), Err(FailureReason::InvalidCredentials), "has no password"),
        (plain("suspendu@hopital.test.mssante.fr", PASSWORD), Err(FailureReason::MailboxSuspended), "suspended"),
        // A wrong password on a suspended mailbox says nothing about the suspension.
        (plain("suspendu@hopital.test.mssante.fr", "wrong"), Err(FailureReason::InvalidCredentials), "wrong password"),
        (
            plain("295109912611193@patient.test.mssante.fr", PASSWORD),
            Err(FailureReason::MechanismNotAllowed),
            "password login is disabled for CITIZEN mailboxes",
        ),
        (
            sasl(Mechanism::Plain, format!("secretariat@hopital.test.mssante.fr\0dr.martin@hopital.test.mssante.fr\0{PASSWORD}").as_bytes()),
            Err(FailureReason::InvalidCredentials),
            "proxy authorization is not supported",
        ),
    ];
    // One client IP per case, so the per-IP throttle stays out of this table.
    for (i, (credentials, expected, detail)) in cases.into_iter().enumerate() {
        let label = format!("{credentials:?}");
        let peer = format!("192.0.2.{}:5000", i + 1);
        let got = auth
            .authenticate(credentials, &ctx(&peer, true, None))
            .await;
        match (got, expected) {
            (Ok(ok), Ok(address)) => {
                assert_eq!(ok.mailbox.address.as_str(), address, "{label}");
                assert_eq!(
                    ok.identity,
                    Identity::MailboxUser {
                        address: ok.mailbox.address.clone()
                    },
                    "{label}"
                );
                assert!(matches!(ok.mechanism, Mechanism::Plain | Mechanism::Login));
            }
            (Err(failure), Err(reason)) => {
                assert_eq!(failure.reason, reason, "{label}");
                assert!(
                    failure.detail.contains(detail),
                    "{label}: {}",
                    failure.detail
                );
                assert_eq!(failure.bearer_challenge(), None);
                assert!(
                    !failure.detail.contains("295109912611193"),
                    "{}",
                    failure.detail
                );
            }
            (got, expected) => panic!("{label}: got {got:?}, expected {expected:?}"),
        }
    }
    // Every attempt but the proxy-authorization one ran exactly one argon2 verification;
    // the unknown account and the non-address ran it against the dummy hash.
    assert_eq!(verifier.calls(), (11, 2));
    // One audit record per attempt.
    assert_eq!(fx.audit().await.len(), 12);
}

#[tokio::test]
async fn unknown_account_and_wrong_password_look_the_same_to_the_client() {
    let fx = fixture_with_mailboxes().await;
    let auth = fx.authenticator(AuthConfig::default());
    let wrong = auth
        .authenticate(
            plain("dr.martin@hopital.test.mssante.fr", "nope"),
            &ctx(PEER, true, None),
        )
        .await
        .unwrap_err();
    let unknown = auth
        .authenticate(
            plain("ghost@hopital.test.mssante.fr", "nope"),
            &ctx(PEER, true, None),
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.reason, unknown.reason);
    assert_eq!(
        wrong.reason.client_message(),
        unknown.reason.client_message()
    );
    assert_ne!(
        wrong.detail, unknown.detail,
        "operators still see the difference"
    );
}

#[tokio::test]
async fn audit_records_success_and_failure() {
    let fx = fixture_with_mailboxes().await;
    let auth = fx.authenticator(AuthConfig::default());
    let citizen = "295109912611193@patient.test.mssante.fr";
    auth.authenticate(
        plain("dr.martin@hopital.test.mssante.fr", PASSWORD),
        &ctx(PEER, true, None),
    )
    .await
    .unwrap();
    auth.authenticate(plain(citizen, "wrong"), &ctx(PEER, true, None))
        .await
        .unwrap_err();
    let events = fx.audit().await;
    assert_eq!(events.len(), 2);
    let success = &events[0];
    assert_eq!(success.kind, "auth.success");
    assert_eq!(success.outcome, "success");
    assert_eq!(success.actor, "192.0.2.10");
    assert_eq!(success.subject, "dr.martin@hopital.test.mssante.fr");
    assert_eq!(success.detail["mechanism"], "PLAIN");
    assert_eq!(success.detail["protocol"], "submission");
    assert_eq!(
        success.detail["identity"],
        "mailbox-user address=\"dr.martin@hopital.test.mssante.fr\""
    );
    let failure = &events[1];
    assert_eq!(failure.kind, "auth.failure");
    assert_eq!(failure.outcome, "failure");
    // The audit trail is the one place where a citizen address is kept in clear.
    assert_eq!(failure.subject, citizen);
    assert_eq!(failure.detail["reason"], "invalid_credentials");
    assert!(failure.at > 1_600_000_000_000, "unix ms: {}", failure.at);
}

#[tokio::test]
async fn no_tls_means_no_mechanism_and_refusal() {
    let fx = fixture_with_mailboxes().await;
    let auth = fx.authenticator(AuthConfig::default());
    assert_eq!(auth.mechanisms(false, false), vec![]);
    assert_eq!(auth.mechanisms(false, true), vec![]);
    assert_eq!(
        auth.mechanisms(true, false),
        vec![Mechanism::Plain, Mechanism::Login]
    );
    assert_eq!(
        auth.mechanisms(true, true),
        vec![Mechanism::External, Mechanism::Plain, Mechanism::Login]
    );
    let no_passwords = fx.authenticator(AuthConfig {
        password_kinds: vec![],
        ..AuthConfig::default()
    });
    assert_eq!(no_passwords.mechanisms(true, false), vec![]);
    let refused = no_passwords
        .authenticate(
            plain("dr.martin@hopital.test.mssante.fr", PASSWORD),
            &ctx(PEER, true, None),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.reason, FailureReason::MechanismNotAllowed);

    let failure = auth
        .authenticate(
            plain("dr.martin@hopital.test.mssante.fr", PASSWORD),
            &ctx(PEER, false, None),
        )
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::TlsRequired);
    let events = fx.audit().await;
    assert_eq!(events.last().unwrap().detail["reason"], "tls_required");
}

/// Per (IP, account) and per IP, never per account: addresses are public in the Annuaire,
/// and wrong passwords from one IP must not lock the owner out from another.
#[tokio::test]
async fn failures_are_throttled_per_ip_and_account_never_per_account() {
    let fx = fixture_with_mailboxes().await;
    let auth = fx.authenticator(AuthConfig {
        throttle: ThrottleConfig {
            max_failures: 3,
            ..ThrottleConfig::default()
        },
        ..AuthConfig::default()
    });
    let martin = "dr.martin@hopital.test.mssante.fr";
    let attacker = "198.51.100.7:40000";
    for _ in 0..3 {
        let failure = auth
            .authenticate(plain(martin, "guess"), &ctx(attacker, true, None))
            .await
            .unwrap_err();
        assert_eq!(failure.reason, FailureReason::InvalidCredentials);
    }
    // Even the right password is refused now, from this IP...
    let throttled = auth
        .authenticate(plain(martin, PASSWORD), &ctx(attacker, true, None))
        .await
        .unwrap_err();
    let FailureReason::Throttled { retry_after } = throttled.reason else {
        panic!("{throttled:?}");
    };
    assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(30));
    // ...but another account from this IP is not blocked (the IP allows 4 x 3 failures)...
    auth.authenticate(
        plain("secretariat@hopital.test.mssante.fr", PASSWORD),
        &ctx(attacker, true, None),
    )
    .await
    .unwrap();
    // ...and the owner logs in from another IP.
    auth.authenticate(
        plain(martin, PASSWORD),
        &ctx("203.0.113.5:1234", true, None),
    )
    .await
    .unwrap();

    let kinds: Vec<String> = fx.audit().await.into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            "auth.failure",
            "auth.failure",
            "auth.failure",
            "auth.throttled",
            "auth.success",
            "auth.success"
        ]
    );
    let throttled_event = &fx.audit().await[3];
    assert_eq!(throttled_event.actor, "198.51.100.7");
    assert_eq!(throttled_event.detail["reason"], "throttled");
    assert!(throttled_event.detail["retry_after_secs"].as_u64().unwrap() >= 1);
}

/// A right password is verified by argon2 once, then remembered: the next logins cost no
/// verification. Wrong passwords are never remembered, another mailbox with the same
/// password does not match, and a suspended mailbox is refused even when remembered.
#[tokio::test]
async fn right_passwords_are_remembered_wrong_ones_never() {
    let fx = fixture_with_mailboxes().await;
    let verifier = CountingVerifier::with_cache(true);
    let auth = fx
        .authenticator(AuthConfig::default())
        .with_password_verifier(verifier.clone());
    let c = ctx(PEER, true, None);
    let martin = "dr.martin@hopital.test.mssante.fr";
    for _ in 0..3 {
        assert!(auth.authenticate(plain(martin, PASSWORD), &c).await.is_ok());
    }
    assert_eq!(verifier.calls(), (1, 0), "one argon2 run for three logins");
    for _ in 0..2 {
        let refused = auth.authenticate(plain(martin, "not it"), &c).await;
        assert_eq!(
            refused.unwrap_err().reason,
            FailureReason::InvalidCredentials
        );
    }
    assert_eq!(verifier.calls(), (3, 0), "each wrong password verified");
    let secretariat = "secretariat@hopital.test.mssante.fr";
    assert!(
        auth.authenticate(plain(secretariat, PASSWORD), &c)
            .await
            .is_ok()
    );
    assert_eq!(
        verifier.calls(),
        (4, 0),
        "another mailbox, same password: verified"
    );
    // Suspended after a remembered login: refused without a new verification.
    fx.store
        .set_mailbox_status(&martin.parse().unwrap(), MailboxStatus::Suspended)
        .await
        .unwrap();
    let refused = auth.authenticate(plain(martin, PASSWORD), &c).await;
    assert_eq!(refused.unwrap_err().reason, FailureReason::MailboxSuspended);
    assert_eq!(verifier.calls(), (4, 0));
    // A verifier that does not only check the stored hash (LDAP) is asked every time.
    let asked = CountingVerifier::new();
    let auth = fx
        .authenticator(AuthConfig::default())
        .with_password_verifier(asked.clone());
    for _ in 0..2 {
        assert!(
            auth.authenticate(plain(secretariat, PASSWORD), &c)
                .await
                .is_ok()
        );
    }
    assert_eq!(asked.calls(), (2, 0));
}

/// Twenty logins of one mailbox with its right password at once (a client opening many
/// connections, from four addresses so the throttle lets them all run): one argon2 run, whose
/// verdict the others wait for, instead of one each side by side (19 MiB apiece).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_identical_logins_share_one_verification() {
    let fx = fixture_with_mailboxes().await;
    let verifier = CountingVerifier::with_cache(true);
    let auth = std::sync::Arc::new(
        fx.authenticator(AuthConfig::default())
            .with_password_verifier(verifier.clone()),
    );
    let martin = "dr.martin@hopital.test.mssante.fr";
    let logins: Vec<_> = (0..20)
        .map(|i| {
            let auth = std::sync::Arc::clone(&auth);
            tokio::spawn(async move {
                let c = ctx(
                    &format!("192.0.2.{}:5000{}", 20 + i % 4, i % 10),
                    true,
                    None,
                );
                auth.authenticate(plain(martin, PASSWORD), &c).await.is_ok()
            })
        })
        .collect();
    for login in logins {
        assert!(login.await.unwrap());
    }
    assert_eq!(
        verifier.calls(),
        (1, 0),
        "one verification for twenty logins"
    );
    // Wrong passwords are not shared: each is verified (and throttled) on its own.
    let wrong: Vec<_> = (0..3)
        .map(|i| {
            let auth = std::sync::Arc::clone(&auth);
            tokio::spawn(async move {
                let c = ctx(&format!("192.0.2.{}:50000", 30 + i), true, None);
                auth.authenticate(plain(martin, "guess"), &c).await.is_err()
            })
        })
        .collect();
    for refused in wrong {
        assert!(refused.await.unwrap());
    }
    assert_eq!(verifier.calls(), (4, 0));
}
