//! Message operations for IMAP: STORE, changes since a modseq, COPY, MOVE, bulk bodies.

#[macro_use]
mod common;

use common::{Db, add_mailbox, folder_named, strings};
use mssd_store::{Error, FlagOp, FolderId};

async fn store_flags_ops_and_unchanged_since(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, m.id, "INBOX").await.id;
    for i in 0..3 {
        s.append(inbox, format!("m{i}").into_bytes().into(), vec![], 1)
            .await
            .unwrap();
    }
    // UIDs 1..=3 with modseqs 2..=4.
    let start = s.folder(inbox).await.unwrap().unwrap().highest_modseq;
    assert_eq!(start, 4);

    // One table of successive STOREs: (uids, op, flags, unchanged_since) and the expected
    // (uid, flags) updated, modified UIDs, and whether the folder's modseq moves.
    struct Case {
        uids: &'static [u32],
        op: FlagOp,
        flags: &'static [&'static str],
        since: Option<u64>,
        updated: &'static [(u32, &'static [&'static str])],
        modified: &'static [u32],
        bumps: bool,
    }
    let cases = [
        Case {
            uids: &[3, 1, 99, 1],
            op: FlagOp::Add,
            flags: &["\\seen"],
            since: None,
            updated: &[(1, &["\\Seen"]), (3, &["\\Seen"])],
            modified: &[],
            bumps: true,
        },
        // Nothing changes: listed anyway, modseq kept.
        Case {
            uids: &[1, 3],
            op: FlagOp::Add,
            flags: &["\\Seen"],
            since: None,
            updated: &[(1, &["\\Seen"]), (3, &["\\Seen"])],
            modified: &[],
            bumps: false,
        },
        // UID 1 and 3 were changed at modseq 5 > 4: MODIFIED, untouched; UID 2 (modseq 3) changes.
        Case {
            uids: &[1, 2, 3],
            op: FlagOp::Replace,
            flags: &["\\Flagged"],
            since: Some(4),
            updated: &[(2, &["\\Flagged"])],
            modified: &[1, 3],
            bumps: true,
        },
        Case {
            uids: &[1, 2],
            op: FlagOp::Remove,
            flags: &["\\Seen", "\\Flagged"],
            since: Some(100),
            updated: &[(1, &[]), (2, &[])],
            modified: &[],
            bumps: true,
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let before = s.folder(inbox).await.unwrap().unwrap().highest_modseq;
        let out = s
            .store_flags(
                inbox,
                case.uids.to_vec(),
                case.op,
                strings(case.flags),
                case.since,
            )
            .await
            .unwrap();
        let after = s.folder(inbox).await.unwrap().unwrap().highest_modseq;
        assert_eq!(after > before, case.bumps, "case {i}");
        let got: Vec<(u32, Vec<String>)> = out
            .updated
            .iter()
            .map(|u| (u.uid, u.flags.clone()))
            .collect();
        let want: Vec<(u32, Vec<String>)> = case
            .updated
            .iter()
            .map(|(uid, f)| (*uid, strings(f)))
            .collect();
        assert_eq!(got, want, "case {i}");
        assert_eq!(out.modified, case.modified, "case {i}");
        // What STORE reports is what is stored.
        let metas = s.messages(inbox).await.unwrap();
        for u in &out.updated {
            let meta = metas.iter().find(|m| m.uid == u.uid).unwrap();
            assert_eq!((meta.modseq, &meta.flags), (u.modseq, &u.flags), "case {i}");
        }
    }
    let inbox_now = s.folder(inbox).await.unwrap().unwrap();
    // Only UID 3 kept \Seen.
    assert_eq!((inbox_now.messages, inbox_now.unseen), (3, 2));
    let err = s
        .store_flags(inbox, vec![1], FlagOp::Add, strings(&["\\Recent"]), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    let err = s
        .store_flags(FolderId(999), vec![1], FlagOp::Add, vec![], None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

async fn changes_since_lists_changed_and_expunged(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, m.id, "INBOX").await.id;
    for i in 0..4 {
        s.append(inbox, format!("m{i}").into_bytes().into(), vec![], 1)
            .await
            .unwrap();
    }
    let mark = s.folder(inbox).await.unwrap().unwrap().highest_modseq;
    let nothing = s.changes_since(inbox, mark).await.unwrap();
    assert!(nothing.changed.is_empty() && nothing.expunged.is_empty());
    assert_eq!(nothing.folder.highest_modseq, mark);

    s.set_flags(inbox, 3, strings(&["\\Seen"])).await.unwrap();
    assert_eq!(s.expunge(inbox, vec![2, 4, 77]).await.unwrap(), vec![2, 4]);
    s.append(inbox, b"m4".to_vec().into(), vec![], 1)
        .await
        .unwrap();

    let changes = s.changes_since(inbox, mark).await.unwrap();
    let changed: Vec<u32> = changes.changed.iter().map(|m| m.uid).collect();
    assert_eq!(changed, vec![3, 5]);
    assert_eq!(changes.expunged, vec![2, 4]);
    assert_eq!(changes.folder.messages, 3);
    assert!(changes.changed.iter().all(|m| m.modseq > mark));
    assert_eq!(changes.folder.highest_modseq, mark + 3);

    // Only the last step, then everything from the start.
    let last = s.changes_since(inbox, mark + 2).await.unwrap();
    assert_eq!(
        last.changed.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![5]
    );
    assert!(last.expunged.is_empty());
    let all = s.changes_since(inbox, 0).await.unwrap();
    assert_eq!(all.changed.len(), 3);
    assert_eq!(all.expunged, vec![2, 4]);
    assert!(matches!(
        s.changes_since(FolderId(999), 0).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

async fn copy_shares_the_blob_and_gives_increasing_uids(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, m.id, "INBOX").await.id;
    let archive = folder_named(s, m.id, "Archive").await;
    s.append(archive.id, b"already there".to_vec().into(), vec![], 1)
        .await
        .unwrap();
    for i in 0..3 {
        s.append(
            inbox,
            format!("m{i}").into_bytes().into(),
            strings(&["\\Seen"]),
            100 + i,
        )
        .await
        .unwrap();
    }
    assert_eq!(db.count("blobs").await, 4);

    let out = s
        .copy_messages(inbox, vec![3, 1, 42], archive.id)
        .await
        .unwrap();
    assert_eq!(out.uid_validity, archive.uid_validity);
    assert_eq!(out.pairs, vec![(1, 2), (3, 3)]);
    assert_eq!(db.count("blobs").await, 4, "copies share their blob");
    let copies = s.messages(archive.id).await.unwrap();
    let originals = s.messages(inbox).await.unwrap();
    for (src, dst) in &out.pairs {
        let o = originals.iter().find(|m| m.uid == *src).unwrap();
        let c = copies.iter().find(|m| m.uid == *dst).unwrap();
        assert_eq!(
            (&c.flags, c.internal_date, &c.sha256),
            (&o.flags, o.internal_date, &o.sha256)
        );
    }
    // Expunging the original keeps the copy readable; expunging both drops the blob.
    s.expunge(inbox, vec![1]).await.unwrap();
    assert_eq!(s.message_body(archive.id, 2).await.unwrap().unwrap(), b"m0");
    s.expunge(archive.id, vec![2]).await.unwrap();
    assert_eq!(db.count("blobs").await, 3);

    let again = s.copy_messages(inbox, vec![2], archive.id).await.unwrap();
    assert_eq!(
        again.pairs,
        vec![(2, 4)],
        "UIDs keep growing after an expunge"
    );
    let none = s
        .copy_messages(inbox, vec![1, 99], archive.id)
        .await
        .unwrap();
    assert!(none.pairs.is_empty());
    assert!(matches!(
        s.copy_messages(inbox, vec![2], FolderId(999))
            .await
            .unwrap_err(),
        Error::NotFound { .. }
    ));
}

async fn move_leaves_expunged_entries_in_the_source(db: Db) {
    let s = &*db.store;
    let a = add_mailbox(s, "a@x.mssante.fr").await;
    let b = add_mailbox(s, "b@x.mssante.fr").await;
    let inbox = folder_named(s, a.id, "INBOX").await.id;
    let trash = folder_named(s, a.id, "Trash").await.id;
    let shared = folder_named(s, b.id, "INBOX").await.id;
    for i in 0..3 {
        s.append(
            inbox,
            format!("m{i}").into_bytes().into(),
            strings(&["\\Flagged"]),
            7,
        )
        .await
        .unwrap();
    }
    let mark = s.folder(inbox).await.unwrap().unwrap().highest_modseq;

    let out = s.move_messages(inbox, vec![1, 3, 8], trash).await.unwrap();
    assert_eq!(out.pairs, vec![(1, 1), (3, 2)]);
    let left: Vec<u32> = s
        .messages(inbox)
        .await
        .unwrap()
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(left, vec![2]);
    let changes = s.changes_since(inbox, mark).await.unwrap();
    assert_eq!(changes.expunged, vec![1, 3]);
    assert!(changes.changed.is_empty());
    let moved = s.messages(trash).await.unwrap();
    assert_eq!(moved.len(), 2);
    assert!(
        moved
            .iter()
            .all(|m| m.flags == strings(&["\\Flagged"]) && m.internal_date == 7)
    );
    assert_eq!(db.count("blobs").await, 3, "a move keeps the blobs");

    // Across mailboxes too.
    let out = s.move_messages(trash, vec![1], shared).await.unwrap();
    assert_eq!(out.pairs, vec![(1, 1)]);
    assert_eq!(s.message_body(shared, 1).await.unwrap().unwrap(), b"m0");
    assert_eq!(s.changes_since(trash, 0).await.unwrap().expunged, vec![1]);
}

async fn message_bodies_in_one_read(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, m.id, "INBOX").await.id;
    for i in 0..4 {
        s.append(inbox, format!("body {i}").into_bytes().into(), vec![], 1)
            .await
            .unwrap();
    }
    s.expunge(inbox, vec![2]).await.unwrap();
    let got = s.message_bodies(inbox, vec![4, 2, 1, 1, 50]).await.unwrap();
    assert_eq!(got, vec![(1, b"body 0".to_vec()), (4, b"body 3".to_vec())]);
    assert!(s.message_bodies(inbox, vec![]).await.unwrap().is_empty());
}

contract_tests!(
    store_flags_ops_and_unchanged_since,
    changes_since_lists_changed_and_expunged,
    copy_shares_the_blob_and_gives_increasing_uids,
    move_leaves_expunged_entries_in_the_source,
    message_bodies_in_one_read,
);
