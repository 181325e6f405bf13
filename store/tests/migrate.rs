//! `mssd store migrate` at the store level: an SQLite store filled through the `Store` API is
//! copied into PostgreSQL and read back through the same API (same ids, UIDs, UIDVALIDITY,
//! modseqs, flags, queue, audit chain, directory, documents); an interrupted copy resumes to
//! the same result; a target holding other data is refused. The volume test is
//! `migrate_volume.rs`.

mod common;

use common::postgres::fresh_database;
use common::{add_mailbox, addr, strings};
use mssd_core::MailboxKind;
use mssd_store::{
    Acceptance, ActivitySite, AuditEvent, CitizenExchange, Delivery, Direction, DirectoryActivity,
    DirectoryMailbox, DirectoryRows, DirectorySet, DirectoryStore, DocumentAction, Error, FlagOp,
    MessageBytes, MigrationProgress, MigrationStart, NewDocument, NewQueued, NoProgress,
    PostgresOptions, PostgresStore, PostgresTarget, PostgresTls, ProfessionalIdentity,
    QueuedRecipient, RecipientStatus, Rights, SqliteOptions, SqliteStore, Store, UsageCount,
    migrate_sqlite_to_postgres,
};

const NOW: i64 = 1_750_000_000;

fn event(i: i64) -> AuditEvent {
    AuditEvent {
        at: NOW * 1000 + i,
        kind: "imap.login".to_owned(),
        actor: "a@hopital.mssante.fr".to_owned(),
        subject: format!("session {i}"),
        outcome: "ok".to_owned(),
        detail: serde_json::json!({ "i": i, "b": "x", "a": [1, 2] }),
    }
}

fn message(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: x@clinique.mssante.fr\r\nTo: a@hopital.mssante.fr\r\nSubject: message {i}\r\n\
         Message-ID: <m{i}@clinique>\r\n\r\n"
    )
    .into_bytes();
    while m.len() < size {
        m.extend_from_slice(format!("line {i} of the body, padded to size\r\n").as_bytes());
    }
    m
}

fn document(n: u32) -> NewDocument {
    NewDocument {
        cda_id: format!("1.2.250.1^doc{n}"),
        set_id: Some(format!("1.2.250.1^set{n}")),
        version: Some(1),
        code: "11488-4".to_owned(),
        title: Some("Compte rendu".to_owned()),
        effective_time: Some("20250101".to_owned()),
        author: Some("1.2.250.1.71.4.2.1^810001045367".to_owned()),
        author_org: None,
        patient_ids: strings(&["1.2.250.1.213.1.4.8^123456789012345"]),
        restrictions: strings(&["INVISIBLE_PATIENT"]),
        action: DocumentAction::New,
    }
}

fn directory_mailbox(address: &str, city: &str) -> DirectoryMailbox {
    DirectoryMailbox {
        address: addr(address),
        kind: MailboxKind::Per,
        id_nat_ps: Some("810001045367".to_owned()),
        structure_id: None,
        structure_name: Some("Hôpital".to_owned()),
        service: None,
        civility: None,
        last_name: Some("Martin".to_owned()),
        first_name: None,
        profession: None,
        specialty: None,
        postal_code: None,
        city: Some(city.to_owned()),
        red_listed: false,
    }
}

fn activity(id_nat: &str, city: &str) -> DirectoryActivity {
    DirectoryActivity {
        professional: ProfessionalIdentity {
            id_nat_ps: id_nat.to_owned(),
            last_name: Some("Martin".to_owned()),
            ..ProfessionalIdentity::default()
        },
        site: ActivitySite {
            city: Some(city.to_owned()),
            ..ActivitySite::default()
        },
    }
}

