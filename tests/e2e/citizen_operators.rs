//! End-to-end with two real operators under one test IGC-Santé: A hosts professionals, B
//! hosts citizens (the Mon espace santé role, domain patient.mssante.fr). A's professional
//! sends the real N1 lab report to its patient at B: delivered, indexed, readable over IMAP
//! with a test citizen token; the citizen answers through B's submission; a message with
//! `X-MSS-MES: FIN` cannot be answered; the replacement pair updates B's index.

use mssd_cda::Action;
use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};
use mssd_e2e::peers::{plain, whitelist_xml, xoauth2};
use mssd_e2e::store::wait_for_messages;
use mssd_e2e::{DEFAULT_LISTENERS, Mssd, Operator, SmtpClient, free_port, tls_client_config};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const A: &str = "hopital-a.test.mssante.fr";
const B: &str = "mes.test.mssante.fr";
const CITIZENS: &str = "patient.mssante.fr";
const MARTIN: &str = "dr.martin@hopital-a.test.mssante.fr";
const PASSWORD: &str = "correct horse battery staple";
const INS: &str = "279035121518989";

fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../shared/real-data/cda/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn citizen() -> String {
    format!("{INS}@{CITIZENS}")
}

struct Pair {
    a: Operator,
    b: Operator,
}

fn pair() -> Pair {
    let a = Operator::new(BIN, A);
    let b = Operator::sharing_ca(BIN, B, &a);
    let xml = whitelist_xml(
        &[
            (A, &a.server_dn()),
            (B, &b.server_dn()),
            (CITIZENS, &b.server_dn()),
        ],
        "2026-11-01T00:00:00Z",
    );
    for op in [&a, &b] {
        std::fs::write(op.data_dir().join("liste-blanche.xml"), &xml).unwrap();
    }
    let (a_port, b_port) = (free_port(), free_port());
    let listeners = |port: u16| {
        DEFAULT_LISTENERS.replace(
            "smtp = \"127.0.0.1:0\"",
            &format!("smtp = \"127.0.0.1:{port}\""),
        )
    };
    let common = "[trust_list]\nsource = \"liste-blanche.xml\"\n\n[queue]\nretry = [\"1s\"]\npoll = \"1s\"\n\n[cda]\naccepted_ins_oids = [\"1.2.250.1.213.1.4.8\", \"1.2.250.1.213.1.4.10\"]\n";
    a.configure_listeners(
        "",
        &format!("{common}\n[relay]\nroutes = {{ \"{CITIZENS}\" = \"127.0.0.1:{b_port}\", \"{B}\" = \"127.0.0.1:{b_port}\" }}\n"),
        &listeners(a_port),
    );
    b.configure_listeners(
        "",
        &format!("{common}\n[relay]\nroutes = {{ \"{A}\" = \"127.0.0.1:{a_port}\" }}\n\n[citizen]\ndomain = \"{CITIZENS}\"\n\n[citizen.oidc]\ntest_provider = true\n"),
        &listeners(b_port),
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
    b.cli_ok(&["citizen", "add", INS], None);
    Pair { a, b }
}

fn submission(server: &Mssd, op: &Operator, domain: &str) -> SmtpClient {
    let (client, greeting) = SmtpClient::connect(server.addr("submission"));
    assert!(greeting.starts_with("220"), "{greeting}");
    let (client, _) = client
        .starttls(
            &format!("mail.{domain}"),
            tls_client_config(&op.pki("root.pem"), None),
        )
        .unwrap();
    client
}

fn martin_sends(
    a: &Mssd,
    pair: &Pair,
    cda: &[u8],
    action: Option<Action>,
    headers: &str,
) -> String {
    let zip = xdm_zip(
        &[XdmDocument {
            cda,
            action,
            ..Default::default()
        }],
        &[&citizen()],
    );
    let message = message_with_xdm(
        MARTIN,
        &citizen(),
        "XDM/1.0/DDM+CR PAT-TROIS DOMINIQUE",
        headers,
        &zip,
    );
    let mut client = submission(a, &pair.a, A);
    assert!(
        client
            .command(&format!("AUTH PLAIN {}", plain(MARTIN, PASSWORD)))
            .starts_with("235")
    );
    client.send_message(MARTIN, &[&citizen()], &message)
}

fn citizen_sends(b: &Mssd, pair: &Pair, headers: &str) -> String {
    let out = pair.b.cli(&["citizen", "token", INS], None);
    assert!(out.status.success(), "{}", out.stderr);
    let mut client = submission(b, &pair.b, B);
    let auth = client.command(&format!(
        "AUTH XOAUTH2 {}",
        xoauth2(&citizen(), out.stdout.trim())
    ));
    assert!(auth.starts_with("235"), "{auth}");
    let message = format!(
        "From: <{}>\r\nTo: <{MARTIN}>\r\nSubject: Merci\r\n{headers}\r\nMerci docteur.\r\n",
        citizen()
    );
    client.send_message(&citizen(), &[MARTIN], message.as_bytes())
}

#[test]
fn a_professional_and_a_citizen_at_two_operators() {
    let pair = pair();
    let (a, b) = (pair.a.start(), pair.b.start());

    // The real N1 lab report to its patient at B: relayed, delivered, indexed.
    let report = sample("DOC_NON_STRUCTURE_CDA-R2-N1.xml");
    let reply = martin_sends(&a, &pair, &report, None, "Message-ID: <cr-1@hopital-a>\r\n");
    assert!(reply.starts_with("250"), "{reply}");
    let delivered = wait_for_messages(&pair.b.data_dir(), &citizen(), 1);
    assert_eq!(delivered.len(), 1, "relayed to the citizens' operator");
    let out = pair.b.cli(&["documents", "list", &citizen()], None);
    assert!(
        out.stdout
            .starts_with("current 1.3.6.1.4.1.19376.1.2.20.12345.1.1 "),
        "{}",
        out.stdout
    );
    // The citizen reads it over IMAP at B with a test token.
    let token = pair
        .b
        .cli(&["citizen", "token", INS], None)
        .stdout
        .trim()
        .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (mut client, _) = mssd_e2e::ImapClient::connect_tls(
            b.addr("imaps"),
            tls_client_config(&pair.b.pki("root.pem"), None),
            &format!("mail.{B}"),
        )
        .await
        .unwrap();
        let login = client
            .command(&format!(
                "AUTHENTICATE XOAUTH2 {}",
                xoauth2(&citizen(), &token)
            ))
            .await
            .unwrap();
        assert!(login.is_ok(), "{login:?}");
        let selected = client.command("SELECT INBOX").await.unwrap();
        assert_eq!(selected.count("EXISTS"), Some(1), "{selected:?}");
    });

    // The citizen answers through B: accepted, relayed to A.
    let reply = citizen_sends(&b, &pair, "In-Reply-To: <cr-1@hopital-a>\r\n");
    assert!(reply.starts_with("250"), "{reply}");
    assert_eq!(wait_for_messages(&pair.a.data_dir(), MARTIN, 1).len(), 1);

    // A closed message (X-MSS-MES: FIN) cannot be answered.
    let (v1, v2) = (
        sample("CR_Radio_CDAN1_v1.XML"),
        sample("CR_Radio_CDAN1_v2.XML"),
    );
    let reply = martin_sends(
        &a,
        &pair,
        &v1,
        None,
        "Message-ID: <fin-1@hopital-a>\r\nX-MSS-MES: FIN\r\n",
    );
    assert!(reply.starts_with("250"), "{reply}");
    assert_eq!(
        wait_for_messages(&pair.b.data_dir(), &citizen(), 2).len(),
        2
    );
    let reply = citizen_sends(&b, &pair, "In-Reply-To: <fin-1@hopital-a>\r\n");
    assert!(
        reply.starts_with("550 5.7.1 This message answers a message that does not expect a reply"),
        "{reply}"
    );

    // The replacement pair updates B's index.
    assert!(martin_sends(&a, &pair, &v2, Some(Action::Replace), "").starts_with("250"));
    assert_eq!(
        wait_for_messages(&pair.b.data_dir(), &citizen(), 3).len(),
        3
    );
    let out = pair
        .b
        .cli(&["documents", "list", &citizen(), "--all"], None);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("superseded 1.2.250.1.71.4.2.2.120456789.71024000081 ")),
        "{}",
        out.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("current 1.2.250.1.71.4.2.2.120456789.71024000082 ")),
        "{}",
        out.stdout
    );

    // Another patient's document is refused at A already (904), never relayed.
    let other = String::from_utf8(report.clone()).unwrap().replace(
        &format!("extension=\"{INS}\""),
        "extension=\"295109912611193\"",
    );
    let reply = martin_sends(&a, &pair, other.as_bytes(), None, "");
    assert!(reply.starts_with("550 5.7.1 904 "), "{reply}");
}
