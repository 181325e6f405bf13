//! Provisioning from a real slapd: mailboxes created for new entries, suspended when their
//! entry is deleted (only those provisioning made), resumed when it comes back, and ORG
//! mailbox grants following group membership. Every change is in the audit trail.

mod ldap_support;

use ldap_support::{Slapd, store};
use mssd_annuaire::Error;
use mssd_annuaire::ldap::{LdapSync, ProvisionConfig, ProvisionReport, SyncMode, provision};
use mssd_core::{Address, MailboxKind};
use mssd_store::{MailboxStatus, NewMailbox, Store};

fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

async fn status(store: &dyn Store, mail: &str) -> MailboxStatus {
    store.mailbox(&addr(mail)).await.unwrap().unwrap().status
}

async fn grantees(store: &dyn Store, org: &str) -> Vec<String> {
    let mut list: Vec<String> = store
        .grants_on(&addr(org))
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.grantee.to_string())
        .collect();
    list.sort();
    list
}

async fn audit_kinds(store: &dyn Store) -> Vec<(String, String)> {
    store
        .audit_log(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.kind.starts_with("ldap.provision."))
        .map(|r| (r.event.kind, r.event.subject))
        .collect()
}

fn report(
    created: usize,
    suspended: usize,
    resumed: usize,
    granted: usize,
    revoked: usize,
) -> ProvisionReport {
    ProvisionReport {
        created,
        suspended,
        resumed,
        granted,
        revoked,
    }
}

#[tokio::test]
async fn provisioning_follows_the_directory() {
    let slapd = Slapd::start();
    let (_dir, store) = store();
    let store = store.as_ref();
    // A mailbox made by hand with no LDAP entry: provisioning must never touch it.
    store
        .create_mailbox(NewMailbox {
            address: addr("manual@hopital.test"),
            kind: MailboxKind::App,
            display_name: None,
            owner_id_nat: None,
            password_hash: None,
            certificate_dn: None,
            quota_bytes: None,
        })
        .await
        .unwrap();
    let sync = LdapSync::new(slapd.config()).unwrap();
    let config = ProvisionConfig::new(vec!["hopital.test".into()]);

    // 1. First run: the 4 entries of our domain get mailboxes, the group gives 2 grants.
    let (mirror, _) = sync.sync(store, SyncMode::Full).await.unwrap();
    let done = provision(store, &mirror, &config, false).await.unwrap();
    assert_eq!(done, report(4, 0, 0, 2, 0));
    let jean = store
        .mailbox(&addr("jean.dupont@hopital.test"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(jean.kind, MailboxKind::Per);
    assert_eq!(jean.owner_id_nat.as_deref(), Some("810001045367"));
    assert_eq!(jean.display_name.as_deref(), Some("Jean Dupont"));
    assert_eq!(jean.status, MailboxStatus::Active);
    let secretariat = store
        .mailbox(&addr("secretariat.cardio@hopital.test"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(secretariat.kind, MailboxKind::Org);
    assert!(
        store
            .mailbox(&addr("claire.bernard@clinique.test"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        grantees(store, "secretariat.cardio@hopital.test").await,
        ["jean.dupont@hopital.test", "marie.martin@hopital.test"]
    );
    let kinds = audit_kinds(store).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|(k, _)| k == "ldap.provision.create")
            .count(),
        4
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|(k, _)| k == "ldap.provision.grant")
            .count(),
        2
    );

    // 2. Nothing changed: nothing to do.
    let done = provision(store, &mirror, &config, false).await.unwrap();
    assert_eq!(done, report(0, 0, 0, 0, 0));

    // 3. Paul leaves, Marie leaves the cardiology group.
    slapd.ldapmodify(
        "dn: uid=ppetit,ou=people,dc=hopital,dc=test\n\
         changetype: delete\n\
         \n\
         dn: cn=cardiologie,ou=groups,dc=hopital,dc=test\n\
         changetype: modify\n\
         delete: member\n\
         member: uid=mmartin,ou=people,dc=hopital,dc=test\n",
    );
    let (mirror, _) = sync.sync(store, SyncMode::Full).await.unwrap();
    // One suspension of 4 provisioned mailboxes is 25 %: above the 10 % guard.
    let err = provision(store, &mirror, &config, false).await.unwrap_err();
    assert!(matches!(err, Error::LdapProvisionRefused(_)), "{err}");
    assert!(err.to_string().contains("suspend 1 of 4"), "{err}");
    assert_eq!(
        status(store, "paul.petit@hopital.test").await,
        MailboxStatus::Active
    );
    let done = provision(store, &mirror, &config, true).await.unwrap();
    assert_eq!(done, report(0, 1, 0, 0, 1));
    assert_eq!(
        status(store, "paul.petit@hopital.test").await,
        MailboxStatus::Suspended
    );
    assert_eq!(
        status(store, "manual@hopital.test").await,
        MailboxStatus::Active
    );
    assert_eq!(
        grantees(store, "secretariat.cardio@hopital.test").await,
        ["jean.dupont@hopital.test"]
    );

    // 4. Paul comes back: his mailbox is resumed, not created again.
    slapd.ldapmodify(
        "dn: uid=ppetit,ou=people,dc=hopital,dc=test\n\
         changetype: add\n\
         objectClass: inetOrgPerson\n\
         uid: ppetit\n\
         cn: Paul Petit\n\
         sn: Petit\n\
         mail: paul.petit@hopital.test\n",
    );
    let (mirror, _) = sync.sync(store, SyncMode::Incremental).await.unwrap();
    let done = provision(store, &mirror, &config, false).await.unwrap();
    assert_eq!(done, report(0, 0, 1, 0, 0));
    assert_eq!(
        status(store, "paul.petit@hopital.test").await,
        MailboxStatus::Active
    );

    let kinds = audit_kinds(store).await;
    for (kind, subject) in [
        ("ldap.provision.suspend", "paul.petit@hopital.test"),
        ("ldap.provision.revoke", "secretariat.cardio@hopital.test"),
        ("ldap.provision.resume", "paul.petit@hopital.test"),
    ] {
        assert!(
            kinds.iter().any(|(k, s)| k == kind && s == subject),
            "{kind} {subject} missing from {kinds:?}"
        );
    }
}
