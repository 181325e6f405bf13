//! Durable before acknowledged, on PostgreSQL: what a write acknowledged is still there after
//! the server is killed (`pg_ctl -m immediate`, WAL replayed at the next start), UIDs are not
//! handed out twice, and a store whose server went away serves again once it is back, its change feed too. A test
//! binary of its own: it stops its cluster, which no other test may share meanwhile.

mod common;

use std::sync::Arc;

use common::new_mailbox;
use common::postgres::{cluster, fresh_database, staging_dir};
use mssd_store::{AuditEvent, Delivery, PostgresOptions, PostgresStore, Store};

async fn store(url: &str) -> PostgresStore {
    let mut options = PostgresOptions::new(4);
    options.staging_dir = staging_dir();
    PostgresStore::connect(url, options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_a_server_crash() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = Arc::new(store(&url).await);
    let m = s
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    const JOBS: u32 = 40;
    let mut tasks = Vec::new();
    for i in 0..JOBS {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            let delivered = s
                .deliver(Delivery {
                    recipients: vec![m.id],
                    message: format!("Subject: {i}\r\n\r\nbody {i}\r\n")
                        .into_bytes()
                        .into(),
                    internal_date: i64::from(i),
                    documents: Vec::new(),
                })
                .await
                .unwrap();
            s.audit(AuditEvent {
                at: i64::from(i),
                kind: "smtp.accept".to_owned(),
                actor: "test".to_owned(),
                subject: format!("{i}"),
                outcome: "ok".to_owned(),
                detail: serde_json::json!({ "uid": delivered[0].uid }),
            })
            .await
            .unwrap();
            (i, delivered[0])
        }));
    }
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.push(t.await.unwrap());
    }

    cluster().unwrap().crash_and_restart();

    // A new store (a restarted mssd) finds every acknowledged message under its UID.
    let after = store(&url).await;
    for (i, d) in &acknowledged {
        let body = after.message_body(d.folder, d.uid).await.unwrap();
        assert_eq!(
            body,
            Some(format!("Subject: {i}\r\n\r\nbody {i}\r\n").into_bytes()),
            "message {i} (UID {}) after the crash",
            d.uid
        );
    }
    let verified = after.audit_verify().await.unwrap();
    assert_eq!((verified.records, verified.broken), (u64::from(JOBS), None));
    let inbox = acknowledged[0].1.folder;
    let next = after
        .append(inbox, b"after".to_vec().into(), Vec::new(), 0)
        .await
        .unwrap();
    assert_eq!(next.uid, JOBS + 1, "UIDs are not handed out twice");

    // The first store's pooled connections died with the server: it serves again, at worst
    // after one failed attempt per dead connection.
    let mut served = false;
    for _ in 0..10 {
        if s.ping().await.is_ok() && s.folders(m.id).await.is_ok() {
            served = true;
            break;
        }
    }
    assert!(served, "the old store never reconnected");

    // Its change feed listens again: a change made through the new store reaches it (by
    // notification, or by the publication of watched folders when it listens again).
    let mut watcher = s.change_feed().watch(inbox, next.modseq);
    let _ = watcher.borrow_and_update();
    let again = after
        .append(inbox, b"again".to_vec().into(), Vec::new(), 0)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while *watcher.borrow_and_update() < again.modseq {
        tokio::time::timeout_at(deadline, watcher.changed())
            .await
            .expect("the old store's change feed never heard of the change")
            .unwrap();
    }
}
