//! Usage counters and quota enforcement.

#[macro_use]
mod common;

use std::sync::Arc;

use common::{Db, add_mailbox, folder_named, new_mailbox, open_temp, strings};
use mssd_store::{Delivery, Error, MailboxId, Store};

/// Usage recomputed from the rows, to compare with the maintained counters.
async fn recomputed(db: &Db, mailbox: MailboxId) -> (u64, u64) {
    let bytes = db
        .scalar(
            "SELECT CAST(coalesce(sum(b.size), 0) AS BIGINT) FROM messages m \
             JOIN folders f ON f.id = m.folder_id JOIN blobs b ON b.id = m.blob_id \
             WHERE f.mailbox_id = $1",
            &[mailbox.0],
        )
        .await;
    let count = db
        .scalar(
            "SELECT count(*) FROM messages m JOIN folders f ON f.id = m.folder_id \
             WHERE f.mailbox_id = $1",
            &[mailbox.0],
        )
        .await;
    (bytes as u64, count as u64)
}

async fn usage(db: &Db, mailbox: MailboxId) -> (u64, u64) {
    let q = db.store.quota(mailbox).await.unwrap();
    (q.used_bytes, q.used_messages)
}

async fn counters_stay_exact_through_every_write(db: Db) {
    let s = &*db.store;
    let a = add_mailbox(s, "a@x.mssante.fr").await;
    let b = add_mailbox(s, "b@x.mssante.fr").await;
    let a_inbox = folder_named(s, a.id, "INBOX").await.id;
    let a_trash = folder_named(s, a.id, "Trash").await.id;
    let b_inbox = folder_named(s, b.id, "INBOX").await.id;
    assert_eq!(usage(&db, a.id).await, (0, 0));
    let q = s.quota(a.id).await.unwrap();
    assert_eq!(q.limit_bytes, None);

    // After each step: the expected (bytes, messages) of a and of b, from the counters and
    // recomputed from the rows.
    async fn check(db: &Db, a: MailboxId, b: MailboxId, want: [(u64, u64); 2], step: &str) {
        assert_eq!(
            [usage(db, a).await, usage(db, b).await],
            want,
            "after {step}"
        );
        assert_eq!(
            [recomputed(db, a).await, recomputed(db, b).await],
            want,
            "rows after {step}"
        );
    }
    s.deliver(Delivery {
        recipients: vec![a.id, b.id],
        message: vec![b'x'; 10].into(),
        internal_date: 0,
        documents: Vec::new(),
    })
    .await
    .unwrap();
    check(&db, a.id, b.id, [(10, 1), (10, 1)], "deliver").await;
    s.append(a_inbox, vec![b'y'; 7].into(), vec![], 0)
        .await
        .unwrap(); // a INBOX uid 2
    check(&db, a.id, b.id, [(17, 2), (10, 1)], "append").await;
    s.copy_messages(a_inbox, vec![1, 2], a_trash).await.unwrap(); // a Trash uids 1, 2
    check(&db, a.id, b.id, [(34, 4), (10, 1)], "copy").await;
    s.move_messages(a_trash, vec![2], b_inbox).await.unwrap(); // 7 bytes from a to b
    check(&db, a.id, b.id, [(27, 3), (17, 2)], "move to b").await;
    s.move_messages(a_inbox, vec![1], a_trash).await.unwrap();
    check(&db, a.id, b.id, [(27, 3), (17, 2)], "move within a").await;
    s.expunge(a_inbox, vec![2, 99]).await.unwrap();
    check(&db, a.id, b.id, [(20, 2), (17, 2)], "expunge").await;
    let dossiers = s.create_folder(a.id, "Dossiers").await.unwrap().id;
    s.append(dossiers, vec![b'z'; 100].into(), vec![], 0)
        .await
        .unwrap();
    s.copy_messages(a_trash, vec![1], dossiers).await.unwrap();
    check(&db, a.id, b.id, [(130, 4), (17, 2)], "fill a folder").await;
    s.delete_folder(a.id, "Dossiers").await.unwrap();
    check(&db, a.id, b.id, [(20, 2), (17, 2)], "delete_folder").await;
}

async fn counters_match_the_rows_after_each_step(db: Db) {
    let s = &*db.store;
    let a = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, a.id, "INBOX").await.id;
    let sent = folder_named(s, a.id, "Sent").await.id;
    let steps: Vec<(&str, (u64, u64))> = vec![
        ("append 5", (5, 1)),
        ("append 3", (8, 2)),
        ("copy both", (16, 4)),
        ("move one back", (16, 4)),
        ("expunge inbox", (3, 1)),
        ("delete Sent", (0, 0)),
    ];
    s.create_folder(a.id, "Extra").await.unwrap();
    for (step, want) in steps {
        match step {
            "append 5" => drop(
                s.append(inbox, b"12345".to_vec().into(), vec![], 0)
                    .await
                    .unwrap(),
            ),
            "append 3" => drop(
                s.append(inbox, b"123".to_vec().into(), vec![], 0)
                    .await
                    .unwrap(),
            ),
            "copy both" => drop(s.copy_messages(inbox, vec![1, 2], sent).await.unwrap()),
            "move one back" => drop(s.move_messages(sent, vec![1], inbox).await.unwrap()),
            "expunge inbox" => drop(s.expunge(inbox, vec![1, 2, 3]).await.unwrap()),
            "delete Sent" => s.delete_folder(a.id, "Sent").await.unwrap(),
            other => panic!("unknown step {other}"),
        }
        assert_eq!(usage(&db, a.id).await, want, "after {step}");
        assert_eq!(recomputed(&db, a.id).await, want, "rows after {step}");
    }
}

