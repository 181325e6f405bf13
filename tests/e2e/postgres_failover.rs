//! End-to-end: mssd on a PostgreSQL primary with a synchronous standby
//! (`synchronous_standby_names`, `synchronous_commit = remote_apply`, `mssd-pg-test`'s
//! `ReplicatedPair`). Senders submit on port 587 while the primary's postmaster is killed
//! with SIGKILL; the standby is promoted; every message mssd acknowledged with a 250 is read
//! back over IMAP from the promoted standby, and the audit chain verifies there.
//!
//! * The operator's manual procedure: mssd is stopped, its `[store] url` repointed at the
//!   promoted standby, started again.
//! * A libpq multi-host URL with `target_session_attrs=read-write` (both servers, primary
//!   first): mssd, never restarted, finds the new primary by itself once it is promoted.
//!
//! While no primary accepts writes, a submission must be told to try later (a 4xx reply with
//! an enhanced status code) or lose its connection, never get a 250 that is then missing, nor
//! a 5xx. Without the Debian package `postgresql` the tests are skipped with a message.

use std::time::{Duration, Instant};

use mssd_e2e::crash::sigkill;
use mssd_e2e::nodes::postgres_store;
use mssd_e2e::submission_load::{Attempt, SubmissionLoad, acknowledged, secretariat_subjects};
use mssd_e2e::submission_world::{World, world_with};
use mssd_e2e::{Mssd, Operator};
use mssd_pg_test::ReplicatedPair;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const SENDERS: usize = 3;
const DATABASE: &str = "mssd";

fn run<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test)
}

/// A replicated pair with the database, and the submission world on it through `url` (given
/// the pair); `None` when PostgreSQL is not installed.
fn world_on_pair(url: impl Fn(&ReplicatedPair) -> String) -> Option<(ReplicatedPair, World)> {
    let pair = ReplicatedPair::start()?;
    pair.create_database(DATABASE);
    let world = world_with(BIN, &postgres_store(&url(&pair)));
    Some((pair, world))
}

/// With `remote_apply`, a message acknowledged is already replayed on the standby: every 250
/// seen before the count is taken is in the standby's count (submission may add messages of
/// its own, such as a copy in Sent, hence at least).
fn check_acknowledged_messages_are_readable_on_the_standby(
    pair: &ReplicatedPair,
    load: &SubmissionLoad,
) {
    let acknowledged = load.acknowledged().len();
    let on_standby: usize = pair
        .psql(pair.standby_port, DATABASE, "SELECT count(*) FROM messages")
        .parse()
        .expect("a count");
    assert!(
        on_standby >= acknowledged,
        "{acknowledged} messages acknowledged, {on_standby} readable on the standby"
    );
}

/// The load until `duration` has passed, checking the standby midway.
fn load_for(pair: &ReplicatedPair, load: &SubmissionLoad, duration: Duration) {
    std::thread::sleep(duration / 2);
    check_acknowledged_messages_are_readable_on_the_standby(pair, load);
    std::thread::sleep(duration / 2);
}

/// What the attempts between `from` and `to` were told, in short: replies by code, and lost
/// connections. Asserts none of them is a 5xx or a 4xx without an enhanced status code.
fn check_temporary_failures(attempts: &[Attempt], from: Instant, to: Instant) -> String {
    let mut by_reply = std::collections::BTreeMap::<String, usize>::new();
    let mut slowest = Duration::ZERO;
    for attempt in attempts.iter().filter(|a| a.at >= from && a.at < to) {
        slowest = slowest.max(attempt.took);
        let reply = attempt.reply.lines().last().unwrap_or_default();
        let key = if reply.is_empty() {
            "connection lost".to_owned()
        } else {
            reply.to_owned()
        };
        *by_reply.entry(key).or_default() += 1;
        if reply.is_empty() || reply.starts_with("250") {
            continue;
        }
        let enhanced = reply.split(' ').nth(1).unwrap_or_default();
        let is_enhanced = enhanced.split('.').count() == 3
            && enhanced.split('.').all(|p| p.parse::<u16>().is_ok());
        assert!(
            reply.starts_with('4') && enhanced.starts_with('4') && is_enhanced,
            "while no primary took writes, {:?} was answered {reply:?}",
            attempt.subject
        );
    }
    format!("{by_reply:?}, slowest attempt {slowest:?}")
}

