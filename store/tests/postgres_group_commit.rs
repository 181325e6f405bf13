//! The group commit of accepted messages on PostgreSQL (`store/src/postgres/group_commit.rs`):
//! acceptances waiting together share one transaction, each in its savepoint, so one that
//! fails does not fail the others, and the audit chain stays whole under concurrent accepts.
//! Batches first take the pipelined way (`store/src/postgres/accept_pipelined.rs`); a batch with
//! a failing acceptance is run again the slow way.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::new_mailbox;
use common::postgres::{connect, fresh_database, staging_dir};
use mssd_store::{
    Acceptance, AuditEvent, Delivery, Direction, Error, MailboxId, NewQueued, PostgresOptions,
    PostgresStore, QueuedRecipient, RecipientStatus, Store, UsageCount,
};

/// The audit trail's advisory lock key (store/src/postgres/audit.rs).
const AUDIT_LOCK: i64 = 0x6d73_7364_6175_6474;

async fn store(url: &str) -> PostgresStore {
    let mut options = PostgresOptions::new(8);
    options.staging_dir = staging_dir();
    PostgresStore::connect(url, options).await.unwrap()
}

fn acceptance(i: usize, recipient: MailboxId, bytes: usize) -> Acceptance {
    Acceptance {
        delivery: Some(Delivery {
            recipients: vec![recipient],
            message: vec![b'a'; bytes].into(),
            internal_date: 0,
            documents: Vec::new(),
        }),
        queued: None,
        audit: AuditEvent {
            at: 1_700_000_000_000,
            kind: "smtp.accept".to_owned(),
            actor: "peer".to_owned(),
            subject: format!("message-{i}"),
            outcome: "ok".to_owned(),
            detail: serde_json::json!({ "n": i }),
        },
        usage: Vec::new(),
        exchanges: Vec::new(),
        notify: Vec::new(),
    }
}

/// Holds the audit lock on a connection of its own: committers cannot commit meanwhile, so
/// the acceptances made then pile up and go in a few batches.
async fn hold_audit_lock(url: &str) -> tokio_postgres::Client {
    let holder = connect(url).await;
    holder
        .execute("SELECT pg_advisory_lock($1)", &[&AUDIT_LOCK])
        .await
        .unwrap();
    holder
}

async fn release_once_queued(holder: tokio_postgres::Client) {
    // Not a timing assertion: the time for every task to queue its acceptance.
    tokio::time::sleep(Duration::from_millis(300)).await;
    holder
        .execute("SELECT pg_advisory_unlock($1)", &[&AUDIT_LOCK])
        .await
        .unwrap();
}

/// What acceptance `i` of the test should meet.
#[derive(Debug, PartialEq)]
enum Expect {
    Accepted,
    OverQuota,
    UnknownMailbox,
}

fn expect(i: usize) -> Expect {
    match i % 5 {
        1 => Expect::OverQuota,
        3 => Expect::UnknownMailbox,
        _ => Expect::Accepted,
    }
}

/// While the audit lock is held elsewhere the committers cannot commit, so the acceptances
/// pile up and then go in a few batches mixing good and failing ones: each failing one gets
/// its own error, the others are committed with their audit lines, and the chain verifies.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_acceptance_in_a_batch_fails_alone() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = Arc::new(store(&url).await);
    let open = s
        .create_mailbox(new_mailbox("open@x.mssante.fr"))
        .await
        .unwrap();
    let mut small = new_mailbox("small@x.mssante.fr");
    small.quota_bytes = Some(100);
    let small = s.create_mailbox(small).await.unwrap();
    let before = s.stats();

    let holder = hold_audit_lock(&url).await;
    const JOBS: usize = 60;
    let mut tasks = Vec::new();
    for i in 0..JOBS {
        let s = Arc::clone(&s);
        let a = match expect(i) {
            Expect::Accepted => acceptance(i, open.id, 10),
            Expect::OverQuota => acceptance(i, small.id, 200),
            Expect::UnknownMailbox => acceptance(i, MailboxId(1_000_000), 10),
        };
        tasks.push(tokio::spawn(async move { (i, s.accept(a).await) }));
    }
    release_once_queued(holder).await;

    let mut accepted = Vec::new();
    for t in tasks {
        let (i, outcome) = t.await.unwrap();
        match (expect(i), outcome) {
            (Expect::Accepted, Ok(a)) => {
                assert_eq!(a.delivered.len(), 1);
                accepted.push(format!("message-{i}"));
            }
            (Expect::OverQuota, Err(Error::QuotaExceeded { .. })) => {}
            (Expect::UnknownMailbox, Err(Error::NotFound { .. })) => {}
            (expected, outcome) => panic!("acceptance {i}: {expected:?} expected, got {outcome:?}"),
        }
    }
    let after = s.stats();
    let (commits, writes) = (after.commits - before.commits, after.writes - before.writes);
    assert_eq!(writes, accepted.len() as u64);
    assert!(commits < writes, "no batch formed: {commits} commits");

    let inbox = s.folders(open.id).await.unwrap()[0].clone();
    let uids: Vec<u32> = s
        .messages(inbox.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(uids, (1..=accepted.len() as u32).collect::<Vec<_>>());
    let usage = s.quota(small.id).await.unwrap();
    assert_eq!((usage.used_bytes, usage.used_messages), (0, 0));

    let mut trail: Vec<String> = s
        .audit_log(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.kind == "smtp.accept")
        .map(|r| r.event.subject)
        .collect();
    trail.sort();
    accepted.sort();
    assert_eq!(
        trail, accepted,
        "one audit line per accepted message, none for the others"
    );
    let verification = s.audit_verify().await.unwrap();
    assert_eq!(verification.broken, None);
    assert!(
        after.retried > before.retried,
        "no batch was run again the slow way"
    );
}

