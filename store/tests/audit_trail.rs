//! The audit trail: searches by time, kind (or family of kinds), mailbox and page; and the
//! hash chain that finds a record changed, or removed, behind the append-only triggers.

#[macro_use]
mod common;

use common::{Db, open_temp};
use mssd_store::{AuditEvent, AuditQuery, Store};

fn event(at: i64, kind: &str, actor: &str, subject: &str) -> AuditEvent {
    AuditEvent {
        at,
        kind: kind.into(),
        actor: actor.into(),
        subject: subject.into(),
        outcome: "ok".into(),
        detail: serde_json::json!({ "n": at }),
    }
}

async fn fill(store: &dyn Store) {
    let events = [
        event(1_000, "mailbox.create", "cli", "a@x.fr"),
        event(2_000, "imap.login", "a@x.fr", "imap"),
        event(3_000, "imap.shared.select", "b@x.fr", "a@x.fr"),
        event(4_000, "smtp.refused", "peer", "c@y.fr"),
        event(5_000, "imaps.login", "b@x.fr", "imap"),
    ];
    for e in events {
        store.audit(e).await.unwrap();
    }
}

async fn searches_by_time_kind_mailbox_and_page(db: Db) {
    fill(&*db.store).await;
    let ids = |records: Vec<mssd_store::AuditRecord>| -> Vec<i64> {
        records.iter().map(|r| r.id).collect()
    };
    let query = |q: AuditQuery| AuditQuery { limit: 100, ..q };
    let cases: Vec<(AuditQuery, Vec<i64>)> = vec![
        (query(AuditQuery::default()), vec![1, 2, 3, 4, 5]),
        (
            query(AuditQuery {
                since: Some(2_000),
                until: Some(4_000),
                ..Default::default()
            }),
            vec![2, 3],
        ),
        (
            query(AuditQuery {
                kind: Some("imap".into()),
                ..Default::default()
            }),
            vec![2, 3],
        ),
        (
            query(AuditQuery {
                kind: Some("imap.login".into()),
                ..Default::default()
            }),
            vec![2],
        ),
        (
            query(AuditQuery {
                mailbox: Some("a@x.fr".into()),
                ..Default::default()
            }),
            vec![1, 2, 3],
        ),
        (
            AuditQuery {
                after_id: 2,
                limit: 2,
                ..Default::default()
            },
            vec![3, 4],
        ),
    ];
    for (q, expected) in cases {
        assert_eq!(
            ids(db.store.audit_search(q.clone()).await.unwrap()),
            expected,
            "{q:?}"
        );
    }
    let found = db
        .store
        .audit_search(query(AuditQuery::default()))
        .await
        .unwrap();
    assert_eq!(
        found[3].event,
        event(4_000, "smtp.refused", "peer", "c@y.fr")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chain_finds_a_changed_or_removed_record() {
    let db = open_temp();
    fill(&db.store).await;
    let verified = db.store.audit_verify().await.unwrap();
    assert_eq!(verified.records, 5);
    assert_eq!(verified.broken, None);
    let (head_id, head) = verified.head.clone().unwrap();
    assert_eq!((head_id, head.len()), (5, 64));

    // The triggers refuse changes; someone with the file can drop them.
    let raw = db.raw();
    let refused = raw.execute("UPDATE audit SET outcome = 'x' WHERE id = 3", []);
    assert!(refused.is_err(), "the trigger refuses an UPDATE");
    raw.execute_batch(
        "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; \
         UPDATE audit SET outcome = 'refused' WHERE id = 3;",
    )
    .unwrap();
    let verified = db.store.audit_verify().await.unwrap();
    assert_eq!(
        verified.broken.as_ref().map(|b| b.0),
        Some(3),
        "{verified:?}"
    );
    raw.execute("UPDATE audit SET outcome = 'ok' WHERE id = 3", [])
        .unwrap();
    assert_eq!(db.store.audit_verify().await.unwrap().broken, None);

    // A record removed from the middle (its link refuses that too: foreign keys off) breaks
    // the chain at the next one.
    assert!(raw.execute("DELETE FROM audit WHERE id = 2", []).is_err());
    raw.execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM audit WHERE id = 2;")
        .unwrap();
    let verified = db.store.audit_verify().await.unwrap();
    assert_eq!(
        verified.broken.as_ref().map(|b| b.0),
        Some(3),
        "{verified:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_the_last_record_leaves_its_link_behind() {
    let db = open_temp();
    fill(&db.store).await;
    let raw = db.raw();
    raw.execute_batch(
        "DROP TRIGGER audit_no_delete; PRAGMA foreign_keys = OFF; DELETE FROM audit WHERE id = 5;",
    )
    .unwrap();
    let verified = db.store.audit_verify().await.unwrap();
    assert_eq!(
        verified.broken.as_ref().map(|b| b.0),
        Some(5),
        "{verified:?}"
    );
}

contract_tests!(searches_by_time_kind_mailbox_and_page);
