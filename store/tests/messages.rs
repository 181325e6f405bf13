#[macro_use]
mod common;

use common::{Db, new_mailbox};
use mssd_store::{Delivery, Error, FolderId, MailboxId, Store};
use sha2::{Digest, Sha256};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

async fn inbox(store: &dyn Store, mailbox: MailboxId) -> mssd_store::Folder {
    store
        .folders(mailbox)
        .await
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
}

async fn delivery_to_several_mailboxes_stores_the_bytes_once(db: Db) {
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
    let message = b"Subject: hello\r\n\r\nbody\r\n".to_vec();
    let delivered = db
        .store
        .deliver(Delivery {
            recipients: vec![a.id, b.id, a.id],
            message: message.clone().into(),
            internal_date: 1_700_000_000,
            documents: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        delivered.len(),
        2,
        "a duplicate recipient is delivered once"
    );
    assert_eq!(db.count("blobs").await, 1);
    let expected_sha = hex::encode(Sha256::digest(&message));
    for (d, mailbox) in delivered.iter().zip([a.id, b.id]) {
        assert_eq!(d.mailbox, mailbox);
        assert_eq!(d.uid, 1);
        let inbox = inbox(&*db.store, mailbox).await;
        assert_eq!(d.folder, inbox.id);
        assert_eq!((inbox.messages, inbox.unseen, inbox.uid_next), (1, 1, 2));
        assert_eq!(inbox.highest_modseq, d.modseq);
        let metas = db.store.messages(inbox.id).await.unwrap();
        assert_eq!(metas.len(), 1);
        assert_eq!(metas[0].sha256, expected_sha);
        assert_eq!(metas[0].size, message.len() as u64);
        assert_eq!(metas[0].internal_date, 1_700_000_000);
        assert!(metas[0].flags.is_empty());
        assert_eq!(
            db.store.message_body(inbox.id, 1).await.unwrap().unwrap(),
            message
        );
    }
}

async fn delivery_is_all_or_nothing(db: Db) {
    let a = db
        .store
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let err = db
        .store
        .deliver(Delivery {
            recipients: vec![a.id, MailboxId(9_999)],
            message: b"m".to_vec().into(),
            internal_date: 0,
            documents: Vec::new(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let inbox = inbox(&*db.store, a.id).await;
    assert_eq!(
        (inbox.messages, inbox.uid_next, inbox.highest_modseq),
        (0, 1, 1)
    );
    assert_eq!(db.count("blobs").await, 0);

    let err = db
        .store
        .deliver(Delivery {
            recipients: vec![],
            message: b"m".to_vec().into(),
            internal_date: 0,
            documents: Vec::new(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
}

async fn uids_grow_and_are_never_reused(db: Db) {
    let m = db
        .store
        .create_mailbox(new_mailbox("u@x.mssante.fr"))
        .await
        .unwrap();
    let folder = inbox(&*db.store, m.id).await;
    let mut last_modseq = folder.highest_modseq;
    for expected_uid in 1..=3u32 {
        let d = db
            .store
            .append(
                folder.id,
                format!("m{expected_uid}").into_bytes().into(),
                vec![],
                5,
            )
            .await
            .unwrap();
        assert_eq!(d.uid, expected_uid);
        assert!(
            d.modseq > last_modseq,
            "modseq must grow: {} after {last_modseq}",
            d.modseq
        );
        last_modseq = d.modseq;
    }
    let removed = db
        .store
        .expunge(folder.id, vec![3, 2, 3, 42])
        .await
        .unwrap();
    assert_eq!(removed, vec![2, 3]);
    let after_expunge = inbox(&*db.store, m.id).await;
    assert!(
        after_expunge.highest_modseq > last_modseq,
        "expunge bumps HIGHESTMODSEQ"
    );
    assert_eq!(after_expunge.messages, 1);
    assert_eq!(db.count("blobs").await, 1, "expunged blobs are deleted");

    let d = db
        .store
        .append(folder.id, b"m4".to_vec().into(), vec![], 5)
        .await
        .unwrap();
    assert_eq!(d.uid, 4, "UIDs 2 and 3 are never handed out again");
    let uids: Vec<u32> = db
        .store
        .messages(folder.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(uids, vec![1, 4]);
    let folder_now = inbox(&*db.store, m.id).await;
    assert_eq!(folder_now.uid_validity, folder.uid_validity);
    assert_eq!(folder_now.uid_next, 5);
}

async fn flags_change_modseq_and_unseen_counts(db: Db) {
    let m = db
        .store
        .create_mailbox(new_mailbox("f@x.mssante.fr"))
        .await
        .unwrap();
    let folder = inbox(&*db.store, m.id).await.id;
    let first = db
        .store
        .append(
            folder,
            b"one".to_vec().into(),
            strings(&["\\seen", "$Label1"]),
            1,
        )
        .await
        .unwrap();
    let second = db
        .store
        .append(folder, b"two".to_vec().into(), vec![], 2)
        .await
        .unwrap();
    let f = inbox(&*db.store, m.id).await;
    assert_eq!((f.messages, f.unseen), (2, 1));
    let metas = db.store.messages(folder).await.unwrap();
    assert_eq!(metas[0].flags, strings(&["$Label1", "\\Seen"]));

    let modseq = db
        .store
        .set_flags(folder, second.uid, strings(&["\\Seen", "\\Flagged"]))
        .await
        .unwrap();
    assert!(modseq > first.modseq && modseq > second.modseq);
    let f = inbox(&*db.store, m.id).await;
    assert_eq!((f.unseen, f.highest_modseq), (0, modseq));
    let metas = db.store.messages(folder).await.unwrap();
    assert_eq!(metas[1].modseq, modseq);
    assert_eq!(metas[1].flags, strings(&["\\Flagged", "\\Seen"]));
    // One message's metadata is the same as in the listing.
    let one = db.store.message_meta(folder, second.uid).await.unwrap();
    assert_eq!(one.as_ref(), Some(&metas[1]));
    assert!(db.store.message_meta(folder, 99).await.unwrap().is_none());
    assert_eq!(
        metas[0].modseq, first.modseq,
        "the other message keeps its modseq"
    );

    // Same set in another order and case: no change, no new modseq.
    let same = db
        .store
        .set_flags(folder, second.uid, strings(&["\\flagged", "\\SEEN"]))
        .await
        .unwrap();
    assert_eq!(same, modseq);
    assert_eq!(inbox(&*db.store, m.id).await.highest_modseq, modseq);

    let cleared = db
        .store
        .set_flags(folder, second.uid, vec![])
        .await
        .unwrap();
    assert!(cleared > modseq);
    assert_eq!(inbox(&*db.store, m.id).await.unseen, 1);

    let err = db.store.set_flags(folder, 99, vec![]).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let err = db
        .store
        .set_flags(folder, 1, strings(&["\\Recent"]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    let err = db
        .store
        .append(folder, b"x".to_vec().into(), strings(&["bad flag"]), 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert_eq!(
        inbox(&*db.store, m.id).await.messages,
        2,
        "a refused append stores nothing"
    );
}

async fn unknown_folders_and_messages(db: Db) {
    let err = db
        .store
        .append(FolderId(777), b"x".to_vec().into(), vec![], 1)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    let err = db.store.messages(FolderId(777)).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(
        db.store
            .message_body(FolderId(777), 1)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        db.count("blobs").await,
        0,
        "the failed append's blob was rolled back"
    );
}

fn accepted_event(id: &str) -> mssd_store::AuditEvent {
    mssd_store::AuditEvent {
        at: 1,
        kind: "smtp.message".into(),
        actor: "127.0.0.1:1".into(),
        subject: id.into(),
        outcome: "accepted".into(),
        detail: serde_json::json!({ "id": id }),
    }
}

async fn accept_commits_delivery_queue_and_audit_together_or_not_at_all(db: Db) {
    let a = db
        .store
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let queued = |message: &[u8]| mssd_store::NewQueued {
        sender: Some(common::addr("a@x.mssante.fr")),
        recipients: vec![mssd_store::QueuedRecipient {
            address: common::addr("b@y.mssante.fr"),
            status: mssd_store::RecipientStatus::Pending,
            detail: None,
        }],
        message: message.to_vec().into(),
        next_attempt: 0,
        envelope: serde_json::json!({}),
    };
    let accepted = db
        .store
        .accept(mssd_store::Acceptance {
            delivery: Some(Delivery {
                recipients: vec![a.id],
                message: b"mixed".to_vec().into(),
                internal_date: 0,
                documents: Vec::new(),
            }),
            queued: Some(queued(b"mixed")),
            audit: accepted_event("m1"),
            usage: Vec::new(),
            exchanges: Vec::new(),
            notify: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(accepted.delivered.len(), 1);
    assert!(accepted.queued.is_some());
    assert_eq!(db.store.queue().await.unwrap().len(), 1);
    assert_eq!(db.store.audit_log(0, 10).await.unwrap().len(), 1);

    // One failing part (an unknown mailbox) rolls back the queue entry and the audit line too.
    let err = db
        .store
        .accept(mssd_store::Acceptance {
            delivery: Some(Delivery {
                recipients: vec![MailboxId(9_999)],
                message: b"x".to_vec().into(),
                internal_date: 0,
                documents: Vec::new(),
            }),
            queued: Some(queued(b"x")),
            audit: accepted_event("m2"),
            usage: Vec::new(),
            exchanges: Vec::new(),
            notify: Vec::new(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert_eq!(db.store.queue().await.unwrap().len(), 1);
    assert_eq!(db.store.audit_log(0, 10).await.unwrap().len(), 1);
    assert_eq!(inbox(&*db.store, a.id).await.messages, 1);
}

contract_tests!(
    delivery_to_several_mailboxes_stores_the_bytes_once,
    delivery_is_all_or_nothing,
    uids_grow_and_are_never_reused,
    flags_change_modseq_and_unseen_counts,
    unknown_folders_and_messages,
    accept_commits_delivery_queue_and_audit_together_or_not_at_all,
);
