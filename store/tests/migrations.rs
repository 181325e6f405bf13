//! Schema migrations: from empty, from every earlier version with data, and refusal of a newer
//! database.

mod common;

use common::{addr, db_path};
use mssd_store::{
    DirectoryStore, Error, FolderId, MailboxStatus, SqliteOptions, SqliteStore, Store,
    latest_schema_version, migration_scripts,
};

/// The version 1 rows, as a macro so later seeds can `concat!` them.
macro_rules! seed_v1 {
    () => {
        r#"
            INSERT INTO meta (key, value) VALUES ('last_uid_validity', 1700000004);
            INSERT INTO mailboxes (id, address, address_text, kind, display_name, owner_id_nat,
                password_hash, certificate_dn, quota_bytes, status, created_at)
            VALUES (1, 'dr.who@x.mssante.fr', 'Dr.Who@x.mssante.fr', 'PER', 'Dr Who', '810001045367',
                NULL, 'CN=who,C=FR', 1000000, 'suspended', 1700000000);
            INSERT INTO folders (id, mailbox_id, name, special_use, uid_validity, uid_next, highest_modseq)
            VALUES (10, 1, 'INBOX', NULL, 1700000000, 8, 12),
                   (11, 1, 'Sent', '\Sent', 1700000001, 1, 1);
            INSERT INTO blobs (id, sha256, size, bytes)
            VALUES (100, '5a936ee19a0cf3c70d8cb0180990a7ad2c8e8e6fb36ddc0bd3b5c2cd4c0a9e5b', 5, X'68656C6C6F');
            INSERT INTO messages (folder_id, uid, modseq, blob_id, flags, seen, internal_date)
            VALUES (10, 7, 12, 100, '["\\Seen"]', 1, 1700000100);
            INSERT INTO queue (id, sender, blob_id, envelope, created_at, next_attempt, attempts, last_error)
            VALUES (50, 'Dr.Who@x.mssante.fr', 100, '{"envid":"e1"}', 1700000200, 1700000300, 2, '451 later');
            INSERT INTO queue_recipients (queue_id, position, address, status, detail)
            VALUES (50, 0, 'Someone@y.mssante.fr', 'pending', NULL);
            INSERT INTO audit (id, at, kind, actor, subject, outcome, detail)
            VALUES (1, 1700000000000, 'mailbox.create', 'admin', 'dr.who@x.mssante.fr', 'ok', '{"k":1}');
            "#
    };
}

/// The version 7 rows (version 6's plus a health document and a usage counter).
macro_rules! seed_v7 {
    () => {
        concat!(
            seed_v4!(),
            "UPDATE mailboxes SET used_bytes = 5, used_messages = 1 WHERE id = 1; \
             INSERT INTO subscriptions (mailbox_id, name) VALUES (1, 'INBOX'), (1, 'Sent'), \
             (1, 'Old'); \
             INSERT INTO expunged (folder_id, uid, modseq) VALUES (10, 3, 11); \
             INSERT INTO health_documents (mailbox_id, folder_id, message_uid, cda_id, code, \
             patient_ids, restrictions, action, status, indexed_at) \
             VALUES (1, 10, 1, '1.2.3^D1', '11502-2', '[]', '[]', 'new', 'current', 1700000000); \
             INSERT INTO usage_indicators VALUES ('2026-12', 'dr.who@x.mssante.fr', 'received', 3, 1, 2, 1);"
        )
    };
}

/// The version 8 rows (version 7's plus a blob file awaiting removal), which version 9 keeps.
macro_rules! seed_v8 {
    () => {
        concat!(
            seed_v7!(),
            "INSERT INTO blob_garbage (file) VALUES ('00000000000000000000000000000000');"
        )
    };
}

