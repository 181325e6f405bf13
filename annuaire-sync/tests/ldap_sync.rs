//! LDAP sync against a real slapd: full (paged) and incremental syncs, TLS validation with
//! our anchors only, and an LDAP outage keeping the last good mirror.

mod ldap_support;

use ldap_support::{DOMAIN, Slapd, store};
use mssd_annuaire::Error;
use mssd_annuaire::ldap::{LdapSync, Mirror, SyncMode};
use mssd_core::{Address, MailboxKind};

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

fn mails(mirror: &Mirror) -> Vec<&str> {
    mirror.entries.values().map(|e| e.mail.as_str()).collect()
}

#[tokio::test]
async fn full_sync_mirrors_people_and_groups_over_ldaps() {
    let slapd = Slapd::start();
    let (_dir, store) = store();
    let sync = LdapSync::new(slapd.config()).unwrap();

    let (mirror, report) = sync.sync(store.as_ref(), SyncMode::Full).await.unwrap();

    assert!(report.full);
    // 6 inetOrgPerson entries under ou=people, read 2 per page; the one without mail is skipped.
    assert_eq!(report.entries_read, 6);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(report.skipped[0].0.starts_with("uid=stagiaire,"));
    assert_eq!((report.added, report.changed, report.removed), (5, 0, 0));
    assert_eq!(report.total, 5);
    assert_eq!(
        mails(&mirror),
        [
            "claire.bernard@clinique.test",
            "jean.dupont@hopital.test",
            "marie.martin@hopital.test",
            "paul.petit@hopital.test",
            "secretariat.cardio@hopital.test",
        ]
    );
    let jean = mirror.get(&addr("Jean.Dupont@hopital.test")).unwrap();
    assert_eq!(jean.id_nat.as_deref(), Some("810001045367"));
    assert_eq!(jean.kind, Some(MailboxKind::Per));
    assert_eq!(jean.given_name.as_deref(), Some("Jean"));
    assert_eq!(jean.sn.as_deref(), Some("Dupont"));
    assert_eq!(jean.groups, [addr("secretariat.cardio@hopital.test")]);
    let secretariat = mirror
        .get(&addr("secretariat.cardio@hopital.test"))
        .unwrap();
    assert_eq!(secretariat.kind, Some(MailboxKind::Org));
    assert!(
        mirror
            .get(&addr("paul.petit@hopital.test"))
            .unwrap()
            .groups
            .is_empty()
    );
    assert_eq!(mirror.groups.len(), 1);
    assert_eq!(
        mirror.groups[0].members,
        [
            addr("jean.dupont@hopital.test"),
            addr("marie.martin@hopital.test")
        ]
    );
    assert_eq!(mirror.high_water.as_deref(), Some("20240301000000Z"));

    // What was returned is what was saved.
    let saved = Mirror::load(store.as_ref()).await.unwrap().unwrap();
    assert_eq!(saved, mirror);
}

#[tokio::test]
async fn full_sync_over_starttls() {
    let slapd = Slapd::start();
    let mut config = slapd.config();
    config.url = slapd.ldap_url();
    config.starttls = true;
    let (mirror, report) = LdapSync::new(config)
        .unwrap()
        .run(None, SyncMode::Full)
        .await
        .unwrap();
    assert_eq!(report.entries_read, 6);
    assert_eq!(mirror.len(), 5);
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_refused() {
    let slapd = Slapd::start();
    let other = tempfile::tempdir().unwrap();
    let other_pki = mssd_certs::init_pki(other.path(), DOMAIN, false).unwrap();
    let mut config = slapd.config();
    config.anchors = mssd_certs::load_certs(&other_pki.root_cert).unwrap();
    let err = LdapSync::new(config)
        .unwrap()
        .run(None, SyncMode::Full)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Ldap { .. }), "{text}");
    assert!(text.contains(&slapd.ldaps_url()), "{text}");
    assert!(text.contains("connect"), "{text}");
}

