//! The document index: versions superseded, withdrawn, refused (900/901), unknown parents;
//! written with the delivery; usage counters with the acceptance.

#[macro_use]
mod common;

use common::{Db, new_mailbox};
use mssd_store::{
    Acceptance, AuditEvent, Delivery, Direction, DocumentAction, DocumentStatus, NewDocument,
    Store, UsageCount,
};

fn doc(id: &str, version: u32, action: DocumentAction, author: &str, org: &str) -> NewDocument {
    NewDocument {
        cda_id: id.into(),
        set_id: Some("1.2.3.set".into()),
        version: Some(version),
        code: "18748-4".into(),
        title: Some(format!("CR v{version}")),
        effective_time: Some("20240101".into()),
        author: Some(author.into()),
        author_org: Some(org.into()),
        patient_ids: vec!["1.2.250.1.213.1.4.10^279035121518989".into()],
        restrictions: vec![],
        action,
    }
}

async fn deliver(store: &dyn Store, to: mssd_store::MailboxId, docs: Vec<NewDocument>) -> u32 {
    store
        .deliver(Delivery {
            recipients: vec![to],
            message: b"Subject: x\r\n\r\ny\r\n".to_vec().into(),
            internal_date: 1_780_000_000,
            documents: docs,
        })
        .await
        .unwrap()[0]
        .uid
}

fn replace(parent: &str) -> DocumentAction {
    DocumentAction::Replace {
        parent: parent.into(),
    }
}

async fn versions_are_superseded_withdrawn_or_refused(db: Db) {
    let store = &*db.store;
    let m = store
        .create_mailbox(new_mailbox("pfi@x.mssante.fr"))
        .await
        .unwrap();
    let (dr, org) = (
        "1.2.250.1.71.4.2.1^801234564895",
        "1.2.250.1.71.4.2.2^1120456789",
    );

    let uid1 = deliver(
        store,
        m.id,
        vec![doc("v1", 1, DocumentAction::New, dr, org)],
    )
    .await;
    let uid2 = deliver(store, m.id, vec![doc("v2", 2, replace("v1"), dr, org)]).await;
    // v1 again: not the latest any more (900), changes nothing.
    deliver(store, m.id, vec![doc("v2bis", 2, replace("v1"), dr, org)]).await;
    // Another author of another structure (901).
    deliver(
        store,
        m.id,
        vec![doc(
            "v3x",
            3,
            replace("v2"),
            "1.2.250.1.71.4.2.1^899999999999",
            "1.2.250.1.71.4.2.2^1999999999",
        )],
    )
    .await;
    // Another author of the same structure may.
    let uid3 = deliver(
        store,
        m.id,
        vec![doc(
            "v3",
            3,
            replace("v2"),
            "1.2.250.1.71.4.2.1^800000000000",
            org,
        )],
    )
    .await;
    // Unknown parent: current, with a note.
    deliver(
        store,
        m.id,
        vec![doc("other2", 2, replace("never-seen"), dr, org)],
    )
    .await;

    let current = store.documents(m.id, false).await.unwrap();
    let ids: Vec<&str> = current.iter().map(|d| d.cda_id.as_str()).collect();
    assert_eq!(ids, ["v3", "other2"]);
    assert_eq!(current[0].message_uid, uid3);
    assert_eq!(
        current[1].note.as_deref(),
        Some("replaces a document this mailbox never received")
    );

    let all = store.documents(m.id, true).await.unwrap();
    let view: Vec<(&str, DocumentStatus, Option<u32>)> = all
        .iter()
        .map(|d| (d.cda_id.as_str(), d.status, d.anomaly))
        .collect();
    assert_eq!(
        view,
        [
            ("v1", DocumentStatus::Superseded, None),
            ("v2", DocumentStatus::Superseded, None),
            ("v2bis", DocumentStatus::Superseded, Some(900)),
            ("v3x", DocumentStatus::Superseded, Some(901)),
            ("v3", DocumentStatus::Current, None),
            ("other2", DocumentStatus::Current, None),
        ]
    );
    assert_eq!(all[0].message_uid, uid1);
    assert_eq!(all[1].message_uid, uid2);
    assert_eq!(all[1].parent_id.as_deref(), Some("v1"));

    // Deletion of the current version withdraws it; the request is kept as withdrawn.
    deliver(
        store,
        m.id,
        vec![doc("v3", 3, DocumentAction::Delete, dr, org)],
    )
    .await;
    let current: Vec<String> = store
        .documents(m.id, false)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.cda_id)
        .collect();
    assert_eq!(current, ["other2"]);
    let all = store.documents(m.id, true).await.unwrap();
    assert_eq!(all[4].status, DocumentStatus::Withdrawn);
    assert_eq!(all.last().unwrap().action, "delete");
    // Deleting a superseded version: 900, nothing changes.
    deliver(
        store,
        m.id,
        vec![doc("v1", 1, DocumentAction::Delete, dr, org)],
    )
    .await;
    let last = store.documents(m.id, true).await.unwrap().pop().unwrap();
    assert_eq!(
        (last.status, last.anomaly),
        (DocumentStatus::Withdrawn, Some(900))
    );
    assert_eq!(store.documents(m.id, false).await.unwrap().len(), 1);
}

