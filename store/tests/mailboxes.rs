#[macro_use]
mod common;

use common::{Db, addr, new_mailbox};
use mssd_core::MailboxKind;
use mssd_store::{Delivery, Error, MailboxStatus};

async fn create_read_and_list_mailboxes(db: Db) {
    let mut m = new_mailbox("Jean.Dupont@hopital.test.mssante.fr");
    m.owner_id_nat = Some("810001045367".to_owned());
    m.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned());
    m.quota_bytes = Some(1 << 30);
    let created = db.store.create_mailbox(m).await.unwrap();
    assert_eq!(created.status, MailboxStatus::Active);
    assert!(created.created_at > 1_700_000_000);

    // Lookup ignores the case of the local part; the address comes back as created.
    let found = db
        .store
        .mailbox(&addr("jean.dupont@HOPITAL.test.mssante.fr"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, created);
    assert_eq!(
        found.address.as_str(),
        "Jean.Dupont@hopital.test.mssante.fr"
    );
    assert_eq!(found.quota_bytes, Some(1 << 30));

    let mut org = new_mailbox("secretariat@hopital.test.mssante.fr");
    org.kind = MailboxKind::Org;
    org.owner_id_nat = Some("810001045367".to_owned());
    let org = db.store.create_mailbox(org).await.unwrap();
    db.store
        .create_mailbox(new_mailbox("other@hopital.test.mssante.fr"))
        .await
        .unwrap();

    let all = db.store.list_mailboxes().await.unwrap();
    assert_eq!(all.len(), 3);
    let owned = db.store.mailboxes_by_owner("810001045367").await.unwrap();
    let owned_ids: Vec<_> = owned.iter().map(|m| m.id).collect();
    assert_eq!(owned_ids, vec![created.id, org.id]);
    assert_eq!(owned[1].kind, MailboxKind::Org);
    assert!(
        db.store
            .mailboxes_by_owner("899999999999")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.store
            .mailbox(&addr("nobody@hopital.test.mssante.fr"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn new_mailbox_gets_the_default_folders(db: Db) {
    let m = db
        .store
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let folders = db.store.folders(m.id).await.unwrap();
    let names: Vec<(&str, Option<&str>)> = folders
        .iter()
        .map(|f| (f.name.as_str(), f.special_use.as_deref()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("INBOX", None),
            ("Sent", Some("\\Sent")),
            ("Drafts", Some("\\Drafts")),
            ("Trash", Some("\\Trash")),
            ("Archive", Some("\\Archive")),
        ]
    );
    for f in &folders {
        assert_eq!(f.mailbox, m.id);
        assert!(f.uid_validity > 0);
        assert_eq!((f.uid_next, f.messages, f.unseen), (1, 0, 0));
    }
}

async fn duplicates_are_refused(db: Db) {
    let mut first = new_mailbox("dup@x.mssante.fr");
    first.certificate_dn = Some("CN=app.x.mssante.fr,OU=123,O=X,C=FR".to_owned());
    db.store.create_mailbox(first).await.unwrap();

    let err = db
        .store
        .create_mailbox(new_mailbox("DUP@x.mssante.fr"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { what } if what.contains("address")),
        "{err}"
    );
    // The message does not echo the address (it may be a citizen's INS).
    assert!(!err.to_string().to_lowercase().contains("dup@"), "{err}");

    let mut same_dn = new_mailbox("other@x.mssante.fr");
    same_dn.certificate_dn = Some("CN=app.x.mssante.fr,OU=123,O=X,C=FR".to_owned());
    let err = db.store.create_mailbox(same_dn).await.unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { what } if what.contains("certificate DN")),
        "{err}"
    );
    assert_eq!(db.store.list_mailboxes().await.unwrap().len(), 1);
}

async fn certificate_dn_lookup(db: Db) {
    let dn = "CN=dmp.x.mssante.fr,OU=10000000001,O=Hopital X,C=FR";
    let mut app = new_mailbox("app@x.mssante.fr");
    app.kind = MailboxKind::App;
    app.certificate_dn = Some(dn.to_owned());
    let app = db.store.create_mailbox(app).await.unwrap();
    let found = db
        .store
        .mailbox_by_certificate_dn(dn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, app.id);
    assert!(
        db.store
            .mailbox_by_certificate_dn("CN=other,C=FR")
            .await
            .unwrap()
            .is_none()
    );
}

async fn suspend_and_reactivate(db: Db) {
    let a = addr("s@x.mssante.fr");
    db.store
        .create_mailbox(new_mailbox("s@x.mssante.fr"))
        .await
        .unwrap();
    db.store
        .set_mailbox_status(&a, MailboxStatus::Suspended)
        .await
        .unwrap();
    assert_eq!(
        db.store.mailbox(&a).await.unwrap().unwrap().status,
        MailboxStatus::Suspended
    );
    db.store
        .set_mailbox_status(&a, MailboxStatus::Active)
        .await
        .unwrap();
    assert_eq!(
        db.store.mailbox(&a).await.unwrap().unwrap().status,
        MailboxStatus::Active
    );
    let err = db
        .store
        .set_mailbox_status(&addr("ghost@x.mssante.fr"), MailboxStatus::Suspended)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

async fn remove_deletes_folders_messages_and_unshared_blobs(db: Db) {
    let gone = db
        .store
        .create_mailbox(new_mailbox("gone@x.mssante.fr"))
        .await
        .unwrap();
    let kept = db
        .store
        .create_mailbox(new_mailbox("kept@x.mssante.fr"))
        .await
        .unwrap();
    // One blob shared by both mailboxes, one only for the mailbox removed.
    db.store
        .deliver(Delivery {
            recipients: vec![gone.id, kept.id],
            message: b"shared".to_vec().into(),
            internal_date: 1,
            documents: Vec::new(),
        })
        .await
        .unwrap();
    db.store
        .deliver(Delivery {
            recipients: vec![gone.id],
            message: b"private".to_vec().into(),
            internal_date: 2,
            documents: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(db.count("blobs").await, 2);

    db.store
        .remove_mailbox(&addr("gone@x.mssante.fr"))
        .await
        .unwrap();
    assert!(
        db.store
            .mailbox(&addr("gone@x.mssante.fr"))
            .await
            .unwrap()
            .is_none()
    );
    let err = db.store.folders(gone.id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let folders_left = db
        .scalar(
            "SELECT count(*) FROM folders WHERE mailbox_id = $1",
            &[gone.id.0],
        )
        .await;
    assert_eq!(folders_left, 0);
    assert_eq!(db.count("messages").await, 1);
    assert_eq!(
        db.count("blobs").await,
        1,
        "the shared blob stays, the private one goes"
    );
    let inbox = db.store.folders(kept.id).await.unwrap()[0].id;
    assert_eq!(
        db.store.message_body(inbox, 1).await.unwrap().unwrap(),
        b"shared"
    );

    let err = db
        .store
        .remove_mailbox(&addr("gone@x.mssante.fr"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

async fn recreated_mailbox_gets_new_uid_validity(db: Db) {
    let first = db
        .store
        .create_mailbox(new_mailbox("r@x.mssante.fr"))
        .await
        .unwrap();
    let old: Vec<u32> = db
        .store
        .folders(first.id)
        .await
        .unwrap()
        .iter()
        .map(|f| f.uid_validity)
        .collect();
    db.store
        .remove_mailbox(&addr("r@x.mssante.fr"))
        .await
        .unwrap();
    let second = db
        .store
        .create_mailbox(new_mailbox("r@x.mssante.fr"))
        .await
        .unwrap();
    let new: Vec<u32> = db
        .store
        .folders(second.id)
        .await
        .unwrap()
        .iter()
        .map(|f| f.uid_validity)
        .collect();
    for v in &new {
        assert!(
            !old.contains(v),
            "UIDVALIDITY {v} handed out twice: old {old:?} new {new:?}"
        );
    }
}

contract_tests!(
    create_read_and_list_mailboxes,
    new_mailbox_gets_the_default_folders,
    duplicates_are_refused,
    certificate_dn_lookup,
    suspend_and_reactivate,
    remove_deletes_folders_messages_and_unshared_blobs,
    recreated_mailbox_gets_new_uid_validity,
);
