//! End-to-end: the national directory through the real binary — `mssd annuaire import`,
//! `lookup` and `export`, `GET /annuaire/search`, and submission refusing a recipient at a
//! listed domain that the directory does not know (`unknown_recipient = "refuse"`).

use mssd_e2e::peers::{plain, whitelist_xml};
use mssd_e2e::{Operator, SmtpClient, free_port, http_get, tls_client_config};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const A: &str = "hopital-a.test.mssante.fr";
const B: &str = "clinique-b.test.mssante.fr";
const MARTIN: &str = "dr.martin@hopital-a.test.mssante.fr";
const PASSWORD: &str = "correct horse battery staple";

/// An Extraction_Correspondance_MSSante file with the real header and the given rows
/// (column name → value; the others empty).
fn extraction(rows: &[&[(&str, &str)]]) -> String {
    let header = include_str!(
        "../../annuaire-sync/tests/fixtures/extraction-correspondance-mssante.header.txt"
    )
    .trim_end();
    let columns: Vec<&str> = header.split('|').collect();
    let mut text = format!("{header}\n");
    for row in rows {
        let line: Vec<&str> = columns
            .iter()
            .map(|c| row.iter().find(|(k, _)| k == c).map_or("", |(_, v)| *v))
            .collect();
        text.push_str(&line.join("|"));
        text.push('\n');
    }
    text
}

fn dupont() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Type de BAL", "PER"),
        ("Adresse BAL", "dr.dupont@clinique-b.test.mssante.fr"),
        ("Type Identifiant PP", "8"),
        ("Identifiant PP", "10002345675"),
        ("Identification nationale PP", "810002345675"),
        ("Nom d'exercice", "DUPONT"),
        ("Prénom d'exercice", "Jean"),
        ("Libellé Profession", "Médecin"),
        ("Raison Sociale structure BAL", "CLINIQUE B"),
    ]
}

/// Operator A with B listed (delivery to B would go to a closed port: messages stay queued),
/// the given unknown-recipient policy, and Dr Martin's mailbox; started.
fn start_with_policy(a: &Operator, policy: &str) -> mssd_e2e::Mssd {
    let b_dn = "CN=mail.clinique-b.test.mssante.fr,OU=1,O=B,C=FR";
    let xml = whitelist_xml(&[(A, &a.server_dn()), (B, b_dn)], "2026-11-01T00:00:00Z");
    std::fs::write(a.data_dir().join("liste-blanche.xml"), xml).unwrap();
    a.configure(
        "",
        &format!(
            "[trust_list]\nsource = \"liste-blanche.xml\"\n\n[annuaire]\nunknown_recipient = \"{policy}\"\n\n[relay]\nroutes = {{ \"{B}\" = \"127.0.0.1:{}\" }}\n",
            free_port()
        ),
    );
    let add = [
        "mailbox",
        "add",
        MARTIN,
        "--kind",
        "PER",
        "--owner",
        "810001045367",
        "--password-stdin",
    ];
    let out = a.cli(&add, Some(&format!("{PASSWORD}\n")));
    assert!(out.status.success(), "{}", out.stderr);
    a.start()
}

/// Dr Martin logged in on submission (STARTTLS, PLAIN) with MAIL FROM accepted.
fn martin_sending(server: &mssd_e2e::Mssd, a: &Operator) -> SmtpClient {
    let (client, _) = SmtpClient::connect(server.addr("submission"));
    let tls = tls_client_config(&a.pki("root.pem"), None);
    let (mut client, _) = client.starttls(&format!("mail.{A}"), tls).unwrap();
    let auth = client.command(&format!("AUTH PLAIN {}", plain(MARTIN, PASSWORD)));
    assert!(auth.starts_with("235"), "{auth}");
    let mail = client.command(&format!("MAIL FROM:<{MARTIN}>"));
    assert!(mail.starts_with("250"), "{mail}");
    client
}

#[test]
fn import_lookup_search_export_and_the_unknown_recipient_policy() {
    let a = Operator::new(BIN, A);
    let secretariat = [
        ("Type de BAL", "ORG"),
        ("Adresse BAL", "secretariat@clinique-b.test.mssante.fr"),
        ("Raison Sociale structure BAL", "CLINIQUE B"),
    ];
    let file = a
        .dir
        .path()
        .join("Extraction_Correspondance_MSSante_202611230300.txt");
    let dup = dupont();
    std::fs::write(
        &file,
        extraction(&[
            &dup,
            &secretariat,
            &[("Type de BAL", "PER"), ("Adresse BAL", "not an address")],
        ]),
    )
    .unwrap();

    let out = a.cli(&["annuaire", "import", file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("2 accepted, 1 malformed"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("line 4:"),
        "the malformed line is named: {}",
        out.stdout
    );

    let out = a.cli(&["annuaire", "lookup", "dupont", "--json"], None);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("dr.dupont@clinique-b.test.mssante.fr"),
        "{}",
        out.stdout
    );
    assert_eq!(
        a.cli(&["annuaire", "lookup", "nobody-like-this"], None)
            .status
            .code(),
        Some(1)
    );

    let server = start_with_policy(&a, "refuse");

    let (status, body) = http_get(server.addr("http"), "/annuaire/search?q=DUPONT+jean");
    assert_eq!(status, 200, "{body}");
    let hits: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        body.contains("dr.dupont@clinique-b.test.mssante.fr"),
        "{hits}"
    );
    assert_eq!(http_get(server.addr("http"), "/annuaire/search").0, 400);

    let mut client = martin_sending(&server, &a);
    assert!(
        client
            .command(&format!("RCPT TO:<dr.dupont@{B}>"))
            .starts_with("250 2.1.5 Recipient OK")
    );
    let refused = client.command(&format!("RCPT TO:<inconnu@{B}>"));
    assert!(
        refused.starts_with(
            "550 5.1.1 inconnu@clinique-b.test.mssante.fr is not in the national directory"
        ),
        "{refused}"
    );

    // Publication: our PER mailbox, as a FHIR batch of PATCH requests.
    let out = a.cli(&["annuaire", "export"], None);
    assert!(out.status.success(), "{}", out.stderr);
    let bundle: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert!(
        out.stdout.contains(MARTIN) && out.stdout.contains("PATCH"),
        "{}",
        out.stdout
    );
}