/// A store with a bit of everything: gaps in UIDs and queue ids, a renamed and a deleted
/// folder, flags, a body in a blob file, grants, subscriptions, the queue, the audit trail,
/// documents, health documents, usage counters, citizen exchanges, notifications, directory.
async fn fill(s: &SqliteStore) {
    let a = add_mailbox(s, "a@hopital.mssante.fr").await;
    let b = add_mailbox(s, "b@hopital.mssante.fr").await;
    let inbox = common::folder_named(s, a.id, "INBOX").await.id;
    for i in 0..30 {
        let documents = if i == 3 {
            vec![document(1)]
        } else {
            Vec::new()
        };
        s.deliver(Delivery {
            recipients: vec![a.id, b.id],
            message: message(i, 600 + i * 37).into(),
            internal_date: NOW + i as i64,
            documents,
        })
        .await
        .unwrap();
    }
    // A body streamed into a blob file (the large-message path of SMTP).
    let head = message(99, 0);
    let mut writer = s.new_blob().unwrap();
    writer.write(&vec![b'z'; 300 * 1024]).unwrap();
    let staged = writer.finish().unwrap();
    s.append(
        inbox,
        MessageBytes {
            head,
            body: Some(staged),
        },
        strings(&["\\Flagged"]),
        NOW + 99,
    )
    .await
    .unwrap();
    // A large message given whole (spilled into a file by the store).
    s.append(inbox, message(100, 200 * 1024).into(), vec![], NOW + 100)
        .await
        .unwrap();
    s.set_flags(inbox, 2, strings(&["\\Seen", "$Label1"]))
        .await
        .unwrap();
    s.store_flags(
        inbox,
        vec![4, 5, 6],
        FlagOp::Add,
        strings(&["\\Answered"]),
        None,
    )
    .await
    .unwrap();
    s.expunge(inbox, vec![7, 8, 20]).await.unwrap();
    let projects = s.create_folder(a.id, "Projets").await.unwrap();
    s.copy_messages(inbox, vec![1, 2, 3], projects.id)
        .await
        .unwrap();
    s.move_messages(inbox, vec![9, 10], projects.id)
        .await
        .unwrap();
    s.rename_folder(a.id, "Projets", "Projets 2025")
        .await
        .unwrap();
    s.create_folder(a.id, "Temporaire").await.unwrap();
    s.delete_folder(a.id, "Temporaire").await.unwrap();
    s.subscribe(a.id, "Projets 2025").await.unwrap();
    s.grant(
        &addr("a@hopital.mssante.fr"),
        &addr("b@hopital.mssante.fr"),
        Rights::parse("read,write").unwrap(),
    )
    .await
    .unwrap();
    for i in 0..4 {
        s.enqueue(NewQueued {
            sender: Some(addr("a@hopital.mssante.fr")),
            recipients: vec![QueuedRecipient {
                address: addr(&format!("r{i}@clinique.mssante.fr")),
                status: RecipientStatus::Pending,
                detail: None,
            }],
            message: message(200 + i, 500).into(),
            next_attempt: NOW + 60,
            envelope: serde_json::json!({ "ret": "HDRS", "envid": format!("e{i}") }),
        })
        .await
        .unwrap();
    }
    let queued = s.queue().await.unwrap();
    // The last entry removed: its id must not be handed out again on PostgreSQL either.
    s.dequeue(queued[3].id).await.unwrap();
    s.record_attempt(
        queued[0].id,
        Some(NOW + 600),
        Some("421 try later".to_owned()),
    )
    .await
    .unwrap();
    for i in 0..10 {
        s.audit(event(i)).await.unwrap();
    }
    s.accept(Acceptance {
        delivery: None,
        queued: None,
        audit: event(100),
        usage: vec![UsageCount {
            mailbox: "a@hopital.mssante.fr".to_owned(),
            direction: Direction::Received,
            xdm: true,
            documents: 1,
            qualified_ins: 1,
        }],
        exchanges: vec![CitizenExchange {
            professional: "a@hopital.mssante.fr".to_owned(),
            citizen: "123456789012345@patient.mssante.fr".to_owned(),
            closed: true,
            message_id: Some("fin-1@hopital".to_owned()),
        }],
        notify: vec![b.id],
    })
    .await
    .unwrap();
    s.put_document("trust-list", b"<liste/>".to_vec())
        .await
        .unwrap();
    let g = s.directory_begin(DirectorySet::Mailboxes).await.unwrap();
    s.directory_write(
        g,
        DirectoryRows::Mailboxes(vec![
            directory_mailbox("a@hopital.mssante.fr", "Paris"),
            directory_mailbox("z@clinique.mssante.fr", "Lyon"),
        ]),
    )
    .await
    .unwrap();
    s.directory_commit(g, "test").await.unwrap();
    let g = s
        .directory_begin(DirectorySet::Professionals)
        .await
        .unwrap();
    s.directory_write(
        g,
        DirectoryRows::Activities(vec![
            activity("810001045367", "Paris"),
            activity("810001045367", "Lyon"),
            activity("810002000000", "Nantes"),
        ]),
    )
    .await
    .unwrap();
    s.directory_commit(g, "test").await.unwrap();
    s.set_red_listed(&addr("b@hopital.mssante.fr"), true)
        .await
        .unwrap();
}