async fn a_pair_in_one_message_and_one_index_per_mailbox(db: Db) {
    let store = &*db.store;
    let a = store
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let b = store
        .create_mailbox(new_mailbox("b@x.mssante.fr"))
        .await
        .unwrap();
    let (dr, org) = ("d", "o");
    store
        .deliver(Delivery {
            recipients: vec![a.id, b.id],
            message: b"Subject: x\r\n\r\ny\r\n".to_vec().into(),
            internal_date: 1_780_000_000,
            documents: vec![
                doc("v1", 1, DocumentAction::New, dr, org),
                doc("v2", 2, replace("v1"), dr, org),
            ],
        })
        .await
        .unwrap();
    for m in [a.id, b.id] {
        let all = store.documents(m, true).await.unwrap();
        assert_eq!(
            all.iter().map(|d| d.status).collect::<Vec<_>>(),
            [DocumentStatus::Superseded, DocumentStatus::Current]
        );
    }
    // Removing a mailbox removes its index.
    store.remove_mailbox(&a.address).await.unwrap();
    assert!(store.documents(a.id, true).await.unwrap().is_empty());
}

async fn usage_counters_commit_with_the_acceptance(db: Db) {
    let store = &*db.store;
    let a = store
        .create_mailbox(new_mailbox("a@x.mssante.fr"))
        .await
        .unwrap();
    let usage = |direction, xdm, documents, qualified_ins| UsageCount {
        mailbox: "a@x.mssante.fr".into(),
        direction,
        xdm,
        documents,
        qualified_ins,
    };
    for (xdm, docs, qualified) in [(true, 2, 1), (false, 0, 0)] {
        store
            .accept(Acceptance {
                delivery: Some(Delivery {
                    recipients: vec![a.id],
                    message: b"Subject: x\r\n\r\ny\r\n".to_vec().into(),
                    internal_date: 0,
                    documents: Vec::new(),
                }),
                queued: None,
                audit: AuditEvent {
                    at: 0,
                    kind: "test".into(),
                    actor: "t".into(),
                    subject: "s".into(),
                    outcome: "accepted".into(),
                    detail: serde_json::json!({}),
                },
                usage: vec![
                    usage(Direction::Received, xdm, docs, qualified),
                    usage(Direction::Sent, xdm, docs, qualified),
                ],
                exchanges: Vec::new(),
                notify: Vec::new(),
            })
            .await
            .unwrap();
    }
    let month = time::OffsetDateTime::now_utc();
    let month = format!("{:04}-{:02}", month.year(), u8::from(month.month()));
    let rows = store.usage_indicators(&month).await.unwrap();
    assert_eq!(rows.len(), 2);
    let received = rows
        .iter()
        .find(|r| r.direction == Direction::Received)
        .unwrap();
    assert_eq!(
        (
            received.messages,
            received.xdm_messages,
            received.documents,
            received.qualified_ins
        ),
        (2, 1, 2, 1)
    );
    assert!(store.usage_indicators("1999-01").await.unwrap().is_empty());
}

/// A message moved within its mailbox (to Trash, say) takes its documents along; a copy
/// leaves them with the original, and a move to another mailbox's folder does not carry
/// them into that mailbox's index.
async fn documents_follow_their_message_when_it_moves(db: Db) {
    let store = &*db.store;
    let m = store
        .create_mailbox(new_mailbox("patient@x.mssante.fr"))
        .await
        .unwrap();
    let folders = store.folders(m.id).await.unwrap();
    let folder = |name: &str| folders.iter().find(|f| f.name == name).unwrap().id;
    let (inbox, trash, archive) = (folder("INBOX"), folder("Trash"), folder("Archive"));
    let org = "1.2.250.1.71.4.2.2^1120456789";
    let uid = deliver(
        store,
        m.id,
        vec![doc(
            "1.2.3^1",
            1,
            DocumentAction::New,
            "1.2.250.1.71.4.2.1^801234564895",
            org,
        )],
    )
    .await;
    let at = |docs: Vec<mssd_store::IndexedDocument>| {
        docs.iter()
            .map(|d| (d.folder, d.message_uid))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        at(store.documents(m.id, true).await.unwrap()),
        [(inbox, uid)]
    );

    let copied = store
        .copy_messages(inbox, vec![uid], archive)
        .await
        .unwrap();
    assert_eq!(copied.pairs.len(), 1);
    assert_eq!(
        at(store.documents(m.id, true).await.unwrap()),
        [(inbox, uid)],
        "a copy leaves the document with the original"
    );
    let moved = store.move_messages(inbox, vec![uid], trash).await.unwrap();
    let new_uid = moved.pairs[0].1;
    assert_eq!(
        at(store.documents(m.id, true).await.unwrap()),
        [(trash, new_uid)]
    );
    assert!(store.message_body(trash, new_uid).await.unwrap().is_some());

    // Into another mailbox's folder (a shared folder): this index does not follow.
    let other = store
        .create_mailbox(new_mailbox("secretariat@x.mssante.fr"))
        .await
        .unwrap();
    let other_inbox = store
        .folders(other.id)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.name == "INBOX")
        .unwrap()
        .id;
    store
        .move_messages(trash, vec![new_uid], other_inbox)
        .await
        .unwrap();
    assert_eq!(
        at(store.documents(m.id, true).await.unwrap()),
        [(trash, new_uid)]
    );
    assert!(store.documents(other.id, true).await.unwrap().is_empty());
}

contract_tests!(
    versions_are_superseded_withdrawn_or_refused,
    a_pair_in_one_message_and_one_index_per_mailbox,
    usage_counters_commit_with_the_acceptance,
    documents_follow_their_message_when_it_moves,
);
