//! Durability with a synchronous standby: `synchronous_commit = local` acknowledges commits
//! the standby may not have, so a store refuses it when the server names synchronous standbys
//! (`on` and `remote_apply` are accepted). A binary of its own: it starts a primary and its
//! standby (`mssd_pg_test::ReplicatedPair`).

use mssd_pg_test::ReplicatedPair;
use mssd_store::{PostgresOptions, PostgresStore};

#[tokio::test(flavor = "multi_thread")]
async fn local_commits_are_refused_when_a_standby_is_synchronous() {
    let Some(pair) = tokio::task::spawn_blocking(ReplicatedPair::start)
        .await
        .unwrap()
    else {
        return;
    };
    tokio::task::block_in_place(|| pair.create_database("standby_settings"));
    let url = pair.url(pair.primary_port, "standby_settings");
    let local = format!("{url}&options=-c%20synchronous_commit%3Dlocal");
    let Err(err) = PostgresStore::connect(&local, PostgresOptions::new(1)).await else {
        panic!("synchronous_commit = local was accepted with a synchronous standby");
    };
    assert!(
        err.to_string().contains("synchronous_standby_names"),
        "{err}"
    );
    for accepted in ["on", "remote_apply"] {
        let url = format!("{url}&options=-c%20synchronous_commit%3D{accepted}");
        let store = PostgresStore::connect(&url, PostgresOptions::new(1))
            .await
            .unwrap_or_else(|e| panic!("synchronous_commit = {accepted} refused: {e}"));
        store.close();
    }
}
