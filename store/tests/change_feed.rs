//! The store publishes committed folder changes for IMAP IDLE.

#[macro_use]
mod common;

use std::time::Duration;

use common::{Db, add_mailbox, folder_named, strings};
use mssd_store::FlagOp;
use tokio::sync::watch::Receiver;
use tokio::time::timeout;

/// Waits for the next publish and returns the modseq it carried.
async fn next(rx: &mut Receiver<u64>) -> u64 {
    timeout(Duration::from_secs(5), rx.changed())
        .await
        .expect("a publish within 5 s")
        .expect("the feed is alive");
    *rx.borrow_and_update()
}

fn quiet(rx: &Receiver<u64>) -> bool {
    !rx.has_changed().unwrap()
}

async fn watchers_see_every_kind_of_committed_change(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, m.id, "INBOX").await;
    let trash = folder_named(s, m.id, "Trash").await;
    let feed = s.change_feed();
    let mut rx = feed.watch(inbox.id, inbox.highest_modseq);
    let mut trash_rx = feed.watch(trash.id, trash.highest_modseq);

    let d = s
        .append(inbox.id, b"hello".to_vec().into(), vec![], 1)
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, d.modseq);
    // What the watcher was told is already readable.
    assert_eq!(
        s.folder(inbox.id).await.unwrap().unwrap().highest_modseq,
        d.modseq
    );
    assert!(
        quiet(&trash_rx),
        "another folder's change wakes nobody here"
    );

    let delivered = s
        .deliver(mssd_store::Delivery {
            recipients: vec![m.id],
            message: b"x".to_vec().into(),
            internal_date: 0,
            documents: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, delivered[0].modseq);

    let modseq = s
        .set_flags(inbox.id, 1, strings(&["\\Seen"]))
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, modseq);
    // No change, no wake-up.
    s.set_flags(inbox.id, 1, strings(&["\\Seen"]))
        .await
        .unwrap();
    s.store_flags(inbox.id, vec![1], FlagOp::Add, strings(&["\\Seen"]), None)
        .await
        .unwrap();
    assert!(quiet(&rx));
    let out = s
        .store_flags(
            inbox.id,
            vec![1, 2],
            FlagOp::Add,
            strings(&["\\Flagged"]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, out.updated[0].modseq);

    s.copy_messages(inbox.id, vec![1], trash.id).await.unwrap();
    assert!(next(&mut trash_rx).await > trash.highest_modseq);
    assert!(quiet(&rx), "a copy does not change its source");

    s.move_messages(inbox.id, vec![2], trash.id).await.unwrap();
    let after_move = s.folder(inbox.id).await.unwrap().unwrap().highest_modseq;
    assert_eq!(next(&mut rx).await, after_move);
    next(&mut trash_rx).await;

    s.expunge(inbox.id, vec![1]).await.unwrap();
    let after_expunge = next(&mut rx).await;
    assert!(after_expunge > after_move);
    s.expunge(inbox.id, vec![1]).await.unwrap();
    assert!(quiet(&rx), "expunging nothing publishes nothing");

    s.rename_folder(m.id, "Trash", "Corbeille").await.unwrap();
    next(&mut trash_rx).await;
    s.delete_folder(m.id, "Corbeille").await.unwrap();
    next(&mut trash_rx).await;
    assert_eq!(
        s.folder(trash.id).await.unwrap(),
        None,
        "woken, the session finds it gone"
    );
}

async fn accept_publishes_its_local_deliveries(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, m.id, "INBOX").await;
    let mut rx = s.change_feed().watch(inbox.id, inbox.highest_modseq);
    let accepted = s
        .accept(mssd_store::Acceptance {
            delivery: Some(mssd_store::Delivery {
                recipients: vec![m.id],
                message: b"x".to_vec().into(),
                internal_date: 0,
                documents: Vec::new(),
            }),
            queued: None,
            audit: mssd_store::AuditEvent {
                at: 0,
                kind: "smtp.accept".to_owned(),
                actor: "test".to_owned(),
                subject: "test".to_owned(),
                outcome: "ok".to_owned(),
                detail: serde_json::json!({}),
            },
            usage: Vec::new(),
            exchanges: Vec::new(),
            notify: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(next(&mut rx).await, accepted.delivered[0].modseq);
}

async fn unwatched_folders_cost_no_map_entry(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, m.id, "INBOX").await.id;
    let feed = s.change_feed();
    for i in 0..20 {
        s.append(inbox, format!("m{i}").into_bytes().into(), vec![], 1)
            .await
            .unwrap();
    }
    assert_eq!(feed.watched_folders(), 0);
    let rx = feed.watch(inbox, 0);
    assert_eq!(feed.watched_folders(), 1);
    drop(rx);
    s.append(inbox, b"last".to_vec().into(), vec![], 1)
        .await
        .unwrap();
    assert_eq!(
        feed.watched_folders(),
        0,
        "the last receiver gone, the entry goes"
    );
}

contract_tests!(
    watchers_see_every_kind_of_committed_change,
    accept_publishes_its_local_deliveries,
    unwatched_folders_cost_no_map_entry,
);
