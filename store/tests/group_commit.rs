//! The writer really groups concurrent writes into shared commits, and isolates failing jobs.

mod common;

use std::sync::Arc;

use common::{db_path, new_mailbox};
use mssd_store::{Delivery, Error, MailboxId, SqliteOptions, SqliteStore, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(SqliteStore::open(&db_path(dir.path()), SqliteOptions::default()).unwrap());
    let mailbox = store
        .create_mailbox(new_mailbox("gc@x.mssante.fr"))
        .await
        .unwrap();
    let before = store.stats();
    assert_eq!((before.commits, before.writes), (1, 1));

    const WRITERS: usize = 50;
    const PER_WRITER: usize = 20;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut uids = Vec::new();
            for i in 0..PER_WRITER {
                let message = format!("writer {w} message {i}").into_bytes();
                let d = store
                    .deliver(Delivery {
                        recipients: vec![mailbox.id],
                        message: message.into(),
                        internal_date: 0,
                        documents: Vec::new(),
                    })
                    .await
                    .unwrap();
                uids.push(d[0].uid);
            }
            uids
        }));
    }
    let mut uids = Vec::new();
    for t in tasks {
        uids.extend(t.await.unwrap());
    }
    uids.sort_unstable();
    let expected: Vec<u32> = (1..=(WRITERS * PER_WRITER) as u32).collect();
    assert_eq!(uids, expected, "every write got its own UID, none lost");

    let after = store.stats();
    let writes = after.writes - before.writes;
    let commits = after.commits - before.commits;
    assert_eq!(writes, (WRITERS * PER_WRITER) as u64);
    assert!(
        commits < writes,
        "no grouping: {commits} commits for {writes} writes"
    );
    println!("{writes} writes in {commits} commits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_does_not_sink_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(SqliteStore::open(&db_path(dir.path()), SqliteOptions::default()).unwrap());
    let mailbox = store
        .create_mailbox(new_mailbox("iso@x.mssante.fr"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..100i64 {
        let store = Arc::clone(&store);
        // Every third job targets a mailbox that does not exist.
        let target = if i % 3 == 0 {
            MailboxId(10_000 + i)
        } else {
            mailbox.id
        };
        tasks.push(tokio::spawn(async move {
            store
                .deliver(Delivery {
                    recipients: vec![target],
                    message: i.to_string().into_bytes().into(),
                    internal_date: i,
                    documents: Vec::new(),
                })
                .await
        }));
    }
    let mut ok = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(_) => {
                assert_ne!(i % 3, 0);
                ok += 1;
            }
            Err(e) => {
                assert_eq!(i % 3, 0, "job {i} failed: {e}");
                assert!(matches!(e, Error::NotFound { .. }), "{e}");
            }
        }
    }
    let inbox = store.folders(mailbox.id).await.unwrap().remove(0);
    assert_eq!(inbox.messages, ok);
    assert_eq!(inbox.uid_next, ok + 1, "failed jobs consumed no UID");
    let raw = rusqlite::Connection::open(db_path(dir.path())).unwrap();
    let blobs: u32 = raw
        .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(blobs, ok, "failed jobs left no blob");
    assert_eq!(store.stats().writes, 1 + u64::from(ok));
}

#[tokio::test(flavor = "multi_thread")]
async fn close_then_reopen_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    store
        .create_mailbox(new_mailbox("c@x.mssante.fr"))
        .await
        .unwrap();
    store.close().await.unwrap();
    // Everything acknowledged before close is there after reopening.
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    assert_eq!(store.list_mailboxes().await.unwrap().len(), 1);
    let health = store.health().await.unwrap();
    assert_eq!(health.mailboxes, 1);
    assert!(health.quick_check_ok);
}
