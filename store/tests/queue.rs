#[macro_use]
mod common;

use common::{Db, addr};
use mssd_store::{Error, NewQueued, QueueId, QueuedRecipient, RecipientStatus};
use serde_json::json;
use sha2::{Digest, Sha256};

fn entry(recipients: &[&str], next_attempt: i64, message: &[u8]) -> NewQueued {
    NewQueued {
        sender: Some(addr("Sender@hopital-a.mssante.fr")),
        recipients: recipients
            .iter()
            .map(|r| QueuedRecipient {
                address: addr(r),
                status: RecipientStatus::Pending,
                detail: None,
            })
            .collect(),
        message: message.to_vec().into(),
        next_attempt,
        envelope: json!({"ret": "HDRS", "envid": "abc"}),
    }
}

async fn enqueue_and_read_back(db: Db) {
    let id = db
        .store
        .enqueue(entry(
            &[
                "Dr.B@clinique-b.mssante.fr",
                "c@clinique-b.mssante.fr",
                "Dr.B@clinique-b.mssante.fr",
            ],
            100,
            b"msg",
        ))
        .await
        .unwrap();
    let q = db.store.queue().await.unwrap();
    assert_eq!(q.len(), 1);
    let e = &q[0];
    assert_eq!(e.id, id);
    assert_eq!(
        e.sender.as_ref().unwrap().as_str(),
        "Sender@hopital-a.mssante.fr"
    );
    let rcpts: Vec<&str> = e.recipients.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(
        rcpts,
        vec!["Dr.B@clinique-b.mssante.fr", "c@clinique-b.mssante.fr"],
        "case kept, duplicate dropped"
    );
    assert_eq!(e.message, b"msg");
    assert_eq!(e.sha256, hex::encode(Sha256::digest(b"msg")));
    assert_eq!(e.envelope, json!({"ret": "HDRS", "envid": "abc"}));
    assert_eq!(
        (e.next_attempt, e.attempts, e.last_error.as_deref()),
        (Some(100), 0, None)
    );

    // Null reverse-path (a DSN) survives too.
    let mut dsn = entry(&["x@y.mssante.fr"], 100, b"dsn");
    dsn.sender = None;
    let dsn_id = db.store.enqueue(dsn).await.unwrap();
    let q = db.store.queue().await.unwrap();
    assert_eq!(q[1].id, dsn_id);
    assert!(q[1].sender.is_none());
}

async fn due_orders_by_next_attempt_and_honours_limit(db: Db) {
    let late = db
        .store
        .enqueue(entry(&["a@b.mssante.fr"], 300, b"late"))
        .await
        .unwrap();
    let early = db
        .store
        .enqueue(entry(&["a@b.mssante.fr"], 100, b"early"))
        .await
        .unwrap();
    let middle = db
        .store
        .enqueue(entry(&["a@b.mssante.fr"], 200, b"middle"))
        .await
        .unwrap();
    assert_eq!(ids(db.store.due(99, 10).await.unwrap()), vec![]);
    assert_eq!(
        ids(db.store.due(250, 10).await.unwrap()),
        vec![early, middle]
    );
    assert_eq!(
        ids(db.store.due(1_000, 2).await.unwrap()),
        vec![early, middle]
    );
    assert_eq!(
        ids(db.store.due(1_000, 10).await.unwrap()),
        vec![early, middle, late]
    );

    // A failed attempt reschedules; None parks the entry for good.
    db.store
        .record_attempt(early, Some(400), Some("451 4.7.0 try later".to_owned()))
        .await
        .unwrap();
    db.store
        .record_attempt(middle, None, Some("550 5.1.1 unknown".to_owned()))
        .await
        .unwrap();
    assert_eq!(ids(db.store.due(350, 10).await.unwrap()), vec![late]);
    assert_eq!(
        ids(db.store.due(1_000, 10).await.unwrap()),
        vec![late, early]
    );
    let all = db.store.queue().await.unwrap();
    let early_entry = all.iter().find(|q| q.id == early).unwrap();
    assert_eq!(
        (early_entry.attempts, early_entry.next_attempt),
        (1, Some(400))
    );
    assert_eq!(
        early_entry.last_error.as_deref(),
        Some("451 4.7.0 try later")
    );
    let parked = all.iter().find(|q| q.id == middle).unwrap();
    assert_eq!((parked.attempts, parked.next_attempt), (1, None));
}