fn wait_for_metric(server: &mssd_e2e::Mssd, sample: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, metrics) = http_get(server.addr("http"), "/metrics");
        if metrics.contains(sample) {
            return metrics;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {sample:?} in:\n{metrics}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn the_server_imports_its_source_directory_and_keeps_the_directory_on_a_refusal() {
    let a = Operator::new(BIN, A);
    let dir = a.data_dir().join("annuaire");
    std::fs::create_dir_all(&dir).unwrap();
    let dup = dupont();
    std::fs::write(
        dir.join("Extraction_Correspondance_MSSante_202611220300.txt"),
        extraction(&[&dup]),
    )
    .unwrap();
    a.configure("", "[annuaire]\nsource = \"annuaire\"\nrefresh = \"1h\"\n");
    let server = a.start();
    // The index is reloaded just after the import report is stored: wait for the index.
    let metrics = wait_for_metric(&server, "mssd_annuaire_entries 1\n");
    assert!(
        metrics.contains("mssd_annuaire_last_import_success{set=\"mailboxes\"} 1\n"),
        "{metrics}"
    );
    let (_, body) = http_get(server.addr("http"), "/annuaire/search?q=810002345675");
    assert!(
        body.contains("dr.dupont@clinique-b.test.mssante.fr"),
        "{body}"
    );
    let (status, _) = server.terminate(std::time::Duration::from_secs(20));
    assert!(status.success());

    // A newer, empty extraction: refused at the next start; the directory in force stays.
    std::fs::write(
        dir.join("Extraction_Correspondance_MSSante_202611230300.txt"),
        extraction(&[]),
    )
    .unwrap();
    let server = a.start();
    let metrics = wait_for_metric(
        &server,
        "mssd_annuaire_last_import_success{set=\"mailboxes\"} 0\n",
    );
    assert!(metrics.contains("mssd_annuaire_entries 1\n"), "{metrics}");
    let (status, _) = server.terminate(std::time::Duration::from_secs(20));
    assert!(status.success());
    let doctor = a.cli(&["doctor"], None);
    assert!(
        doctor.stdout.contains("last mailboxes import") && doctor.stdout.contains("REFUSED"),
        "{}",
        doctor.stdout
    );
}

#[test]
fn warn_policy_accepts_and_leaves_a_notice_in_the_senders_inbox() {
    let a = Operator::new(BIN, A);
    let file = a
        .dir
        .path()
        .join("Extraction_Correspondance_MSSante_202611230300.txt");
    let dup = dupont();
    std::fs::write(&file, extraction(&[&dup])).unwrap();
    assert!(
        a.cli(&["annuaire", "import", file.to_str().unwrap()], None)
            .status
            .success()
    );
    let server = start_with_policy(&a, "warn");
    let mut client = martin_sending(&server, &a);
    assert_eq!(
        client.command(&format!("RCPT TO:<dr.dupont@{B}>")),
        "250 2.1.5 Recipient OK"
    );
    let warned = client.command(&format!("RCPT TO:<inconnu@{B}>"));
    assert!(
        warned.starts_with("250 2.1.5 Recipient OK, but unknown to the national directory"),
        "{warned}"
    );
    assert!(client.command("DATA").starts_with("354"));
    client.send_raw(b"Subject: test\r\nMessage-ID: <w1@hopital-a>\r\n\r\nbonjour\r\n.\r\n");
    assert!(client.reply().starts_with("250 2.0.0"));

    let inbox = mssd_e2e::store::messages(&a.data_dir(), MARTIN, "INBOX");
    assert_eq!(inbox.len(), 1, "one notice for the sender");
    let notice = String::from_utf8_lossy(&inbox[0]).into_owned();
    assert!(
        notice.contains("inconnu@clinique-b.test.mssante.fr") && notice.contains("<w1@hopital-a>"),
        "{notice}"
    );
    assert!(
        !notice.contains("dr.dupont@"),
        "only unknown recipients are named: {notice}"
    );
    assert!(
        notice.contains("Auto-Submitted: auto-generated"),
        "{notice}"
    );
    assert_eq!(
        mssd_e2e::store::queue(&a.data_dir()).len(),
        1,
        "the message itself went on"
    );
}