/// The version 4 rows (version 3's plus a national directory generation in force with one
/// mailbox), as a macro so the version 5 seed can extend them.
macro_rules! seed_v4 {
    () => {
        concat!(
            seed_v1!(),
            "INSERT INTO documents (name, bytes, sha256, updated_at) VALUES ('trust-list', \
             X'68656C6C6F', '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', \
             1700000400);",
            "INSERT INTO mailboxes (id, address, address_text, kind, display_name, owner_id_nat, \
             password_hash, certificate_dn, quota_bytes, status, created_at) VALUES (2, \
             'urgences@x.mssante.fr', 'urgences@x.mssante.fr', 'ORG', NULL, NULL, NULL, NULL, NULL, \
             'active', 1700000500); \
             INSERT INTO mailbox_grants (mailbox_id, grantee_id, rights, granted_at) \
             VALUES (2, 1, 'rs', 1700000600);",
            "INSERT INTO directory_generations (id, set_name, state, started_at, committed_at, \
             source, entries) VALUES (7, 'mailboxes', 'current', 1700000700, 1700000701, \
             'Extraction_Correspondance_MSSante_202401010000.txt', 1); \
             INSERT INTO directory_mailboxes (generation, address_key, address, kind, id_nat_ps, \
             last_name, red_listed, digest) VALUES (7, 'jean.dupont@y.mssante.fr', \
             'Jean.Dupont@y.mssante.fr', 'PER', '810001045367', 'DUPONT', 0, 42);"
        )
    };
}

/// Representative rows for a database at schema version k (element k - 1), written in that
/// version's schema. Each seed holds the rows of the previous one plus what its version added;
/// `check_seeded` verifies them. Add a seed when you add a migration: the test below refuses to
/// run otherwise.
const SEEDS: &[&str] = &[
    // version 1
    seed_v1!(),
    // version 2: the same rows, plus a named document.
    concat!(
        seed_v1!(),
        "INSERT INTO documents (name, bytes, sha256, updated_at) VALUES ('trust-list', \
         X'68656C6C6F', '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', \
         1700000400);"
    ),
    // version 3: plus an ORG mailbox shared with the PER one (read and send).
    concat!(
        seed_v1!(),
        "INSERT INTO documents (name, bytes, sha256, updated_at) VALUES ('trust-list', \
         X'68656C6C6F', '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', \
         1700000400);",
        "INSERT INTO mailboxes (id, address, address_text, kind, display_name, owner_id_nat, \
         password_hash, certificate_dn, quota_bytes, status, created_at) VALUES (2, \
         'urgences@x.mssante.fr', 'urgences@x.mssante.fr', 'ORG', NULL, NULL, NULL, NULL, NULL, \
         'active', 1700000500); \
         INSERT INTO mailbox_grants (mailbox_id, grantee_id, rights, granted_at) \
         VALUES (2, 1, 'rs', 1700000600);"
    ),
    // version 4: the rows of version 3, plus a national directory generation in force with one
    // mailbox.
    seed_v4!(),
    // version 5: plus usage counters, subscriptions and an expunged UID, as mssd v5 writes them.
    concat!(
        seed_v4!(),
        "UPDATE mailboxes SET used_bytes = 5, used_messages = 1 WHERE id = 1; \
         INSERT INTO subscriptions (mailbox_id, name) VALUES (1, 'INBOX'), (1, 'Sent'), \
         (1, 'Old'); \
         INSERT INTO expunged (folder_id, uid, modseq) VALUES (10, 3, 11);"
    ),
    // version 6: an index only; the rows of version 5.
    concat!(
        seed_v4!(),
        "UPDATE mailboxes SET used_bytes = 5, used_messages = 1 WHERE id = 1; \
         INSERT INTO subscriptions (mailbox_id, name) VALUES (1, 'INBOX'), (1, 'Sent'), \
         (1, 'Old'); \
         INSERT INTO expunged (folder_id, uid, modseq) VALUES (10, 3, 11);"
    ),
    // version 7: the rows of version 6, a health document and a usage counter.
    seed_v7!(),
    // version 8: the rows of version 7, and a blob file awaiting removal.
    seed_v8!(),
    // version 9: a new table (the audit chain) only; the rows of version 8, their audit record
    // not chained yet (as after the upgrade).
    seed_v8!(),
    // version 10: a column (the queue lease, NULL for entries queued before) only; the rows
    // of version 9.
    seed_v8!(),
];