async fn recipient_status_and_dequeue(db: Db) {
    let id = db
        .store
        .enqueue(entry(&["a@b.mssante.fr", "c@b.mssante.fr"], 1, b"m"))
        .await
        .unwrap();
    db.store
        .set_recipient_status(
            id,
            &addr("c@b.mssante.fr"),
            RecipientStatus::Delivered,
            Some("250 ok".to_owned()),
        )
        .await
        .unwrap();
    let e = db.store.queue().await.unwrap().remove(0);
    assert_eq!(e.recipients[0].status, RecipientStatus::Pending);
    assert_eq!(e.recipients[1].status, RecipientStatus::Delivered);
    assert_eq!(e.recipients[1].detail.as_deref(), Some("250 ok"));
    let err = db
        .store
        .set_recipient_status(id, &addr("z@b.mssante.fr"), RecipientStatus::Failed, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");

    assert_eq!(db.count("blobs").await, 1);
    db.store.dequeue(id).await.unwrap();
    assert!(db.store.queue().await.unwrap().is_empty());
    assert_eq!(db.count("blobs").await, 0);
    assert_eq!(db.count("queue_recipients").await, 0);
    for err in [
        db.store.dequeue(id).await.unwrap_err(),
        db.store
            .record_attempt(QueueId(12345), Some(1), None)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
    }
    let err = db.store.enqueue(entry(&[], 1, b"m")).await.unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
}

async fn reschedule_keeps_attempts_and_summary_counts_without_bodies(db: Db) {
    let store = &*db.store;
    assert_eq!(
        store.queue_summary().await.unwrap(),
        mssd_store::QueueSummary::default()
    );
    let id = store
        .enqueue(entry(&["a@clinique-b.mssante.fr"], 100, b"msg"))
        .await
        .unwrap();
    store
        .record_attempt(id, Some(500), Some("421 later".into()))
        .await
        .unwrap();
    store.reschedule(id, 150).await.unwrap();
    let queued = store.queue().await.unwrap();
    assert_eq!((queued[0].attempts, queued[0].next_attempt), (1, Some(150)));
    assert_eq!(queued[0].last_error.as_deref(), Some("421 later"));
    let summary = store.queue_summary().await.unwrap();
    assert_eq!(summary.depth, 1);
    assert_eq!(summary.oldest_created_at, Some(queued[0].created_at));
    assert!(store.reschedule(QueueId(9999), 1).await.is_err());
}

fn ids(v: Vec<mssd_store::Queued>) -> Vec<QueueId> {
    v.into_iter().map(|q| q.id).collect()
}

async fn claimed_entries_are_not_due_until_their_lease_ends(db: Db) {
    let store = &*db.store;
    let late = store
        .enqueue(entry(&["a@b.mssante.fr"], 300, b"late"))
        .await
        .unwrap();
    let early = store
        .enqueue(entry(&["a@b.mssante.fr"], 100, b"early"))
        .await
        .unwrap();
    let future = store
        .enqueue(entry(&["a@b.mssante.fr"], 5_000, b"future"))
        .await
        .unwrap();
    let now = 1_000;
    let lease_until = now + 900;

    // `due`'s order and limit; the claimed entries carry their lease and their bytes.
    let claimed = store.claim_due(now, lease_until, 1).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(
        (claimed[0].id, claimed[0].next_attempt),
        (early, Some(lease_until))
    );
    assert_eq!(claimed[0].message, b"early");
    assert_eq!(ids(store.due(now, 10).await.unwrap()), vec![late]);
    assert_eq!(
        ids(store.claim_due(now, lease_until, 10).await.unwrap()),
        vec![late]
    );
    assert_eq!(
        store.claim_due(now, lease_until, 10).await.unwrap().len(),
        0
    );
    assert_eq!(
        store
            .claim_due(lease_until - 1, lease_until + 900, 10)
            .await
            .unwrap()
            .len(),
        0,
        "no entry is due again before its lease ends"
    );

    // Settling an attempt ends the lease: the entry follows its retry schedule again.
    store
        .record_attempt(late, Some(1_200), Some("451 later".to_owned()))
        .await
        .unwrap();
    assert_eq!(ids(store.due(1_200, 10).await.unwrap()), vec![late]);

    // The runner holding `early` died: once the lease ends, another runner takes it.
    let after = store
        .claim_due(lease_until, lease_until + 900, 10)
        .await
        .unwrap();
    assert_eq!(ids(after), vec![late, early]);
    let entry = store
        .queue()
        .await
        .unwrap()
        .into_iter()
        .find(|q| q.id == early)
        .unwrap();
    assert_eq!(
        (entry.attempts, entry.next_attempt),
        (0, Some(lease_until + 900)),
        "a lease is not an attempt"
    );
    assert_eq!(
        ids(store.claim_due(5_000, 5_900, 10).await.unwrap()),
        vec![late, early, future],
        "entries whose lease ended are due from its end"
    );
}

async fn an_operator_retry_does_not_cut_a_lease(db: Db) {
    let store = &*db.store;
    let held = store
        .enqueue(entry(&["a@b.mssante.fr"], 100, b"held"))
        .await
        .unwrap();
    let planned = store
        .enqueue(entry(&["a@b.mssante.fr"], 5_000, b"planned"))
        .await
        .unwrap();
    let now = 1_000;
    assert_eq!(
        ids(store.claim_due(now, 1_900, 10).await.unwrap()),
        vec![held]
    );

    // `mssd queue retry`: the held entry stays leased, the planned one is due now.
    store.reschedule(held, now).await.unwrap();
    store.reschedule(planned, now).await.unwrap();
    assert_eq!(ids(store.due(now, 10).await.unwrap()), vec![planned]);

    // Retrying one entry now: not while another runner holds it.
    assert!(store.claim_entry(held, now, 1_900).await.unwrap().is_none());
    let mine = store
        .claim_entry(planned, now, 1_900)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((mine.id, mine.next_attempt), (planned, Some(1_900)));
    assert_eq!(mine.message, b"planned");
    assert!(
        store
            .claim_entry(planned, now, 1_900)
            .await
            .unwrap()
            .is_none()
    );
    let after_lease = store
        .claim_entry(held, 1_900, 2_800)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after_lease.next_attempt, Some(2_800));
    let err = store
        .claim_entry(QueueId(9_999), now, 1_900)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");

    // Once the attempt is settled, a retry brings the entry forward again.
    store.record_attempt(held, Some(9_000), None).await.unwrap();
    store.reschedule(held, 2_000).await.unwrap();
    assert_eq!(
        ids(store.due(2_000, 10).await.unwrap()),
        vec![planned, held],
        "the lease of `planned` ended at 1900 (its runner died)"
    );
}

