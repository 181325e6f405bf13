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

    // Server: B is listed, remote delivery would go to a closed port (messages stay queued).
    let xml = whitelist_xml(
        &[
            (A, &a.server_dn()),
            (B, "CN=mail.clinique-b.test.mssante.fr,OU=1,O=B,C=FR"),
        ],
        "2026-11-01T00:00:00Z",
    );
    std::fs::write(a.data_dir().join("liste-blanche.xml"), xml).unwrap();
    a.configure(
        "",
        &format!("[trust_list]\nsource = \"liste-blanche.xml\"\n\n[annuaire]\nunknown_recipient = \"refuse\"\n\n[relay]\nroutes = {{ \"{B}\" = \"127.0.0.1:{}\" }}\n", free_port()),
    );
    let out = a.cli(
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
    assert!(out.status.success(), "{}", out.stderr);
    let server = a.start();

    let (status, body) = http_get(server.addr("http"), "/annuaire/search?q=DUPONT+jean");
    assert_eq!(status, 200, "{body}");
    let hits: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        body.contains("dr.dupont@clinique-b.test.mssante.fr"),
        "{hits}"
    );
    assert_eq!(http_get(server.addr("http"), "/annuaire/search").0, 400);

    let (client, _) = SmtpClient::connect(server.addr("submission"));
    let (mut client, _) = client
        .starttls(
            &format!("mail.{A}"),
            tls_client_config(&a.pki("root.pem"), None),
        )
        .unwrap();
    assert!(
        client
            .command(&format!("AUTH PLAIN {}", plain(MARTIN, PASSWORD)))
            .starts_with("235")
    );
    assert!(
        client
            .command(&format!("MAIL FROM:<{MARTIN}>"))
            .starts_with("250")
    );
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