/// Many writers accepting at once, with single audit appends between them: every line is
/// chained, in id order, and `verify` holds.
#[tokio::test(flavor = "multi_thread")]
async fn the_chain_verifies_after_concurrent_accepts() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = Arc::new(store(&url).await);
    let mut boxes = Vec::new();
    for n in 0..8 {
        let m = s
            .create_mailbox(new_mailbox(&format!("box{n}@x.mssante.fr")))
            .await
            .unwrap();
        boxes.push(m.id);
    }
    const WRITERS: usize = 16;
    const EACH: usize = 25;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let s = Arc::clone(&s);
        let boxes = boxes.clone();
        tasks.push(tokio::spawn(async move {
            for k in 0..EACH {
                let i = w * EACH + k;
                if k % 10 == 9 {
                    let mut e = acceptance(i, boxes[0], 1).audit;
                    e.kind = "admin.note".to_owned();
                    s.audit(e).await.unwrap();
                } else {
                    s.accept(acceptance(i, boxes[i % boxes.len()], 512))
                        .await
                        .unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let verification = s.audit_verify().await.unwrap();
    assert_eq!(verification.broken, None);
    assert_eq!(verification.records as usize, WRITERS * EACH);
    let mut delivered = 0;
    for m in &boxes {
        let inbox = s.folders(*m).await.unwrap()[0].clone();
        delivered += s.messages(inbox.id).await.unwrap().len();
    }
    assert_eq!(delivered, WRITERS * (EACH - EACH / 10));
}

/// Good acceptances queued together take the pipelined way (no batch run again) and write what
/// the slow way writes: one delivery per distinct recipient in the recipients' order, queue
/// entries sharing the delivery's bytes or holding their own (recipients once each), usage
/// counters summed, notifications, quota usage.
#[tokio::test(flavor = "multi_thread")]
async fn good_acceptances_go_the_pipelined_way_and_write_what_the_slow_way_writes() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = Arc::new(store(&url).await);
    let a = s
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let b = s
        .create_mailbox(new_mailbox("b@x.mssante.fr"))
        .await
        .unwrap();
    let before = s.stats();

    let holder = hold_audit_lock(&url).await;
    const JOBS: usize = 12;
    let mut tasks = Vec::new();
    for i in 0..JOBS {
        let s = Arc::clone(&s);
        let mut job = acceptance(i, a.id, 0);
        let delivery = job.delivery.as_mut().unwrap();
        delivery.recipients = vec![a.id, b.id, a.id];
        delivery.message = format!("Subject: {i}\r\n\r\nmessage {i}\r\n")
            .into_bytes()
            .into();
        let own = if i % 2 == 0 {
            Vec::new()
        } else {
            format!("queued {i}").into_bytes()
        };
        let recipient = |address: &str| QueuedRecipient {
            address: address.parse().unwrap(),
            status: RecipientStatus::Pending,
            detail: None,
        };
        job.queued = Some(NewQueued {
            sender: Some("a@x.mssante.fr".parse().unwrap()),
            recipients: vec![
                recipient("r1@y.mssante.fr"),
                recipient("r1@y.mssante.fr"),
                recipient("r2@y.mssante.fr"),
            ],
            message: own.into(),
            next_attempt: 100 + i as i64,
            envelope: serde_json::json!({ "i": i }),
        });
        job.usage = vec![UsageCount {
            mailbox: "a@x.mssante.fr".to_owned(),
            direction: Direction::Received,
            xdm: i % 3 == 0,
            documents: 2,
            qualified_ins: 1,
        }];
        job.notify = vec![b.id];
        tasks.push(tokio::spawn(
            async move { (i, s.accept(job).await.unwrap()) },
        ));
    }
    release_once_queued(holder).await;

    let mut queued = Vec::new();
    let inbox_a = s.folders(a.id).await.unwrap()[0].clone();
    for t in tasks {
        let (i, accepted) = t.await.unwrap();
        let mailboxes: Vec<MailboxId> = accepted.delivered.iter().map(|d| d.mailbox).collect();
        assert_eq!(mailboxes, [a.id, b.id], "acceptance {i}");
        let uid = accepted.delivered[0].uid;
        let body = s.message_body(inbox_a.id, uid).await.unwrap().unwrap();
        assert_eq!(
            body,
            format!("Subject: {i}\r\n\r\nmessage {i}\r\n").into_bytes()
        );
        queued.push((i, accepted.queued.unwrap(), body));
    }
    let after = s.stats();
    assert_eq!(after.retried, before.retried, "a batch was run again");
    assert_eq!(after.writes - before.writes, JOBS as u64);
    assert!(
        after.commits - before.commits < JOBS as u64,
        "no batch formed"
    );

    let entries = s.queue().await.unwrap();
    assert_eq!(entries.len(), JOBS);
    for (i, id, delivered) in queued {
        let entry = entries.iter().find(|e| e.id == id).unwrap();
        let expected = if i % 2 == 0 {
            delivered
        } else {
            format!("queued {i}").into_bytes()
        };
        assert_eq!(entry.message, expected, "queue entry of acceptance {i}");
        let to: Vec<&str> = entry
            .recipients
            .iter()
            .map(|r| r.address.as_str())
            .collect();
        assert_eq!(to, ["r1@y.mssante.fr", "r2@y.mssante.fr"]);
        assert_eq!(entry.envelope, serde_json::json!({ "i": i }));
        assert_eq!(entry.next_attempt, Some(100 + i as i64));
    }

    let now = time::OffsetDateTime::now_utc();
    let month = format!("{:04}-{:02}", now.year(), u8::from(now.month()));
    let counters = s.usage_indicators(&month).await.unwrap();
    assert_eq!(counters.len(), 1, "{counters:?}");
    let c = &counters[0];
    assert_eq!(
        (c.messages, c.xdm_messages, c.documents, c.qualified_ins),
        (
            JOBS as u64,
            JOBS.div_ceil(3) as u64,
            2 * JOBS as u64,
            JOBS as u64
        )
    );
    let notifications = s.notifications_due(i64::MAX, 100).await.unwrap();
    assert_eq!(notifications.len(), JOBS);
    assert!(notifications.iter().all(|n| n.mailbox == b.id));
    for m in [a.id, b.id] {
        let inbox = s.folders(m).await.unwrap()[0].clone();
        let listed = s.messages(inbox.id).await.unwrap();
        let uids: Vec<u32> = listed.iter().map(|m| m.uid).collect();
        assert_eq!(uids, (1..=JOBS as u32).collect::<Vec<_>>());
        let usage = s.quota(m).await.unwrap();
        let bytes: u64 = listed.iter().map(|m| m.size).sum();
        assert_eq!(
            (usage.used_messages, usage.used_bytes),
            (JOBS as u64, bytes)
        );
    }
    assert_eq!(s.audit_verify().await.unwrap().broken, None);
}

/// A pipelined batch computes its audit links from its own events when the trail's last record
/// is chained; a record nobody chained yet (written by hand here, as a restore or an older
/// version might leave) makes it read back and link everything unchained instead.
#[tokio::test(flavor = "multi_thread")]
async fn a_pipelined_batch_links_records_left_unchained_before_it() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let s = store(&url).await;
    let m = s
        .create_mailbox(new_mailbox("unchained@x.mssante.fr"))
        .await
        .unwrap();
    s.accept(acceptance(0, m.id, 64)).await.unwrap();
    let owner = connect(&url).await;
    owner
        .execute(
            "INSERT INTO audit (at, kind, actor, subject, outcome, detail) \
             VALUES (1, 'admin.note', 'operator', 'by hand', 'ok', '{}')",
            &[],
        )
        .await
        .unwrap();
    for i in 1..4 {
        s.accept(acceptance(i, m.id, 64)).await.unwrap();
    }
    let chained: i64 = owner
        .query_one("SELECT count(*) FROM audit_chain", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(chained, 5, "every record linked, the hand-written one too");
    let verification = s.audit_verify().await.unwrap();
    assert_eq!(verification.broken, None);
    assert_eq!(verification.records, 5);
    assert_eq!(s.stats().retried, 0, "no batch ran again the slow way");
}
