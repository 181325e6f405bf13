//! What the citizen rules read (professional-to-citizen history, closed messages), recorded
//! in the acceptance's transaction. Run on both backends.

#[macro_use]
mod common;

use common::Db;
use mssd_store::AuditEvent;

fn event(i: i64) -> AuditEvent {
    AuditEvent {
        at: 1_700_000_000_000 + i,
        kind: "smtp.accept".to_owned(),
        actor: "peer".to_owned(),
        subject: "dr@x.mssante.fr".to_owned(),
        outcome: "ok".to_owned(),
        detail: serde_json::json!({ "n": i }),
    }
}

/// What the citizen rules read, recorded with the acceptance.
async fn citizen_exchanges_are_recorded_with_the_acceptance(db: Db) {
    let s = &*db.store;
    let exchange = |closed: bool, id: &str| mssd_store::CitizenExchange {
        professional: "dr@x.mssante.fr".to_owned(),
        citizen: "c@patient.mssante.fr".to_owned(),
        closed,
        message_id: Some(id.to_owned()),
    };
    let accept = |exchanges| mssd_store::Acceptance {
        delivery: None,
        queued: None,
        audit: event(1),
        usage: Vec::new(),
        exchanges,
        notify: Vec::new(),
    };
    let history = s
        .exchange_history("dr@x.mssante.fr", "c@patient.mssante.fr")
        .await
        .unwrap();
    assert_eq!((history.wrote, history.wrote_open), (false, false));
    s.accept(accept(vec![exchange(true, "fin-1@x")]))
        .await
        .unwrap();
    let history = s
        .exchange_history("dr@x.mssante.fr", "c@patient.mssante.fr")
        .await
        .unwrap();
    assert_eq!((history.wrote, history.wrote_open), (true, false));
    s.accept(accept(vec![exchange(false, "open-1@x")]))
        .await
        .unwrap();
    s.accept(accept(vec![exchange(true, "fin-2@x")]))
        .await
        .unwrap();
    let history = s
        .exchange_history("dr@x.mssante.fr", "c@patient.mssante.fr")
        .await
        .unwrap();
    assert_eq!(
        (history.wrote, history.wrote_open),
        (true, true),
        "open stays open"
    );
    let answers = |ids: &[&str]| {
        s.answers_closed_message(
            "c@patient.mssante.fr",
            ids.iter().map(|i| (*i).to_owned()).collect(),
        )
    };
    assert!(answers(&["other@x", "fin-2@x"]).await.unwrap());
    assert!(!answers(&["open-1@x"]).await.unwrap());
    assert!(!answers(&[]).await.unwrap());
    assert_eq!(s.audit_verify().await.unwrap().records, 3);
}

contract_tests!(citizen_exchanges_are_recorded_with_the_acceptance);