async fn quota_exceeded_leaves_nothing(db: Db) {
    let s = &*db.store;
    let roomy = add_mailbox(s, "roomy@x.mssante.fr").await;
    let mut small = new_mailbox("small@x.mssante.fr");
    small.quota_bytes = Some(20);
    let small = s.create_mailbox(small).await.unwrap();
    let small_inbox = folder_named(s, small.id, "INBOX").await.id;
    let small_trash = folder_named(s, small.id, "Trash").await.id;
    let roomy_inbox = folder_named(s, roomy.id, "INBOX").await.id;

    s.append(small_inbox, vec![b'a'; 15].into(), vec![], 0)
        .await
        .unwrap();
    assert_eq!(s.quota(small.id).await.unwrap().limit_bytes, Some(20));
    let blobs = db.count("blobs").await;

    // A delivery to two mailboxes, one of them full: nobody gets it.
    let err = s
        .deliver(Delivery {
            recipients: vec![roomy.id, small.id],
            message: vec![b'b'; 6].into(),
            internal_date: 0,
            documents: Vec::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::QuotaExceeded {
            mailbox: small.id,
            used: 15,
            limit: 20,
            needed: 6
        }
    );
    assert!(!err.to_string().contains("@"), "{err}");
    assert_eq!(db.count("blobs").await, blobs);
    assert_eq!(usage(&db, roomy.id).await, (0, 0));
    assert!(s.messages(roomy_inbox).await.unwrap().is_empty());

    // Append, copy within the mailbox and move from another mailbox all check the limit.
    let err = s
        .append(small_inbox, vec![b'c'; 6].into(), vec![], 0)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::QuotaExceeded { needed: 6, .. }),
        "{err}"
    );
    let err = s
        .copy_messages(small_inbox, vec![1], small_trash)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::QuotaExceeded { needed: 15, .. }),
        "{err}"
    );
    s.append(roomy_inbox, vec![b'd'; 6].into(), vec![], 0)
        .await
        .unwrap();
    let err = s
        .move_messages(roomy_inbox, vec![1], small_inbox)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded { .. }), "{err}");
    assert_eq!(
        s.messages(roomy_inbox).await.unwrap().len(),
        1,
        "the move undid nothing"
    );
    assert_eq!(usage(&db, small.id).await, (15, 1));
    assert_eq!(usage(&db, roomy.id).await, (6, 1));

    // A move inside the full mailbox does not grow it, so it is allowed; exactly filling is too.
    s.move_messages(small_inbox, vec![1], small_trash)
        .await
        .unwrap();
    s.append(small_inbox, vec![b'e'; 5].into(), strings(&["\\Seen"]), 0)
        .await
        .unwrap();
    assert_eq!(usage(&db, small.id).await, (20, 2));
    assert_eq!(recomputed(&db, small.id).await, (20, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_job_does_not_fail_its_batch() {
    let db = open_temp();
    let store = Arc::new(db.store);
    let mut full = new_mailbox("full@x.mssante.fr");
    full.quota_bytes = Some(0);
    let full = store.create_mailbox(full).await.unwrap();
    let ok = store
        .create_mailbox(new_mailbox("ok@x.mssante.fr"))
        .await
        .unwrap();
    let before = store.stats();

    const JOBS: u32 = 40;
    let mut tasks = Vec::new();
    for i in 0..JOBS {
        let store = Arc::clone(&store);
        let target = if i % 2 == 0 { ok.id } else { full.id };
        tasks.push(tokio::spawn(async move {
            store
                .deliver(Delivery {
                    recipients: vec![target],
                    message: format!("message {i}").into_bytes().into(),
                    internal_date: 0,
                    documents: Vec::new(),
                })
                .await
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(Error::QuotaExceeded { mailbox, .. }) => assert_eq!(mailbox, full.id),
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(accepted, JOBS / 2);
    let after = store.stats();
    assert_eq!(after.writes - before.writes, u64::from(JOBS / 2));
    let ok_inbox = folder_named(store.as_ref(), ok.id, "INBOX").await;
    assert_eq!(ok_inbox.messages, JOBS / 2);
    let usage = store.quota(full.id).await.unwrap();
    assert_eq!((usage.used_bytes, usage.used_messages), (0, 0));
    assert!(
        after.commits - before.commits < u64::from(JOBS),
        "jobs were never batched: the test proves nothing"
    );
}

contract_tests!(
    counters_stay_exact_through_every_write,
    counters_match_the_rows_after_each_step,
    quota_exceeded_leaves_nothing,
);