#[tokio::test]
async fn a_wrong_service_password_is_a_clear_error() {
    let slapd = Slapd::start();
    let mut config = slapd.config();
    config.bind_password = "wrong".into();
    let err = LdapSync::new(config)
        .unwrap()
        .run(None, SyncMode::Full)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("service bind"), "{err}");
    assert!(err.contains("invalid credentials"), "{err}");
}

#[tokio::test]
async fn incremental_sync_reads_only_what_ldapmodify_changed() {
    let slapd = Slapd::start();
    let (_dir, store) = store();
    let sync = LdapSync::new(slapd.config()).unwrap();
    sync.sync(store.as_ref(), SyncMode::Full).await.unwrap();

    slapd.ldapmodify(
        "dn: uid=mmartin,ou=people,dc=hopital,dc=test\n\
         changetype: modify\n\
         replace: sn\n\
         sn: Martin-Durand\n\
         -\n\
         replace: cn\n\
         cn: Marie Martin-Durand\n\
         \n\
         dn: uid=lleroy,ou=people,dc=hopital,dc=test\n\
         changetype: add\n\
         objectClass: inetOrgPerson\n\
         uid: lleroy\n\
         cn: Luc Leroy\n\
         sn: Leroy\n\
         givenName: Luc\n\
         mail: luc.leroy@hopital.test\n\
         employeeNumber: 810055555550\n\
         employeeType: PER\n\
         \n\
         dn: uid=ppetit,ou=people,dc=hopital,dc=test\n\
         changetype: delete\n",
    );

    let (mirror, report) = sync
        .sync(store.as_ref(), SyncMode::Incremental)
        .await
        .unwrap();
    assert!(!report.full);
    // Only the two entries modified after the high water (marie's old timestamp was the
    // high water itself, and she was modified again).
    assert_eq!(report.entries_read, 2);
    assert_eq!((report.added, report.changed, report.removed), (1, 1, 0));
    let marie = mirror.get(&addr("marie.martin@hopital.test")).unwrap();
    assert_eq!(marie.sn.as_deref(), Some("Martin-Durand"));
    let luc = mirror.get(&addr("luc.leroy@hopital.test")).unwrap();
    assert_eq!(luc.id_nat.as_deref(), Some("810055555550"));
    // A deletion is invisible to an incremental search: paul stays until a full sync.
    assert!(mirror.get(&addr("paul.petit@hopital.test")).is_some());
    assert!(mirror.high_water.as_deref() > Some("20240301000000Z"));

    let (mirror, report) = sync.sync(store.as_ref(), SyncMode::Full).await.unwrap();
    assert!(report.full);
    assert_eq!((report.added, report.changed, report.removed), (0, 0, 1));
    assert!(mirror.get(&addr("paul.petit@hopital.test")).is_none());
    assert_eq!(mirror.len(), 5);
    assert_eq!(Mirror::load(store.as_ref()).await.unwrap().unwrap(), mirror);
}

#[tokio::test]
async fn ldap_down_is_a_clear_error_and_the_last_good_mirror_stays() {
    let mut slapd = Slapd::start();
    let (_dir, store) = store();
    let sync = LdapSync::new(slapd.config()).unwrap();
    let (good, _) = sync.sync(store.as_ref(), SyncMode::Full).await.unwrap();

    slapd.stop();
    for mode in [SyncMode::Full, SyncMode::Incremental] {
        let err = sync.sync(store.as_ref(), mode).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Ldap { .. }), "{text}");
        assert!(text.contains(&slapd.ldaps_url()), "{text}");
        assert!(text.contains("connect"), "{text}");
        assert_eq!(Mirror::load(store.as_ref()).await.unwrap().unwrap(), good);
    }

    // Back up: syncing works again.
    slapd.run();
    let (mirror, report) = sync
        .sync(store.as_ref(), SyncMode::Incremental)
        .await
        .unwrap();
    assert!(!report.full);
    assert_eq!(mirror.entries, good.entries);
}
