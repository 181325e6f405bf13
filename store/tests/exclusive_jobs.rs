//! Jobs run by one node at a time (`Store::try_exclusive`): two stores on one database stand
//! for two nodes (PostgreSQL) or the server and a CLI command (SQLite).

#[macro_use]
mod common;

use std::time::Duration;

use common::Db;
use mssd_store::{Error, Store};

/// Takes `job` on `store`, retrying while a dropped guard's release is on its way (on
/// PostgreSQL the unlock of a dropped guard runs on a spawned task).
async fn take_eventually(store: &dyn Store, job: &str) -> mssd_store::ExclusiveJob {
    for _ in 0..100 {
        if let Some(held) = store.try_exclusive(job).await.unwrap() {
            return held;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{job} was never released");
}

async fn one_holder_at_a_time(db: Db) {
    let node_a = db.store.clone();
    let node_b = db.another_node().await;

    let held = node_a.try_exclusive("trust-list").await.unwrap().unwrap();
    assert_eq!(held.job(), "trust-list");
    assert!(node_b.try_exclusive("trust-list").await.unwrap().is_none());
    assert!(
        node_a.try_exclusive("trust-list").await.unwrap().is_none(),
        "not twice in one process either"
    );
    // Another job is another lock.
    let other = node_b.try_exclusive("annuaire-import").await.unwrap();
    assert!(other.is_some());

    // Released explicitly: at once.
    held.release().await;
    let held_b = node_b.try_exclusive("trust-list").await.unwrap().unwrap();
    assert!(node_a.try_exclusive("trust-list").await.unwrap().is_none());

    // Dropped (an error path, a cancelled task): released too.
    drop(held_b);
    let again = take_eventually(&*node_a, "trust-list").await;
    assert!(node_b.try_exclusive("trust-list").await.unwrap().is_none());
    drop(again);
    drop(other);
    take_eventually(&*node_b, "annuaire-import").await;
}

/// A node that dies holding a job (its session ends) leaves the job to the others.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_a_dead_holder_releases_its_jobs() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let node_b = db.another_node().await;
    let held = node_b.try_exclusive("ldap-sync").await.unwrap().unwrap();
    assert!(db.store.try_exclusive("ldap-sync").await.unwrap().is_none());
    // Node B's process dies with the guard alive: its session ends without an unlock.
    std::mem::forget(held);
    let ended = db
        .scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks \
             WHERE locktype = 'advisory' AND objsubid = 2 AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await;
    assert_eq!(ended, 1);
    take_eventually(&*db.store, "ldap-sync").await;
}

async fn job_names_are_checked(db: Db) {
    for bad in ["", "../escape", "Upper", "with space"] {
        let err = db.store.try_exclusive(bad).await.unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{bad}: {err}");
    }
}

contract_tests!(one_holder_at_a_time, job_names_are_checked,);
