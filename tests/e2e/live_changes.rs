//! End-to-end: what the command line changes reaches the running server within seconds,
//! without a restart — a liste blanche loaded with `mssd trust-list load` (a domain taken
//! off is refused), a national directory imported with `mssd annuaire import` (found by
//! `/annuaire/search`), a mailbox suspended with `mssd mailbox suspend` (its next login
//! refused).

use std::time::{Duration, Instant};

use mssd_e2e::http_get;
use mssd_e2e::peers::whitelist_xml;
use mssd_e2e::submission_world::{A, B, ORG_PASSWORD, World, martin, secretariat, world};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
/// The longest the server may take to follow a change (the issue says 5 s).
const WITHIN: Duration = Duration::from_secs(5);

/// Polls `check` until it holds or `WITHIN` has passed; returns how long it took.
fn within(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < WITHIN, "{what}: not within {WITHIN:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

fn rcpt_to_b(world: &World) -> String {
    let mut smtp = world.logged_in(&martin(), mssd_e2e::submission_world::PASSWORD);
    let reply = smtp.command(&format!("MAIL FROM:<{}>", martin()));
    assert!(reply.starts_with("250"), "{reply}");
    smtp.command(&format!("RCPT TO:<someone@{B}>"))
}

#[test]
fn cli_changes_reach_the_running_server_within_seconds() {
    let world = world(BIN);
    assert!(rcpt_to_b(&world).starts_with("250"), "B is listed at start");

    // A new list without B, loaded by the CLI (forced: it removes half the domains).
    let list = world.op.data_dir().join("liste-sans-b.xml");
    let xml = whitelist_xml(&[(A, &world.op.server_dn())], "2026-11-02T00:00:00Z");
    std::fs::write(&list, xml).unwrap();
    world.op.cli_ok(
        &["trust-list", "load", list.to_str().unwrap(), "--force"],
        None,
    );
    let took = within("B refused after trust-list load", || {
        rcpt_to_b(&world).starts_with("550")
    });
    eprintln!("liste blanche followed in {took:?}");

    // A national directory imported by the CLI.
    let (_, before) = http_get(world.server.addr("http"), "/annuaire/search?q=dupont");
    assert!(!before.contains("dr.dupont@"), "{before}");
    let header = include_str!(
        "../../annuaire-sync/tests/fixtures/extraction-correspondance-mssante.header.txt"
    )
    .trim_end();
    let row: Vec<&str> = header
        .split('|')
        .map(|column| match column {
            "Type de BAL" => "PER",
            "Adresse BAL" => "dr.dupont@clinique-b.test.mssante.fr",
            "Nom d'exercice" => "DUPONT",
            "Prénom d'exercice" => "Jean",
            _ => "",
        })
        .collect();
    let file = world
        .op
        .data_dir()
        .join("Extraction_Correspondance_MSSante_202612040300.txt");
    std::fs::write(&file, format!("{header}\n{}\n", row.join("|"))).unwrap();
    world
        .op
        .cli_ok(&["annuaire", "import", file.to_str().unwrap()], None);
    let took = within("the imported directory searched", || {
        http_get(world.server.addr("http"), "/annuaire/search?q=dupont")
            .1
            .contains("dr.dupont@clinique-b.test.mssante.fr")
    });
    eprintln!("directory followed in {took:?}");

    // A mailbox suspended by the CLI: its next login is refused.
    let _ = world.logged_in(&secretariat(), ORG_PASSWORD);
    world
        .op
        .cli_ok(&["mailbox", "suspend", &secretariat()], None);
    let (mut smtp, _) = world.starttls_session();
    let reply = smtp.command(&format!(
        "AUTH PLAIN {}",
        mssd_e2e::peers::plain(&secretariat(), ORG_PASSWORD)
    ));
    assert!(reply.starts_with("535"), "{reply}");
}