/// Every acknowledged subject among the secretariat's messages read over IMAP on `node`:
/// the number stored.
fn check_every_acknowledged_message_is_stored(
    op: &Operator,
    node: &Mssd,
    attempts: &[Attempt],
) -> usize {
    let stored = run(secretariat_subjects(op, node));
    let acknowledged = acknowledged(attempts);
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|s| !stored.contains(s))
        .collect();
    let missing_attempts: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.acknowledged() && a.subject.as_ref().is_some_and(|s| missing.contains(&s)))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged messages missing after the failover: {missing_attempts:?}",
        missing.len(),
        acknowledged.len()
    );
    stored.len()
}

/// `mssd audit verify` on the database the node now uses.
fn check_audit_chain(op: &Operator) {
    let verify = op.cli_ok(&["audit", "verify"], None);
    assert!(
        verify.stdout.starts_with("audit trail intact: "),
        "{}",
        verify.stdout
    );
}

#[test]
fn every_acknowledged_message_is_on_the_promoted_standby_mssd_repointed_at_it() {
    let Some((pair, world)) = world_on_pair(|p| p.url(p.primary_port, DATABASE)) else {
        return;
    };
    let World { op, server, .. } = world;
    let load = SubmissionLoad::start(server.addr("submission"), op_tls(&op), SENDERS);
    load_for(&pair, &load, Duration::from_secs(2));

    let killed = Instant::now();
    pair.kill_primary();
    // The senders go on while no database takes writes.
    std::thread::sleep(Duration::from_secs(3));
    let (attempts, stopping) = load.stop();
    let outage = check_temporary_failures(&attempts, killed, Instant::now());
    pair.promote_standby();

    // The operator's procedure: stop mssd, point it at the promoted standby, start it.
    sigkill(server);
    op.repoint_store(&pair.url(pair.standby_port, DATABASE));
    let server = op.start();
    let stored = check_every_acknowledged_message_is_stored(&op, &server, &attempts);
    check_audit_chain(&op);
    eprintln!(
        "repointed: {} acknowledged ({} after the kill), {stored} stored on the promoted standby; \
         while the primary was dead: {outage}; the senders stopped in {stopping:?}",
        acknowledged(&attempts).len(),
        attempts
            .iter()
            .filter(|a| a.acknowledged() && a.at >= killed)
            .count(),
    );
    sigkill(server);
}

#[test]
fn a_multi_host_url_lets_mssd_find_the_promoted_standby_without_a_restart() {
    let Some((pair, world)) = world_on_pair(|p| p.multi_host_url(DATABASE)) else {
        return;
    };
    let World { op, server, .. } = world;
    let load = SubmissionLoad::start(server.addr("submission"), op_tls(&op), SENDERS);
    load_for(&pair, &load, Duration::from_secs(2));

    let killed = Instant::now();
    pair.kill_primary();
    std::thread::sleep(Duration::from_secs(2));
    let promoting = Instant::now();
    pair.promote_standby();
    // The same mssd, configuration unchanged: its pool's next connections skip the dead
    // primary and land on the promoted standby, which now takes writes.
    let deadline = Instant::now() + Duration::from_secs(60);
    let before = load.acknowledged().len();
    while load.acknowledged().len() < before + 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (attempts, stopping) = load.stop();
    let outage = check_temporary_failures(&attempts, killed, promoting);
    let resumed = attempts
        .iter()
        .filter(|a| a.acknowledged() && a.at >= promoting)
        .count();
    let first_ack = attempts
        .iter()
        .filter(|a| a.acknowledged() && a.at >= promoting)
        .map(|a| a.at - promoting)
        .min();
    assert!(
        resumed >= 20,
        "only {resumed} messages acknowledged within 60 s of the promotion"
    );

    let stored = check_every_acknowledged_message_is_stored(&op, &server, &attempts);
    check_audit_chain(&op);
    eprintln!(
        "multi-host: {} acknowledged ({resumed} after the promotion, the first {first_ack:?} \
         after it), {stored} stored; while no primary took writes: {outage}; the senders \
         stopped in {stopping:?}",
        acknowledged(&attempts).len(),
    );
    sigkill(server);
}

/// A TLS client configuration trusting `op`'s test root.
fn op_tls(op: &Operator) -> std::sync::Arc<rustls::ClientConfig> {
    mssd_e2e::tls_client_config(&op.pki("root.pem"), None)
}