/// Runners on two stores of one database (two nodes; on SQLite, the server and a second
/// process), four tasks each, claim until nothing is left: no entry twice, none forgotten.
async fn concurrent_claimers_share_the_queue(db: Db) {
    const ENTRIES: usize = 60;
    let mut all = Vec::new();
    for i in 0..ENTRIES {
        let message = format!("message {i}");
        let id = db
            .store
            .enqueue(entry(&["a@b.mssante.fr"], 100, message.as_bytes()))
            .await
            .unwrap();
        all.push(id);
    }
    let nodes = [db.store.clone(), db.another_node().await];
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..8 {
        let store = nodes[task % nodes.len()].clone();
        tasks.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store.claim_due(1_000, 1_900, 3).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(ids(claimed));
                tokio::task::yield_now().await;
            }
        });
    }
    let mut claimed = Vec::new();
    while let Some(mine) = tasks.join_next().await {
        claimed.extend(mine.unwrap());
    }
    let count = claimed.len();
    claimed.sort_by_key(|id| id.0);
    claimed.dedup();
    assert_eq!(count, claimed.len(), "an entry was claimed twice");
    assert_eq!(claimed, all, "every entry was claimed");
}

contract_tests!(
    enqueue_and_read_back,
    due_orders_by_next_attempt_and_honours_limit,
    recipient_status_and_dequeue,
    reschedule_keeps_attempts_and_summary_counts_without_bodies,
    claimed_entries_are_not_due_until_their_lease_ends,
    an_operator_retry_does_not_cut_a_lease,
    concurrent_claimers_share_the_queue,
);

/// SQLite has one queue runner, the server: when it starts again after a crash, the leases in
/// the queue are its own, of a round that never settled; those entries are due at once rather
/// than after the lease. Entries waiting for a planned retry keep their schedule.
#[tokio::test]
async fn sqlite_a_restarted_server_releases_the_leases_of_its_crashed_run() {
    let t = common::open_temp();
    let store = &t.store;
    use mssd_store::Store;
    let leased = store
        .enqueue(entry(&["a@b.mssante.fr"], 100, b"in flight"))
        .await
        .unwrap();
    let planned = store
        .enqueue(entry(&["a@b.mssante.fr"], 5_000, b"later"))
        .await
        .unwrap();
    let claimed = store.claim_due(1_000, 1_900, 10).await.unwrap();
    assert_eq!(ids(claimed), vec![leased]);
    assert!(store.due(1_100, 10).await.unwrap().is_empty());

    assert_eq!(store.release_queue_leases(1_100).await.unwrap(), 1);
    assert_eq!(ids(store.due(1_100, 10).await.unwrap()), vec![leased]);
    let queue = store.queue().await.unwrap();
    let next = |id| queue.iter().find(|q| q.id == id).unwrap().next_attempt;
    assert_eq!((next(leased), next(planned)), (Some(1_100), Some(5_000)));
    assert_eq!(store.release_queue_leases(1_200).await.unwrap(), 0);
}
