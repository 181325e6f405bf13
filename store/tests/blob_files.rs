//! Large messages: bodies in blob files beside the database, written once, read back whole,
//! removed with their last reference, and swept when nothing names them.

mod common;

use std::path::{Path, PathBuf};

use common::{addr, new_mailbox, open_temp};
use mssd_store::{
    Acceptance, Appended, AuditEvent, Delivery, Error, MessageBytes, NewQueued, QueuedRecipient,
    RecipientStatus, SPILL_THRESHOLD, Store,
};

/// A message of `size` bytes whose body names `tag` on every line.
fn large(tag: &str, size: usize) -> Vec<u8> {
    let mut m = format!("Subject: {tag}\r\nMessage-ID: <{tag}@x>\r\n\r\n").into_bytes();
    let mut line = 0usize;
    while m.len() < size {
        m.extend_from_slice(
            format!("{tag} line {line} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n").as_bytes(),
        );
        line += 1;
    }
    m
}

/// Every blob file under the database's `blobs/`.
fn files(db: &Path) -> Vec<PathBuf> {
    let root = db.parent().unwrap().join("blobs");
    let mut out = Vec::new();
    for shard in std::fs::read_dir(root).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(shard.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(file.path());
        }
    }
    out
}

fn event(id: &str) -> AuditEvent {
    AuditEvent {
        at: 1,
        kind: "smtp.message".into(),
        actor: "127.0.0.1:1".into(),
        subject: id.into(),
        outcome: "accepted".into(),
        detail: serde_json::json!({}),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_message_body_is_one_file_read_back_whole_and_removed_with_it() {
    let db = open_temp();
    let a = db
        .store
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let b = db
        .store
        .create_mailbox(new_mailbox("b@x.mssante.fr"))
        .await
        .unwrap();
    let small = large("small", 2_000);
    let big = large("big", 3 * SPILL_THRESHOLD);
    for message in [&small, &big] {
        db.store
            .deliver(Delivery {
                recipients: vec![a.id, b.id],
                message: message.clone().into(),
                internal_date: 0,
                documents: Vec::new(),
            })
            .await
            .unwrap();
    }
    assert_eq!(
        files(&db.path()).len(),
        1,
        "only the large body is a file, once for both"
    );
    let on_disk = std::fs::read(&files(&db.path())[0]).unwrap();
    let head_len: i64 = db
        .raw()
        .query_row(
            "SELECT length(bytes) FROM blobs WHERE file IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        &big[..head_len as usize],
        b"Subject: big\r\nMessage-ID: <big@x>\r\n\r\n"
    );
    assert_eq!(
        on_disk,
        big[head_len as usize..],
        "the file holds the body, the row the head"
    );

    let inbox = db.store.folders(a.id).await.unwrap()[0].clone();
    let metas = db.store.messages(inbox.id).await.unwrap();
    assert_eq!(metas[1].size, big.len() as u64);
    assert_eq!(
        db.store.message_body(inbox.id, 2).await.unwrap().unwrap(),
        big
    );
    let bodies = db.store.message_bodies(inbox.id, vec![1, 2]).await.unwrap();
    assert_eq!(
        (bodies[0].1.clone(), bodies[1].1.clone()),
        (small.clone(), big.clone())
    );
    let heads = db
        .store
        .message_heads(inbox.id, vec![2, 1, 9])
        .await
        .unwrap();
    assert_eq!(heads.len(), 2, "an unknown UID is skipped");
    assert_eq!(heads[0].1, small, "a small message whole");
    assert_eq!(
        heads[1].1,
        big[..head_len as usize],
        "a large one's head, not its file"
    );

    // A's copy goes: B still holds the body. B's goes: the file goes.
    db.store.expunge(inbox.id, vec![2]).await.unwrap();
    assert_eq!(files(&db.path()).len(), 1);
    let b_inbox = db.store.folders(b.id).await.unwrap()[0].clone();
    assert_eq!(
        db.store.message_body(b_inbox.id, 2).await.unwrap().unwrap(),
        big
    );
    db.store.expunge(b_inbox.id, vec![2]).await.unwrap();
    assert!(
        files(&db.path()).is_empty(),
        "the last reference took the file along"
    );
    assert_eq!(db.count("blob_garbage"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamed_body_is_stored_once_for_delivery_and_queue() {
    let db = open_temp();
    let a = db
        .store
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let big = large("streamed", 2 * SPILL_THRESHOLD);
    let split = mssd_store::header_end(&big, 1024).unwrap();
    let mut writer = db.store.new_blob().unwrap();
    for chunk in big[split..].chunks(10_000) {
        writer.write(chunk).unwrap();
    }
    let body = writer.finish().unwrap();
    let message = MessageBytes {
        head: big[..split].to_vec(),
        body: Some(body),
    };
    let accepted = db
        .store
        .accept(Acceptance {
            delivery: Some(Delivery {
                recipients: vec![a.id],
                message,
                internal_date: 0,
                documents: Vec::new(),
            }),
            queued: Some(NewQueued {
                sender: Some(addr("a@x.mssante.fr")),
                recipients: vec![QueuedRecipient {
                    address: addr("z@y.mssante.fr"),
                    status: RecipientStatus::Pending,
                    detail: None,
                }],
                message: MessageBytes::default(),
                next_attempt: 0,
                envelope: serde_json::json!({}),
            }),
            audit: event("streamed"),
            usage: Vec::new(),
            exchanges: Vec::new(),
            notify: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        db.count("blobs"),
        1,
        "one row for the delivery and the queue entry"
    );
    assert_eq!(files(&db.path()).len(), 1);
    let queued = db.store.due(0, 10).await.unwrap();
    assert_eq!(queued[0].message, big);
    let inbox = accepted.delivered[0].folder;
    assert_eq!(db.store.message_body(inbox, 1).await.unwrap().unwrap(), big);

    // The queue entry goes; the delivery keeps the file; then the message goes too.
    db.store.dequeue(queued[0].id).await.unwrap();
    assert_eq!(files(&db.path()).len(), 1);
    db.store.expunge(inbox, vec![1]).await.unwrap();
    assert!(files(&db.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_or_abandoned_body_leaves_no_file() {
    let db = open_temp();
    let mut full = new_mailbox("full@x.mssante.fr");
    full.quota_bytes = Some(1000);
    let full = db.store.create_mailbox(full).await.unwrap();
    let err = db
        .store
        .deliver(Delivery {
            recipients: vec![full.id],
            message: large("over", 2 * SPILL_THRESHOLD).into(),
            internal_date: 0,
            documents: Vec::new(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded { .. }), "{err}");
    assert!(
        files(&db.path()).is_empty(),
        "the refused body's file went with it"
    );

    // An upload dropped half-way (a session that lost its client) removes its file.
    let mut writer = db.store.new_blob().unwrap();
    writer.write(b"partial").unwrap();
    assert_eq!(files(&db.path()).len(), 1);
    drop(writer);
    assert!(files(&db.path()).is_empty());
    // So does a finished body no message took.
    let mut writer = db.store.new_blob().unwrap();
    writer.write(b"finished").unwrap();
    drop(writer.finish().unwrap());
    assert!(files(&db.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_removes_files_no_row_names_and_keeps_the_others() {
    let db = open_temp();
    let a = db
        .store
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let big = large("kept", 2 * SPILL_THRESHOLD);
    db.store
        .deliver(Delivery {
            recipients: vec![a.id],
            message: big.clone().into(),
            internal_date: 0,
            documents: Vec::new(),
        })
        .await
        .unwrap();
    // What a crash leaves: a body written but never named, and one whose row's deletion
    // committed before its file was removed.
    let kept = files(&db.path());
    let orphan = kept[0]
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("ab")
        .join("ab".repeat(16));
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"cut short").unwrap();
    let stray = kept[0].parent().unwrap().join("README");
    std::fs::write(&stray, b"not ours").unwrap();
    db.raw()
        .execute(
            "INSERT INTO blob_garbage (file) VALUES (?1)",
            ["cd".repeat(16)],
        )
        .unwrap();
    let gone = orphan
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("cd")
        .join("cd".repeat(16));
    std::fs::create_dir_all(gone.parent().unwrap()).unwrap();
    std::fs::write(&gone, b"deleted").unwrap();

    assert_eq!(db.store.sweep_blob_files().await.unwrap(), 2);
    assert!(!orphan.exists() && !gone.exists());
    assert!(
        stray.exists(),
        "a file that is not a blob name is never touched"
    );
    assert!(kept[0].exists());
    assert_eq!(db.count("blob_garbage"), 0);
    let inbox = db.store.folders(a.id).await.unwrap()[0].id;
    assert_eq!(db.store.message_body(inbox, 1).await.unwrap().unwrap(), big);
}

/// MULTIAPPEND: the messages are stored together or not at all. Over the quota by their
/// total (each alone fits), nothing is stored and no body file stays; under it, all land with
/// consecutive UIDs.
#[tokio::test(flavor = "multi_thread")]
async fn append_all_is_all_or_nothing() {
    let db = open_temp();
    let mut limited = new_mailbox("limited@x.mssante.fr");
    limited.quota_bytes = Some(3 * SPILL_THRESHOLD as u64);
    let limited = db.store.create_mailbox(limited).await.unwrap();
    let inbox = db.store.folders(limited.id).await.unwrap()[0].id;
    let batch = |count: usize| -> Vec<Appended> {
        (0..count)
            .map(|i| Appended {
                message: large(&format!("part{i}"), SPILL_THRESHOLD + 10).into(),
                flags: vec!["\\Seen".into()],
                internal_date: 1_700_000_000 + i as i64,
            })
            .collect()
    };
    let err = db.store.append_all(inbox, batch(4)).await.unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded { .. }), "{err}");
    assert!(db.store.messages(inbox).await.unwrap().is_empty());
    assert!(
        files(&db.path()).is_empty(),
        "no body file of the refused batch"
    );
    assert_eq!(db.store.quota(limited.id).await.unwrap().used_bytes, 0);

    let delivered = db.store.append_all(inbox, batch(2)).await.unwrap();
    let uids: Vec<u32> = delivered.iter().map(|d| d.uid).collect();
    assert_eq!(uids, [1, 2]);
    let stored = db.store.messages(inbox).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(files(&db.path()).len(), 2);
    let body = db.store.message_body(inbox, 2).await.unwrap().unwrap();
    assert!(body.starts_with(b"Subject: part1\r\n"));
}