/// Builds a database at schema version `k` the way an older mssd left it.
fn build_at_version(path: &std::path::Path, k: usize) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    for (index, script) in migration_scripts()[..k].iter().enumerate() {
        let tx = conn.transaction().unwrap();
        tx.execute_batch(script).unwrap();
        tx.pragma_update(None, "user_version", index as i64 + 1)
            .unwrap();
        tx.commit().unwrap();
    }
    if k > 0 {
        conn.execute_batch(SEEDS[k - 1]).unwrap();
    }
}

/// Checks the rows of `SEEDS[k - 1]` survived the migration.
async fn check_seeded(store: &SqliteStore, k: usize) {
    // Version 3 added grants: seeded from 3 on.
    if k >= 3 {
        let org = mssd_core::Address::parse("urgences@x.mssante.fr").unwrap();
        let grants = store.grants_on(&org).await.unwrap();
        assert_eq!(grants.len(), 1, "from version {k}");
        assert_eq!(grants[0].grantee.to_string(), "Dr.Who@x.mssante.fr");
        assert!(grants[0].rights.read && grants[0].rights.send && !grants[0].rights.write);
    }
    // Version 4 added the national directory: seeded from 4 on.
    let listed = mssd_core::Address::parse("jean.dupont@y.mssante.fr").unwrap();
    let found = store.directory_mailbox(&listed).await.unwrap();
    let status = store.directory_status().await.unwrap();
    if k >= 4 {
        let found = found.expect("directory mailbox survived");
        assert_eq!(found.address.as_str(), "Jean.Dupont@y.mssante.fr");
        assert_eq!(found.id_nat_ps.as_deref(), Some("810001045367"));
        assert_eq!(status.len(), 1);
        assert_eq!(
            (status[0].entries, status[0].imported_at),
            (1, 1_700_000_701)
        );
    } else {
        assert_eq!(found, None, "from version {k}");
        assert!(status.is_empty(), "from version {k}");
    }
    // Version 7 added the health document index and the usage counters.
    let documents = store.documents(m_id(store).await, true).await.unwrap();
    let usage = store.usage_indicators("2026-12").await.unwrap();
    if k >= 7 {
        assert_eq!(documents.len(), 1, "from version {k}");
        assert_eq!(documents[0].cda_id, "1.2.3^D1");
        assert_eq!(usage.len(), 1);
        assert_eq!((usage[0].messages, usage[0].documents), (3, 2));
    } else {
        assert!(documents.is_empty() && usage.is_empty(), "from version {k}");
    }
    // Version 2 added documents: seeded from 2 on, absent (but readable) before.
    let document = store.document("trust-list").await.unwrap();
    if k >= 2 {
        assert_eq!(document.as_deref(), Some(&b"hello"[..]), "from version {k}");
    } else {
        assert_eq!(document, None, "from version {k}");
    }

    let m = store
        .mailbox(&addr("dr.who@x.mssante.fr"))
        .await
        .unwrap()
        .expect("mailbox survived");
    // Version 5 added usage counters and subscriptions: the migration computes them from the
    // messages and folders already there, a version 5 database keeps its own.
    let usage = store.quota(m.id).await.unwrap();
    assert_eq!(
        (usage.used_bytes, usage.used_messages, usage.limit_bytes),
        (5, 1, Some(1_000_000)),
        "from version {k}"
    );
    let mut subscribed = vec!["INBOX".to_owned(), "Sent".to_owned()];
    if k >= 5 {
        subscribed.push("Old".to_owned());
    }
    subscribed.sort();
    assert_eq!(
        store.subscriptions(m.id).await.unwrap(),
        subscribed,
        "from version {k}"
    );
    let changes = store.changes_since(FolderId(10), 10).await.unwrap();
    assert_eq!(changes.changed.len(), 1);
    let expunged: &[u32] = if k >= 5 { &[3] } else { &[] };
    assert_eq!(changes.expunged, expunged, "from version {k}");
    assert_eq!(m.address.as_str(), "Dr.Who@x.mssante.fr");
    assert_eq!(m.status, MailboxStatus::Suspended);
    assert_eq!(m.owner_id_nat.as_deref(), Some("810001045367"));
    assert_eq!(m.quota_bytes, Some(1_000_000));
    assert_eq!(
        store
            .mailbox_by_certificate_dn("CN=who,C=FR")
            .await
            .unwrap()
            .map(|m| m.id),
        Some(m.id)
    );

    let folders = store.folders(m.id).await.unwrap();
    assert_eq!(folders.len(), 2);
    assert_eq!(
        (
            folders[0].uid_next,
            folders[0].highest_modseq,
            folders[0].messages,
            folders[0].unseen
        ),
        (8, 12, 1, 0)
    );
    let metas = store.messages(FolderId(10)).await.unwrap();
    assert_eq!(metas.len(), 1);
    assert_eq!(
        (metas[0].uid, metas[0].modseq, metas[0].flags.clone()),
        (7, 12, vec!["\\Seen".to_owned()])
    );
    assert_eq!(
        store.message_body(FolderId(10), 7).await.unwrap().unwrap(),
        b"hello"
    );

    let queue = store.queue().await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (queue[0].attempts, queue[0].next_attempt),
        (2, Some(1_700_000_300))
    );
    assert_eq!(
        queue[0].recipients[0].address.as_str(),
        "Someone@y.mssante.fr"
    );
    assert_eq!(queue[0].envelope["envid"], "e1");

    let audit = store.audit_log(0, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].event.kind, "mailbox.create");

    // The migrated database keeps working: new UIDs continue after the old ones.
    let d = store
        .append(FolderId(10), b"new".to_vec().into(), vec![], 1)
        .await
        .unwrap();
    assert_eq!(d.uid, 8);
    assert_eq!(d.modseq, 13);

    // Version 9 chained the audit trail: records written before are chained by the next write.
    store
        .audit(mssd_store::AuditEvent {
            at: 1_700_001_000_000,
            kind: "mailbox.suspend".into(),
            actor: "cli".into(),
            subject: "dr.who@x.mssante.fr".into(),
            outcome: "suspended".into(),
            detail: serde_json::json!({}),
        })
        .await
        .unwrap();
    let verified = store.audit_verify().await.unwrap();
    assert_eq!(
        (verified.records, verified.broken),
        (2, None),
        "from version {k}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn migrates_from_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let health = store.health().await.unwrap();
    assert_eq!(health.schema_version, latest_schema_version());
    assert_eq!(health.latest_schema_version, latest_schema_version());
    assert!(health.quick_check_ok, "{}", health.quick_check);
    assert_eq!(
        (
            health.mailboxes,
            health.messages,
            health.queue,
            health.audit
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(health.database_path, path);
    assert!(health.database_bytes > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn migrates_every_earlier_version_keeping_data() {
    let latest = migration_scripts().len();
    assert_eq!(SEEDS.len(), latest, "write a seed for every schema version");
    assert_eq!(latest as u32, latest_schema_version());
    for k in 0..=latest {
        let dir = tempfile::tempdir().unwrap();
        let path = db_path(dir.path());
        build_at_version(&path, k);
        let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        let health = store.health().await.unwrap();
        assert_eq!(
            health.schema_version,
            latest_schema_version(),
            "from version {k}"
        );
        assert!(
            health.quick_check_ok,
            "from version {k}: {}",
            health.quick_check
        );
        if k > 0 {
            check_seeded(&store, k).await;
        } else {
            assert_eq!(health.mailboxes, 0);
        }
        store.close().await.unwrap();
        // Opening again is a no-op on an up-to-date database.
        let again = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
        assert_eq!(
            again.health().await.unwrap().schema_version,
            latest_schema_version()
        );
    }
}

#[test]
fn refuses_a_database_newer_than_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    build_at_version(&path, migration_scripts().len());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", latest_schema_version() + 1)
        .unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default())
        .err()
        .expect("must refuse");
    assert!(
        matches!(&err, Error::Migration { detail } if detail.contains("newer")),
        "{err}"
    );
}

async fn m_id(store: &SqliteStore) -> mssd_store::MailboxId {
    store
        .mailbox(&addr("dr.who@x.mssante.fr"))
        .await
        .unwrap()
        .expect("mailbox survived")
        .id
}
