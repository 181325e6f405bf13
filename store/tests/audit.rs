#[macro_use]
mod common;

use common::{Db, open_temp};
use mssd_store::{AuditEvent, Store};
use serde_json::json;

fn event(i: i64) -> AuditEvent {
    AuditEvent {
        at: 1_700_000_000_000 + i,
        kind: "mailbox.create".to_owned(),
        actor: "admin".to_owned(),
        subject: format!("box{i}@x.mssante.fr"),
        outcome: "ok".to_owned(),
        detail: json!({"n": i}),
    }
}

async fn events_read_back_in_order_with_paging(db: Db) {
    for i in 0..5 {
        db.store.audit(event(i)).await.unwrap();
    }
    let first = db.store.audit_log(0, 3).await.unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(
        first.iter().map(|r| r.event.clone()).collect::<Vec<_>>(),
        (0..3).map(event).collect::<Vec<_>>()
    );
    let rest = db.store.audit_log(first[2].id, 100).await.unwrap();
    assert_eq!(
        rest.iter().map(|r| r.event.clone()).collect::<Vec<_>>(),
        (3..5).map(event).collect::<Vec<_>>()
    );
    assert!(rest[0].id > first[2].id);
    assert!(
        db.store
            .audit_log(rest[1].id, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trail_refuses_update_and_delete() {
    let db = open_temp();
    db.store.audit(event(1)).await.unwrap();
    let raw = db.raw();
    let update = raw
        .execute("UPDATE audit SET outcome = 'forged'", [])
        .unwrap_err();
    assert!(update.to_string().contains("append-only"), "{update}");
    let delete = raw.execute("DELETE FROM audit", []).unwrap_err();
    assert!(delete.to_string().contains("append-only"), "{delete}");
    let log = db.store.audit_log(0, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].event, event(1));
}

contract_tests!(events_read_back_in_order_with_paging,);
