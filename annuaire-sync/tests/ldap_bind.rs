//! LDAP-bind password checks against a real slapd, through the `PasswordVerifier` trait the
//! authenticator calls.

mod ldap_support;

use std::sync::Arc;

use ldap_support::Slapd;
use mssd_annuaire::ldap::LdapPasswordVerifier;
use mssd_auth::PasswordVerifier;
use mssd_core::{Address, MailboxKind};
use mssd_store::{Mailbox, MailboxId, MailboxStatus};

fn mailbox(mail: &str) -> Mailbox {
    Mailbox {
        id: MailboxId(1),
        address: Address::parse(mail).unwrap(),
        kind: MailboxKind::Per,
        display_name: None,
        owner_id_nat: None,
        password_hash: None,
        certificate_dn: None,
        quota_bytes: None,
        status: MailboxStatus::Active,
        created_at: 0,
    }
}

#[tokio::test]
async fn bind_accepts_the_right_password_only() {
    let slapd = Slapd::start();
    let verifier = LdapPasswordVerifier::new(slapd.config()).unwrap();
    let jean = mailbox("jean.dupont@hopital.test");
    // (mailbox, password, expected)
    let cases = [
        (Some(&jean), "jean-password", true),
        (Some(&jean), "wrong-password", false),
        (Some(&jean), "JEAN-PASSWORD", false),
        // An empty password would be an unauthenticated bind, which LDAP answers "success".
        (Some(&jean), "", false),
        // Another user's password.
        (Some(&jean), "marie-password", false),
        (None, "jean-password", false),
    ];
    for (mb, password, expected) in cases {
        let got = verifier.verify(mb, password).await.unwrap();
        assert_eq!(
            got,
            expected,
            "{password:?} for {:?}",
            mb.map(|m| &m.address)
        );
    }
    let marie = mailbox("Marie.Martin@hopital.test");
    assert!(
        verifier
            .verify(Some(&marie), "marie-password")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn bind_over_starttls_and_filter_injection_is_escaped() {
    let slapd = Slapd::start();
    let mut config = slapd.config();
    config.url = slapd.ldap_url();
    config.starttls = true;
    config.pool_size = 1;
    let verifier = LdapPasswordVerifier::new(config).unwrap();
    // Several checks through one pooled service connection.
    for _ in 0..3 {
        let jean = mailbox("jean.dupont@hopital.test");
        assert!(verifier.verify(Some(&jean), "jean-password").await.unwrap());
    }
    // `*` in a local part is legal in an address; unescaped it would match every mail.
    let star = mailbox("*@hopital.test");
    assert!(!verifier.verify(Some(&star), "jean-password").await.unwrap());
}

#[tokio::test]
async fn accounts_without_an_entry_use_the_fallback() {
    let slapd = Slapd::start();
    let hash = mssd_core::hash_password("local-password").unwrap();
    let mut app = mailbox("app@hopital.test");
    app.password_hash = Some(hash);

    let strict = LdapPasswordVerifier::new(slapd.config()).unwrap();
    assert!(!strict.verify(Some(&app), "local-password").await.unwrap());

    let with_fallback = LdapPasswordVerifier::new(slapd.config())
        .unwrap()
        .with_fallback(Arc::new(mssd_auth::Argon2Verifier::new()));
    assert!(
        with_fallback
            .verify(Some(&app), "local-password")
            .await
            .unwrap()
    );
    assert!(!with_fallback.verify(Some(&app), "other").await.unwrap());
    // An LDAP user is still checked by LDAP, not by the fallback.
    let jean = mailbox("jean.dupont@hopital.test");
    assert!(
        with_fallback
            .verify(Some(&jean), "jean-password")
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn ldap_down_is_an_error_not_a_wrong_password() {
    let mut slapd = Slapd::start();
    let verifier = LdapPasswordVerifier::new(slapd.config()).unwrap();
    let jean = mailbox("jean.dupont@hopital.test");
    assert!(verifier.verify(Some(&jean), "jean-password").await.unwrap());

    slapd.stop();
    let err = verifier
        .verify(Some(&jean), "jean-password")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, mssd_auth::Error::PasswordVerifier { .. }),
        "{text}"
    );
    assert!(text.contains(&slapd.ldaps_url()), "{text}");

    slapd.run();
    assert!(verifier.verify(Some(&jean), "jean-password").await.unwrap());
}