/// Everything a caller can read back, for comparison between the two backends.
#[derive(Debug, PartialEq)]
struct Everything {
    mailboxes: Vec<String>,
    folders: Vec<String>,
    messages: Vec<String>,
    bodies: Vec<Vec<u8>>,
    changes: Vec<String>,
    subscriptions: Vec<Vec<String>>,
    quotas: Vec<String>,
    grants: Vec<String>,
    queue: Vec<String>,
    audit: Vec<String>,
    audit_verify: String,
    documents: Vec<String>,
    health_documents: Vec<String>,
    indicators: String,
    exchanges: String,
    notifications: String,
    directory: Vec<String>,
    professional: String,
    red_listed: Vec<String>,
}

async fn everything<S: Store + DirectoryStore>(s: &S) -> Everything {
    let mailboxes = s.list_mailboxes().await.unwrap();
    let mut e = Everything {
        mailboxes: mailboxes
            .iter()
            .map(|m| {
                format!(
                    "{} {} {:?} {:?}",
                    m.id.0, m.address, m.status, m.quota_bytes
                )
            })
            .collect(),
        folders: vec![],
        messages: vec![],
        bodies: vec![],
        changes: vec![],
        subscriptions: vec![],
        quotas: vec![],
        grants: vec![],
        queue: vec![format!("{:?}", s.queue().await.unwrap())],
        audit: vec![format!("{:?}", s.audit_log(0, 1000).await.unwrap())],
        audit_verify: format!("{:?}", s.audit_verify().await.unwrap()),
        documents: vec![format!("{:?}", s.document("trust-list").await.unwrap())],
        health_documents: vec![],
        indicators: format!("{:?}", s.usage_indicators("2025-06").await.unwrap()),
        exchanges: format!(
            "{:?} {:?}",
            s.exchange_history("a@hopital.mssante.fr", "123456789012345@patient.mssante.fr")
                .await
                .unwrap(),
            s.answers_closed_message(
                "123456789012345@patient.mssante.fr",
                strings(&["fin-1@hopital"])
            )
            .await
            .unwrap()
        ),
        notifications: format!("{:?}", s.notifications_due(i64::MAX, 100).await.unwrap()),
        directory: s
            .directory_mailboxes(None, 100)
            .await
            .unwrap()
            .iter()
            .map(|m| format!("{m:?}"))
            .collect(),
        professional: format!(
            "{:?}",
            s.directory_professional("810001045367").await.unwrap()
        ),
        red_listed: s.red_listed().await.unwrap(),
    };
    for m in &mailboxes {
        e.subscriptions.push(s.subscriptions(m.id).await.unwrap());
        e.quotas.push(format!("{:?}", s.quota(m.id).await.unwrap()));
        e.grants
            .push(format!("{:?}", s.grants_on(&m.address).await.unwrap()));
        e.health_documents.push(
            s.documents(m.id, true)
                .await
                .unwrap()
                .iter()
                .map(|d| {
                    format!(
                        "{} {} {:?} {} {:?}",
                        d.row, d.cda_id, d.status, d.message_uid, d.folder
                    )
                })
                .collect::<Vec<_>>()
                .join(";"),
        );
        for f in s.folders(m.id).await.unwrap() {
            e.folders.push(format!("{f:?}"));
            e.changes
                .push(format!("{:?}", s.changes_since(f.id, 0).await.unwrap()));
            for meta in s.messages(f.id).await.unwrap() {
                e.messages.push(format!("{meta:?}"));
                e.bodies
                    .push(s.message_body(f.id, meta.uid).await.unwrap().unwrap());
            }
        }
    }
    e
}

fn target(url: &str) -> PostgresTarget {
    PostgresTarget {
        url: url.to_owned(),
        password: None,
        tls: PostgresTls::Disabled,
    }
}

async fn open_target(url: &str) -> PostgresStore {
    let mut options = PostgresOptions::new(4);
    options.staging_dir = common::postgres::staging_dir();
    PostgresStore::connect(url, options).await.unwrap()
}

/// A filled SQLite store, closed; what it holds read back.
async fn filled_source() -> (tempfile::TempDir, std::path::PathBuf, Everything) {
    let dir = tempfile::tempdir().unwrap();
    let path = common::db_path(dir.path());
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    fill(&store).await;
    let expected = everything(&store).await;
    store.close().await.unwrap();
    (dir, path, expected)
}

