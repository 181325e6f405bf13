//! End-to-end with two real mssd instances — operator A and operator B under one test
//! IGC-Santé, a liste blanche listing both: users of A submit (password, XOAUTH2, EXTERNAL),
//! A's queue relays to B over mutual TLS, B delivers. Then B is down: A retries and delivers
//! when B is back; past expiry, a DSN bounce lands in the sender's INBOX.

use std::time::{Duration, Instant};

use mssd_e2e::peers::{TokenIssuer, plain, whitelist_xml, xoauth2};
use mssd_e2e::{
    DEFAULT_LISTENERS, Mssd, Operator, SmtpClient, free_port, tls_client_config, tls_connect,
};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const A: &str = "hopital-a.test.mssante.fr";
const B: &str = "clinique-b.test.mssante.fr";
const MARTIN: &str = "dr.martin@hopital-a.test.mssante.fr";
const APP: &str = "dpi@hopital-a.test.mssante.fr";
const DUPONT: &str = "dr.dupont@clinique-b.test.mssante.fr";
const PASSWORD: &str = "correct horse battery staple";
const ISSUER: &str = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";

struct Pair {
    a: Operator,
    b: Operator,
    issuer: TokenIssuer,
    b_smtp_port: u16,
}

/// A and B sharing one test CA; both listed; each routes the other's domain to its fixed
/// SMTP port (B sends its delivery reports back to A).
fn pair(queue: &str) -> Pair {
    let a = Operator::new(BIN, A);
    let b = Operator::sharing_ca(BIN, B, &a);
    let xml = whitelist_xml(
        &[(A, &a.server_dn()), (B, &b.server_dn())],
        "2026-11-01T00:00:00Z",
    );
    for op in [&a, &b] {
        std::fs::write(op.data_dir().join("liste-blanche.xml"), &xml).unwrap();
    }
    let issuer = TokenIssuer::new(ISSUER);
    std::fs::write(a.data_dir().join("jwks.json"), issuer.jwks_json()).unwrap();
    let b_smtp_port = free_port();
    let a_smtp_port = free_port();
    let trust = "[trust_list]\nsource = \"liste-blanche.xml\"\n";
    let a_listeners = DEFAULT_LISTENERS.replace(
        "smtp = \"127.0.0.1:0\"",
        &format!("smtp = \"127.0.0.1:{a_smtp_port}\""),
    );
    a.configure_listeners(
        "",
        &format!(
            "{trust}\n[relay]\nroutes = {{ \"{B}\" = \"127.0.0.1:{b_smtp_port}\" }}\n\n[queue]\n{queue}\n\n[auth.oidc]\nissuer = \"{ISSUER}\"\njwks = \"jwks.json\"\naudience = \"mssd-test\"\n"
        ),
        &a_listeners,
    );
    let b_listeners = DEFAULT_LISTENERS.replace(
        "smtp = \"127.0.0.1:0\"",
        &format!("smtp = \"127.0.0.1:{b_smtp_port}\""),
    );
    let b_sections = format!(
        "{trust}\n[relay]\nroutes = {{ \"{A}\" = \"127.0.0.1:{a_smtp_port}\" }}\n\n[queue]\n{queue}\n"
    );
    b.configure_listeners("", &b_sections, &b_listeners);
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
    a.cli_ok(
        &[
            "mailbox",
            "add",
            APP,
            "--kind",
            "APP",
            "--certificate",
            a.pki("app.pem").to_str().unwrap(),
        ],
        None,
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
    Pair {
        a,
        b,
        issuer,
        b_smtp_port,
    }
}

fn submission(a: &Mssd, op: &Operator) -> SmtpClient {
    let (client, greeting) = SmtpClient::connect(a.addr("submission"));
    assert!(greeting.starts_with("220"), "{greeting}");
    let (client, ehlo) = client
        .starttls(
            &format!("mail.{A}"),
            tls_client_config(&op.pki("root.pem"), None),
        )
        .unwrap();
    assert!(ehlo.contains("AUTH "), "{ehlo}");
    client
}

fn message(subject: &str) -> String {
    format!(
        "From: <{MARTIN}>\r\nTo: <{DUPONT}>\r\nSubject: {subject}\r\nMessage-ID: <{subject}@hopital-a.test.mssante.fr>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\nX-MSS-NIL: NIL-TEST\r\nX-MSS-CODECDA: 11490-0\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCompte rendu de sortie.\r\n.Ligne pointée.\r\n"
    )
}

/// Dr Martin submits `message(subject)` to Dr Dupont with DSN parameters on MAIL and RCPT.
fn submit_with_dsn(a: &Mssd, op: &Operator, mail_params: &str, rcpt_params: &str, subject: &str) {
    let mut client = submission(a, op);
    let auth = client.command(&format!("AUTH PLAIN {}", plain(MARTIN, PASSWORD)));
    assert!(auth.starts_with("235"), "{auth}");
    let mail = client.command(&format!("MAIL FROM:<{MARTIN}> {mail_params}"));
    assert!(mail.starts_with("250"), "{mail}");
    let rcpt = client.command(&format!("RCPT TO:<{DUPONT}> {rcpt_params}"));
    assert!(rcpt.starts_with("250"), "{rcpt}");
    assert!(client.command("DATA").starts_with("354"));
    client.send_raw(format!("{}.\r\n", message(subject)).as_bytes());
    let end = client.reply();
    assert!(end.starts_with("250"), "{end}");
}

/// The message without the Received fields the relays prepended.
fn without_trace(stored: &[u8]) -> String {
    let text = String::from_utf8_lossy(stored).into_owned();
    let mut rest = text.as_str();
    while rest.starts_with("Received:") {
        let mut end = rest.find("\r\n").unwrap() + 2;
        while rest[end..].starts_with('\t') || rest[end..].starts_with(' ') {
            end += rest[end..].find("\r\n").unwrap() + 2;
        }
        rest = &rest[end..];
    }
    rest.to_string()
}

use mssd_e2e::store::wait_for_messages;

#[test]
fn users_of_a_submit_three_ways_and_b_delivers_byte_identical() {
    let pair = pair("retry = [\"1s\"]\npoll = \"1s\"");
    let b = pair.b.start();
    let a = pair.a.start();

    // Password (PLAIN).
    let mut client = submission(&a, &pair.a);
    assert!(
        client
            .command(&format!("AUTH PLAIN {}", plain(MARTIN, PASSWORD)))
            .starts_with("235 2.7.0")
    );
    let sent_password = message("password");
    assert!(
        client
            .send_message(MARTIN, &[DUPONT], sent_password.as_bytes())
            .starts_with("250 2.0.0")
    );
    client.command("QUIT");

    // XOAUTH2 with a Pro Santé Connect-style token for the owner's idNat_PS.
    let token = pair
        .issuer
        .sign(&pair.issuer.claims("810001045367", "mssd-test", 300));
    let mut client = submission(&a, &pair.a);
    let reply = client.command(&format!("AUTH XOAUTH2 {}", xoauth2(MARTIN, &token)));
    assert!(reply.starts_with("235 2.7.0"), "{reply}");
    let sent_token = message("xoauth2");
    assert!(
        client
            .send_message(MARTIN, &[DUPONT], sent_token.as_bytes())
            .starts_with("250 2.0.0")
    );
    client.command("QUIT");

    // EXTERNAL on 465 with the applicative certificate bound to the APP mailbox.
    let config = tls_client_config(
        &pair.a.pki("root.pem"),
        Some((&pair.a.pki("app.pem"), &pair.a.pki("app.key"))),
    );
    let stream = tls_connect(a.addr("submissions"), &format!("mail.{A}"), config).unwrap();
    let mut client = SmtpClient::over_tls(stream);
    assert!(client.reply().starts_with("220"));
    assert!(client.command("EHLO dpi.hopital-a").contains("EXTERNAL"));
    assert!(client.command("AUTH EXTERNAL =").starts_with("235 2.7.0"));
    let sent_app =
        message("external").replace(&format!("From: <{MARTIN}>"), &format!("From: <{APP}>"));
    assert!(
        client
            .send_message(APP, &[DUPONT], sent_app.as_bytes())
            .starts_with("250 2.0.0")
    );
    client.command("QUIT");

    let delivered = wait_for_messages(&pair.b.data_dir(), DUPONT, 3);
    assert_eq!(delivered.len(), 3, "B's mailbox: {delivered:?}");
    let mut bodies: Vec<String> = delivered.iter().map(|m| without_trace(m)).collect();
    bodies.sort();
    let mut expected = vec![sent_password, sent_token, sent_app];
    expected.sort();
    assert_eq!(
        bodies, expected,
        "byte-identical apart from the Received fields"
    );
    // Two trace fields: A's (authenticated submission) then B's (relay with A's DN).
    let first = String::from_utf8_lossy(&delivered[0]).into_owned();
    assert_eq!(first.matches("Received: ").count(), 2, "{first}");
    assert!(
        first.contains(&format!("peer=\"{}\"", pair.a.server_dn())),
        "{first}"
    );
    assert!(first.contains("with ESMTPSA"), "{first}");

    // A's audit trail: the three logins and the three relays to B.
    let audit = mssd_e2e::store::audit(&pair.a.data_dir());
    let count = |kind: &str, outcome: &str| {
        audit
            .iter()
            .filter(|(k, o, _)| k == kind && o == outcome)
            .count()
    };
    assert_eq!(
        count("auth.success", "success") + count("auth.success", "ok"),
        3,
        "{audit:#?}"
    );
    assert!(
        audit
            .iter()
            .filter(|(k, _, _)| k == "smtp.outbound.delivery")
            .count()
            >= 3,
        "{audit:#?}"
    );
    drop(a);
    drop(b);
}

#[test]
fn b_down_then_back_is_retried_and_delivered_and_expiry_bounces() {
    let pair = pair("retry = [\"1s\"]\npoll = \"1s\"");
    let a = pair.a.start();
    let mut client = submission(&a, &pair.a);
    assert!(
        client
            .command(&format!("AUTH PLAIN {}", plain(MARTIN, PASSWORD)))
            .starts_with("235")
    );
    assert!(
        client
            .send_message(MARTIN, &[DUPONT], message("retry").as_bytes())
            .starts_with("250")
    );

    // B is down: attempts fail and are recorded.
    let deadline = Instant::now() + Duration::from_secs(20);
    let attempts = loop {
        let queue = mssd_e2e::store::queue(&pair.a.data_dir());
        let attempts = queue.first().map_or(0, |(_, n)| *n);
        if attempts >= 2 || Instant::now() > deadline {
            break attempts;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(attempts >= 2, "A must retry while B is down");
    let listed = pair.a.cli(&["queue", "list"], None);
    assert!(
        listed.stdout.contains(DUPONT) && listed.stdout.contains("last error"),
        "{}",
        listed.stdout
    );

    // B comes back on the same address: delivered, queue empty.
    let b = pair.b.start();
    assert_eq!(b.addr("smtp").port(), pair.b_smtp_port);
    let delivered = wait_for_messages(&pair.b.data_dir(), DUPONT, 1);
    assert_eq!(delivered.len(), 1);
    assert_eq!(without_trace(&delivered[0]), message("retry"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !mssd_e2e::store::queue(&pair.a.data_dir()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(mssd_e2e::store::queue(&pair.a.data_dir()).is_empty());
    drop(b);
    drop(a);

    // Now with a 3 s expiry and B down for good: a bounce in the sender's INBOX.
    pair.a.configure(
        "",
        &format!("[trust_list]\nsource = \"liste-blanche.xml\"\n\n[relay]\nroutes = {{ \"{B}\" = \"127.0.0.1:{}\" }}\n\n[queue]\nretry = [\"1s\"]\npoll = \"1s\"\nexpiry = \"3s\"\n", pair.b_smtp_port),
    );
    let a = pair.a.start();
    submit_with_dsn(
        &a,
        &pair.a,
        "RET=HDRS ENVID=env-42",
        "NOTIFY=FAILURE",
        "expire",
    );
    let bounces = wait_for_messages(&pair.a.data_dir(), MARTIN, 1);
    assert_eq!(bounces.len(), 1, "a DSN in the sender's INBOX");
    let dsn = String::from_utf8_lossy(&bounces[0]).into_owned();
    assert!(
        dsn.contains("multipart/report") && dsn.contains("report-type=delivery-status"),
        "{dsn}"
    );
    assert!(
        dsn.contains(&format!("Final-Recipient: rfc822; {DUPONT}")),
        "{dsn}"
    );
    assert!(dsn.contains("Action: failed"), "{dsn}");
    assert!(dsn.contains("Status: 4.4.7"), "{dsn}");
    assert!(dsn.contains("Original-Envelope-Id: env-42"), "{dsn}");
    assert!(mssd_e2e::store::queue(&pair.a.data_dir()).is_empty());
}

/// RFC 3461: A passes NOTIFY and ENVID on to B, which has DSN; B, the final MTA, reports
/// "delivered" back to A's user; A reports nothing itself: exactly one receipt.
#[test]
fn notify_success_gives_exactly_one_delivered_dsn_from_the_final_mta() {
    let pair = pair("retry = [\"1s\"]\npoll = \"1s\"");
    let b = pair.b.start();
    let a = pair.a.start();
    submit_with_dsn(
        &a,
        &pair.a,
        "ENVID=env-77 RET=HDRS",
        "NOTIFY=SUCCESS,FAILURE",
        "notify",
    );
    assert_eq!(wait_for_messages(&pair.b.data_dir(), DUPONT, 1).len(), 1);
    let reports = wait_for_messages(&pair.a.data_dir(), MARTIN, 1);
    // Time for a second report to arrive, were one sent.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let reports_now = mssd_e2e::store::messages(&pair.a.data_dir(), MARTIN, "INBOX");
    assert_eq!(
        reports_now.len(),
        1,
        "exactly one receipt: {reports_now:#?}"
    );
    let dsn = String::from_utf8_lossy(&reports[0]).into_owned();
    assert!(dsn.contains("Action: delivered"), "{dsn}");
    assert!(dsn.contains("Status: 2.0.0"), "{dsn}");
    assert!(
        dsn.contains(&format!("Final-Recipient: rfc822; {DUPONT}")),
        "{dsn}"
    );
    assert!(dsn.contains("Original-Envelope-Id: env-77"), "{dsn}");
    assert!(
        dsn.contains(&format!("Reporting-MTA: dns; mail.{B}")),
        "{dsn}"
    );
    drop(a);
    drop(b);
}

/// A relaying server killed with SIGKILL while it hands a round of queued messages to B:
/// each message B accepted is recorded as it is accepted, so after the restart at most the
/// one in flight goes twice (every message of the round went twice before, 70–100 of them).
#[test]
fn a_relay_killed_mid_round_resends_at_most_the_message_in_flight() {
    const COUNT: usize = 120;
    let pair = pair("retry = [\"1s\"]\npoll = \"1s\"");
    let a = pair.a.start();
    // B is down: everything queues at A.
    let mut client = submission(&a, &pair.a);
    let auth = client.command(&format!("AUTH PLAIN {}", plain(MARTIN, PASSWORD)));
    assert!(auth.starts_with("235"), "{auth}");
    for i in 0..COUNT {
        let reply =
            client.send_message(MARTIN, &[DUPONT], message(&format!("crash-{i}")).as_bytes());
        assert!(reply.starts_with("250"), "{reply}");
    }
    let b = pair.b.start();
    // Kill A once B has part of the round.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = mssd_e2e::store::messages(&pair.b.data_dir(), DUPONT, "INBOX").len();
        if got >= COUNT / 4 || Instant::now() > deadline {
            assert!(
                got < COUNT,
                "the round ended before the kill ({got}); nothing was tested"
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    mssd_e2e::crash::sigkill(a);
    let a = pair.a.start();
    let deadline = Instant::now() + Duration::from_secs(90);
    let by_id = loop {
        let by_id = mssd_e2e::crash::messages_by_id(&pair.b.data_dir(), DUPONT, "INBOX");
        let distinct: std::collections::HashSet<&String> = by_id.iter().map(|(id, _)| id).collect();
        if distinct.len() >= COUNT || Instant::now() > deadline {
            break by_id;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (id, _) in &by_id {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(counts.len(), COUNT, "every message arrived (at least once)");
    let twice = counts.values().filter(|&&n| n > 1).count();
    assert!(twice <= 1, "{twice} messages were delivered twice");
    drop(a);
    drop(b);
}

/// A peer revoked after A's first session with it: A's next delivery resumes the TLS session
/// (rustls then skips the certificate check), and is still refused, because A validates a
/// resumed session's chain again. The revocation reaches A by SIGHUP (a new CRL file).
#[test]
fn a_peer_revoked_since_the_last_session_is_refused_even_when_tls_resumes() {
    let pair = pair("retry = [\"1s\"]\npoll = \"1s\"");
    let b = pair.b.start();
    let mut a = pair.a.start();
    submit_with_dsn(&a, &pair.a, "", "", "avant");
    assert_eq!(wait_for_messages(&pair.b.data_dir(), DUPONT, 1).len(), 1);

    // The CA revokes B's server certificate; A reads the new CRL on SIGHUP.
    let pki = pair.a.data_dir().join("pki");
    let read = |f: &str| std::fs::read_to_string(pki.join(f)).unwrap();
    let ca =
        mssd_certs::TestCa::load(&read("intermediate.pem"), &read("intermediate.key")).unwrap();
    let b_cert = mssd_certs::load_certs(&pair.b.pki("server.pem")).unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(b_cert[0].as_ref()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let crl = ca
        .crl(
            &[parsed.raw_serial()],
            now - time::Duration::minutes(1),
            now + time::Duration::days(7),
        )
        .unwrap();
    std::fs::write(pki.join("crl.pem"), crl.pem).unwrap();
    // SAFETY: kill(2) with a pid we started and a signal number.
    assert_eq!(unsafe { libc::kill(a.pid() as i32, libc::SIGHUP) }, 0);
    a.wait_for_line("mssd: configuration reloaded", Duration::from_secs(10));

    submit_with_dsn(&a, &pair.a, "", "", "apres");
    std::thread::sleep(Duration::from_secs(5));
    let delivered = mssd_e2e::store::messages(&pair.b.data_dir(), DUPONT, "INBOX");
    assert_eq!(delivered.len(), 1, "nothing more reached the revoked peer");
    let queue = pair.a.cli_ok(&["queue", "list"], None).stdout;
    assert!(
        queue.contains(DUPONT),
        "the message waits in A's queue: {queue}"
    );
    drop(a);
    drop(b);
}
