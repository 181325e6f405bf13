//! End-to-end: the outbound queue shared by two `mssd serve` nodes on one PostgreSQL database.
//! 1,000 messages to a peer operator that is down are queued by node A; both nodes' queue
//! runners retry them; once the peer is up every message is delivered exactly once (an entry
//! is claimed with a lease, `FOR UPDATE SKIP LOCKED`, so two runners never send it together).
//!
//! The peer is a real mssd (operator B, SQLite) under the same test IGC-Santé, both on the
//! liste blanche. PostgreSQL is a throwaway cluster; skipped with a message without it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mssd_e2e::nodes::{fresh_database, postgres_store};
use mssd_e2e::peers::{plain, whitelist_xml};
use mssd_e2e::{DEFAULT_LISTENERS, Operator, SmtpClient, free_port, tls_client_config};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const A: &str = "hopital-a.test.mssante.fr";
const B: &str = "clinique-b.test.mssante.fr";
const MARTIN: &str = "dr.martin@hopital-a.test.mssante.fr";
const DUPONT: &str = "dr.dupont@clinique-b.test.mssante.fr";
const PASSWORD: &str = "correct horse battery staple";
const MESSAGES: usize = 1_000;

/// How many of each subject `dr.dupont`'s INBOX at B holds.
fn delivered_subjects(b: &Operator) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in mssd_e2e::store::messages(&b.data_dir(), DUPONT, "INBOX") {
        let text = String::from_utf8_lossy(&message);
        if let Some(subject) = text
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .map(str::to_owned)
        {
            *counts.entry(subject).or_insert(0) += 1;
        }
    }
    counts
}

fn queue_length(a: &Operator) -> usize {
    let out = a.cli_ok(&["queue", "list", "--json"], None);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).expect("queue list --json");
    rows.as_array().map_or(0, Vec::len)
}

#[test]
fn a_thousand_queued_messages_are_each_delivered_once_by_two_nodes() {
    let Some(url) = fresh_database() else {
        return;
    };
    let a = Operator::new(BIN, A);
    let b = Operator::sharing_ca(BIN, B, &a);
    let xml = whitelist_xml(
        &[(A, &a.server_dn()), (B, &b.server_dn())],
        "2026-11-01T00:00:00Z",
    );
    for op in [&a, &b] {
        std::fs::write(op.data_dir().join("liste-blanche.xml"), &xml).unwrap();
    }
    let b_smtp_port = free_port();
    // Both nodes retry every second: they compete for every entry at every round.
    a.configure(
        "",
        &format!(
            "[trust_list]\nsource = \"liste-blanche.xml\"\n\n[relay]\nroutes = {{ \"{B}\" = \"127.0.0.1:{b_smtp_port}\" }}\n\n\
             [queue]\nretry = [\"1s\"]\npoll = \"1s\"\n\n[auth]\npassword_kinds = [\"PER\"]\n\n{}",
            postgres_store(&url)
        ),
    );
    let b_listeners = DEFAULT_LISTENERS.replace(
        "smtp = \"127.0.0.1:0\"",
        &format!("smtp = \"127.0.0.1:{b_smtp_port}\""),
    );
    b.configure_listeners(
        "",
        "[trust_list]\nsource = \"liste-blanche.xml\"\n",
        &b_listeners,
    );
    a.cli_ok(
        &[
            "mailbox",
            "add",
            MARTIN,
            "--kind",
            "PER",
            "--owner",
            "810001045367",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    b.cli_ok(
        &[
            "mailbox",
            "add",
            DUPONT,
            "--kind",
            "PER",
            "--owner",
            "810002345675",
        ],
        None,
    );

    let node_1 = a.start();
    let node_2 = a.another_node().start();

    // 1,000 messages submitted to node 1 while B is down.
    let (client, _) = SmtpClient::connect(node_1.addr("submission"));
    let (mut smtp, _) = client
        .starttls(
            &format!("mail.{A}"),
            tls_client_config(&a.pki("root.pem"), None),
        )
        .expect("STARTTLS");
    let reply = smtp.command(&format!("AUTH PLAIN {}", plain(MARTIN, PASSWORD)));
    assert!(reply.starts_with("235"), "{reply}");
    let padding = "x".repeat(2_000);
    for n in 0..MESSAGES {
        let message = format!(
            "From: <{MARTIN}>\r\nTo: <{DUPONT}>\r\nSubject: queued-{n}\r\n\r\n{padding}\r\n"
        );
        let reply = smtp.send_message(MARTIN, &[DUPONT], message.as_bytes());
        assert!(reply.starts_with("250"), "message {n}: {reply}");
    }
    drop(smtp);
    // Let both runners fail a few rounds against the closed port.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        queue_length(&a),
        MESSAGES,
        "B is down: everything stays queued"
    );

    let b_server = b.start();
    let started = Instant::now();
    while queue_length(&a) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{} entries still queued after 120 s",
            queue_length(&a)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let drained = started.elapsed();
    // Give a runner that would send an entry twice the time to do it.
    std::thread::sleep(Duration::from_secs(3));
    let counts = delivered_subjects(&b);
    let twice: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(counts.len(), MESSAGES, "distinct messages delivered to B");
    eprintln!("{MESSAGES} queued messages delivered once each by two nodes in {drained:?}");
    drop((node_1, node_2, b_server));
}
