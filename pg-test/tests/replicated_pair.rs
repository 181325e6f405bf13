//! The replicated pair itself: the standby is synchronous, a commit acknowledged by the
//! primary is visible on the standby at once (`remote_apply`), and after the primary's SIGKILL
//! and the promotion the standby has it and takes writes.

use mssd_pg_test::ReplicatedPair;

#[test]
fn a_commit_acknowledged_by_the_primary_survives_its_sigkill_on_the_promoted_standby() {
    let Some(pair) = ReplicatedPair::start() else {
        return;
    };
    pair.create_database("pairtest");
    pair.psql(
        pair.primary_port,
        "pairtest",
        "CREATE TABLE acked (n INT PRIMARY KEY)",
    );
    for n in 0..50 {
        pair.psql(
            pair.primary_port,
            "pairtest",
            &format!("INSERT INTO acked VALUES ({n})"),
        );
        // remote_apply: the INSERT returned only once the standby replayed it.
        let on_standby = pair.psql(
            pair.standby_port,
            "pairtest",
            &format!("SELECT count(*) FROM acked WHERE n = {n}"),
        );
        assert_eq!(on_standby, "1", "row {n} not yet on the standby");
    }
    let read_only = pair.psql(pair.standby_port, "pairtest", "SHOW transaction_read_only");
    assert_eq!(
        read_only, "on",
        "the standby takes writes before its promotion"
    );

    pair.kill_primary();
    pair.promote_standby();
    let count = pair.psql(pair.standby_port, "pairtest", "SELECT count(*) FROM acked");
    assert_eq!(count, "50");
    pair.psql(
        pair.standby_port,
        "pairtest",
        "INSERT INTO acked VALUES (50)",
    );
}
