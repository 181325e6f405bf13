//! End-to-end: `mssd audit search` and `mssd audit verify` on the store of a running server —
//! the records the CLI and the server wrote, found by kind family, mailbox and page; then a
//! record changed directly in the database file, which `verify` reports with exit status 1.

use mssd_e2e::submission_world::{martin, suspended, world};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

#[test]
fn audit_search_pages_and_verify_finds_a_changed_record() {
    let world = world(BIN);
    let json_lines = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = world.op.cli_ok(args, None);
        out.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
            .collect()
    };
    // The world added four mailboxes and suspended one, all from the CLI.
    let mailbox = json_lines(&["audit", "search", "--kind", "mailbox", "--json"]);
    let kinds: Vec<&str> = mailbox
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "mailbox.create").count(),
        4,
        "{mailbox:?}"
    );
    assert!(kinds.contains(&"mailbox.suspend"), "{kinds:?}");
    assert!(
        mailbox
            .iter()
            .all(|r| r["at"].as_str().unwrap().ends_with('Z'))
    );

    let martins = json_lines(&["audit", "search", "--mailbox", &martin(), "--json"]);
    assert!(!martins.is_empty());
    assert!(
        martins
            .iter()
            .all(|r| r["actor"] == martin().as_str() || r["subject"] == martin().as_str()),
        "{martins:?}"
    );
    let suspension = json_lines(&["audit", "search", "--kind", "mailbox.suspend", "--json"]);
    assert_eq!(suspension.len(), 1);
    assert_eq!(suspension[0]["subject"], suspended().as_str());

    // Pages: two records, and how to get the next ones.
    let page = world.op.cli_ok(&["audit", "search", "--limit", "2"], None);
    assert_eq!(page.stdout.lines().count(), 2, "{}", page.stdout);
    let second_id = page
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap();
    assert!(
        page.stderr.contains(&format!("--after {second_id}")),
        "{}",
        page.stderr
    );
    let next = world.op.cli_ok(
        &["audit", "search", "--after", second_id, "--limit", "1"],
        None,
    );
    let next_id: i64 = next.stdout.split('\t').next().unwrap().parse().unwrap();
    assert!(next_id > second_id.parse::<i64>().unwrap());

    // Bad arguments say what to fix.
    let bad = world
        .op
        .cli(&["audit", "search", "--since", "01/12/2026"], None);
    assert!(!bad.status.success());
    assert!(bad.stderr.contains("2026-12-01"), "{}", bad.stderr);
    let bad = world.op.cli(&["audit", "search", "--limit", "0"], None);
    assert!(
        !bad.status.success() && bad.stderr.contains("--limit"),
        "{}",
        bad.stderr
    );

    let intact = world.op.cli_ok(&["audit", "verify"], None);
    assert!(
        intact.stdout.starts_with("audit trail intact: "),
        "{}",
        intact.stdout
    );

    // Someone with the database file drops the trigger and rewrites record 2.
    mssd_e2e::store::tamper(
        &world.op.data_dir(),
        "DROP TRIGGER audit_no_update; UPDATE audit SET outcome = 'nothing' WHERE id = 2;",
    );
    let broken = world.op.cli(&["audit", "verify"], None);
    assert_eq!(broken.status.code(), Some(1), "{}", broken.stdout);
    assert!(
        broken.stdout.contains("BROKEN at record 2"),
        "{}",
        broken.stdout
    );
}