#[tokio::test(flavor = "multi_thread")]
async fn everything_is_carried_over_with_its_ids() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let (_dir, path, expected) = filled_source().await;
    assert!(
        std::fs::read_dir(path.parent().unwrap().join("blobs"))
            .unwrap()
            .next()
            .is_some(),
        "the source has blob files"
    );
    let report = migrate_sqlite_to_postgres(&path, &target(&url), &mut NoProgress)
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    assert_eq!(report.start, MigrationStart::Fresh);
    assert!(report.source_audit.broken.is_none() && report.source_audit.records == 11);
    let pg = open_target(&url).await;
    let found = everything(&pg).await;
    assert_eq!(found, expected);

    // New writes continue the sequences: no id, UIDVALIDITY nor UID handed out again.
    let a = pg
        .mailbox(&addr("a@hopital.mssante.fr"))
        .await
        .unwrap()
        .unwrap();
    let folders = pg.folders(a.id).await.unwrap();
    let new_folder = pg.create_folder(a.id, "Nouveau").await.unwrap();
    assert!(
        folders
            .iter()
            .all(|f| f.uid_validity < new_folder.uid_validity)
    );
    assert!(folders.iter().all(|f| f.id < new_folder.id));
    let inbox = folders.iter().find(|f| f.name == "INBOX").unwrap();
    let d = pg
        .append(inbox.id, message(500, 100).into(), vec![], NOW)
        .await
        .unwrap();
    assert_eq!(d.uid, inbox.uid_next);
    assert!(d.modseq > inbox.highest_modseq);
    let queued_max = pg
        .queue()
        .await
        .unwrap()
        .iter()
        .map(|q| q.id.0)
        .max()
        .unwrap();
    let new_id = pg
        .enqueue(NewQueued {
            sender: None,
            recipients: vec![QueuedRecipient {
                address: addr("r@clinique.mssante.fr"),
                status: RecipientStatus::Pending,
                detail: None,
            }],
            message: message(501, 100).into(),
            next_attempt: NOW,
            envelope: serde_json::json!({}),
        })
        .await
        .unwrap();
    // The dequeued entry (queued_max + 1) is not handed out again.
    assert_eq!(new_id.0, queued_max + 2);
    pg.audit(event(200)).await.unwrap();
    let verified = pg.audit_verify().await.unwrap();
    assert_eq!((verified.records, verified.broken), (12, None));

    // Run again: already done, verified again, nothing copied (the new writes since are
    // found as differences).
    pg.close();
    let again = migrate_sqlite_to_postgres(&path, &target(&url), &mut NoProgress)
        .await
        .unwrap();
    assert_eq!(again.start, MigrationStart::AlreadyDone);
    assert_eq!(again.rows_copied, 0);
    assert!(!again.verified());
}

/// Stops the migration after `left` batches.
struct StopAfter {
    left: usize,
    batches: usize,
}

impl MigrationProgress for StopAfter {
    fn table_started(&mut self, _: &str, _: u64, _: u64) {}
    fn rows_copied(&mut self, _: &str, _: u64, _: u64) -> mssd_store::Result<()> {
        self.batches += 1;
        if self.left == 0 {
            return Err(Error::BackendMigration("interrupted by the test".into()));
        }
        self.left -= 1;
        Ok(())
    }
    fn table_finished(&mut self, _: &str) {}
    fn verifying(&mut self, _: &str) {}
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_migration_resumes_to_the_same_result() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let (_dir, path, expected) = filled_source().await;
    let mut total = 0;
    for stop_after in [3, 0, 5] {
        let mut hook = StopAfter {
            left: stop_after,
            batches: 0,
        };
        let err = migrate_sqlite_to_postgres(&path, &target(&url), &mut hook)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("interrupted by the test"), "{err}");
        total += hook.batches;
    }
    let report = migrate_sqlite_to_postgres(&path, &target(&url), &mut NoProgress)
        .await
        .unwrap();
    assert_eq!(report.start, MigrationStart::Resumed);
    assert!(report.verified(), "{report:#?}");
    assert!(total >= 9);
    let pg = open_target(&url).await;
    assert_eq!(everything(&pg).await, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_holding_other_data_is_refused() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let (_dir, path, _) = filled_source().await;
    let other = open_target(&url).await;
    add_mailbox(&other, "x@ailleurs.mssante.fr").await;
    other.close();
    let err = migrate_sqlite_to_postgres(&path, &target(&url), &mut NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BackendMigration(m) if m.contains("already holds mssd data")),
        "{err}"
    );

    // A migration from another source (here: this one, changed since) is refused too.
    let Some(url) = fresh_database().await else {
        return;
    };
    let mut hook = StopAfter {
        left: 1,
        batches: 0,
    };
    migrate_sqlite_to_postgres(&path, &target(&url), &mut hook)
        .await
        .unwrap_err();
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    store.audit(event(300)).await.unwrap();
    store.close().await.unwrap();
    let err = migrate_sqlite_to_postgres(&path, &target(&url), &mut NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BackendMigration(m) if m.contains("another source")),
        "{err}"
    );
}
