//! End-to-end: the MTA listener of the real `mssd` against peers presenting real
//! certificates — a listed operator delivers; every refusal of trust has its reply code and
//! its audit line.

use std::path::Path;
use std::sync::Arc;

use mssd_e2e::peers::{PeerCa, whitelist_xml};
use mssd_e2e::{Mssd, Operator, SmtpClient, tls_client_config};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const A: &str = "hopital-a.test.mssante.fr";
const B: &str = "clinique-b.test.mssante.fr";
const OTHER: &str = "autre.test.mssante.fr";
const PEER_CN: &str = "mail.clinique-b.test.mssante.fr";

struct World {
    a: Operator,
    server: Mssd,
    peer_config: Arc<rustls::ClientConfig>,
    dir: tempfile::TempDir,
}

fn client_config(a: &Operator, chain: Option<(&Path, &Path)>) -> Arc<rustls::ClientConfig> {
    tls_client_config(&a.pki("root.pem"), chain)
}

/// Operator A, trusting a peer CA held by the test, with a liste blanche listing A, the peer's
/// MTA DN for B, and another DN for OTHER.
fn world(extra_sections: &str) -> (World, PeerCa) {
    let a = Operator::new(BIN, A);
    let peer = PeerCa::new();
    let dir = tempfile::tempdir().unwrap();
    let valid = peer.valid_mta(PEER_CN);
    let (valid_chain, valid_key) = peer.write(dir.path(), "valid", &valid);
    let other_dn = "CN=mail.autre.test.mssante.fr,OU=1990000002,O=AUTRE,ST=Paris (75),C=FR";
    let valid_dn = mssd_certs::CertInfo::parse(&valid.cert_der)
        .unwrap()
        .subject
        .to_string();
    let xml = whitelist_xml(
        &[
            (A, &a.server_dn()),
            (B, &valid_dn),
            (OTHER, other_dn),
            // The peer is also the citizens' operator (Mon espace santé's role).
            ("patient.mssante.fr", &valid_dn),
        ],
        "2026-11-01T00:00:00Z",
    );
    std::fs::write(a.data_dir().join("liste-blanche.xml"), xml).unwrap();
    let (root, crl) = peer.write_root_and_crl(dir.path(), &[]);
    configure_a(&a, &root, &crl, extra_sections);
    add_mailboxes(&a);
    let server = a.start();
    let peer_config = client_config(&a, Some((&valid_chain, &valid_key)));
    (
        World {
            a,
            server,
            peer_config,
            dir,
        },
        peer,
    )
}

fn configure_a(a: &Operator, peer_root: &Path, peer_crl: &Path, extra: &str) {
    a.configure(
        &format!(
            "trust_anchors = [\"pki/root.pem\", \"{}\"]\ncrls = [\"pki/crl.pem\", \"{}\"]",
            peer_root.display(),
            peer_crl.display()
        ),
        &format!("[trust_list]\nsource = \"liste-blanche.xml\"\n\n[smtp]\nmax_message_size = \"256K\"\n\n{extra}"),
    );
}

fn add_mailboxes(a: &Operator) {
    let add = |args: &[&str], stdin: Option<&str>| {
        let out = a.cli(args, stdin);
        assert!(out.status.success(), "{args:?}: {}", out.stderr);
    };
    add(
        &[
            "mailbox",
            "add",
            &format!("dr.martin@{A}"),
            "--kind",
            "PER",
            "--owner",
            "810001045367",
            "--password-stdin",
        ],
        Some("correct horse battery staple\n"),
    );
    add(
        &["mailbox", "add", &format!("ferme@{A}"), "--kind", "ORG"],
        None,
    );
    add(&["mailbox", "suspend", &format!("ferme@{A}")], None);
}

fn peer_session(world: &World, config: Arc<rustls::ClientConfig>) -> SmtpClient {
    let (client, greeting) = SmtpClient::connect(world.server.addr("smtp"));
    assert!(greeting.starts_with("220 "), "{greeting}");
    let (client, ehlo) = client
        .starttls(&format!("mail.{A}"), config)
        .expect("STARTTLS");
    assert!(ehlo.starts_with("250"), "{ehlo}");
    client
}

const MESSAGE: &str = "From: Secretariat <secretariat@clinique-b.test.mssante.fr>\r\nTo: <dr.martin@hopital-a.test.mssante.fr>\r\nSubject: Compte rendu\r\nMessage-ID: <cr-1@clinique-b.test.mssante.fr>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\nX-MSS-CODECDA: 11502-2\r\nX-MSS-INS: O\r\nX-MSS-NIL: TESTNIL\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\n.une ligne qui commence par un point\r\n\r\nCordialement\r\n";

#[test]
fn listed_peer_delivers_and_the_message_is_byte_identical_after_our_trace() {
    let (world, _peer) = world("");
    let mut client = peer_session(&world, world.peer_config.clone());
    let reply = client.send_message(
        &format!("secretariat@{B}"),
        &[&format!("dr.martin@{A}")],
        MESSAGE.as_bytes(),
    );
    assert!(reply.starts_with("250 2.0.0 "), "{reply}");
    assert!(client.command("QUIT").starts_with("221"));

    let stored = mssd_e2e::store::messages(&world.a.data_dir(), &format!("dr.martin@{A}"), "INBOX");
    assert_eq!(stored.len(), 1);
    let text = String::from_utf8(stored[0].clone()).unwrap();
    assert!(text.starts_with("Received: from client.test ([127.0.0.1])\r\n\tby mail.hopital-a.test.mssante.fr with ESMTPS"), "{text}");
    assert!(
        text.contains(&format!(
            "peer=\"CN={PEER_CN},OU=1990000002,O=CLINIQUE PEER,ST=Paris (75),C=FR\""
        )),
        "{text}"
    );
    let after_trace = &text[text.find("From: ").unwrap()..];
    assert_eq!(
        after_trace, MESSAGE,
        "the message must be stored byte for byte after our Received field"
    );

    let audit = mssd_e2e::store::audit(&world.a.data_dir());
    let accepted = audit
        .iter()
        .find(|(k, o, _)| k == "smtp.message" && o == "accepted")
        .expect("audit line");
    assert_eq!(
        accepted.2["message_id"],
        "<cr-1@clinique-b.test.mssante.fr>"
    );
    assert_eq!(accepted.2["sender"], format!("secretariat@{B}"));
    assert!(
        accepted.2["peer_dn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("CN={PEER_CN}"))
    );
    assert!(accepted.2["tls"].as_str().unwrap().starts_with("TLSv1_3"));
    assert!(
        accepted.2["reply"]
            .as_str()
            .unwrap()
            .starts_with("250 2.0.0")
    );
    // A bounce (null reverse-path) from a peer listed for any domain is accepted.
    let mut client = peer_session(&world, world.peer_config.clone());
    let bounce = format!("From: MAILER-DAEMON@{B}\r\nSubject: undeliverable\r\n\r\nbounce\r\n");
    let reply = client.send_message("", &[&format!("dr.martin@{A}")], bounce.as_bytes());
    assert!(reply.starts_with("250 2.0.0 "), "{reply}");
}

/// (what is tried, expected reply start) for each refusal, then one audit line each.
#[test]
fn refusals_of_trust_each_have_their_reply_and_audit_line() {
    let (world, peer) = world("");
    let now = time::OffsetDateTime::now_utc();
    let dir = world.dir.path();

    // A rogue CA issuing a certificate with the very same subject DN.
    let rogue = PeerCa::new();
    let impostor = rogue.valid_mta(PEER_CN);
    let (impostor_chain, impostor_key) = rogue.write(dir, "impostor", &impostor);
    // Expired, and revoked, certificates of the trusted peer CA with the listed DN.
    let expired = peer.mta(
        PEER_CN,
        now - time::Duration::days(400),
        now - time::Duration::days(30),
    );
    let (expired_chain, expired_key) = peer.write(dir, "expired", &expired);
    let revoked = peer.valid_mta(PEER_CN);
    let (revoked_chain, revoked_key) = peer.write(dir, "revoked", &revoked);
    // The server reads its CRLs at start: publish the revocation and restart.
    drop(world.server);
    let (root, crl) = peer.write_root_and_crl(dir, &[&revoked]);
    configure_a(&world.a, &root, &crl, "");
    let world = World {
        server: world.a.start(),
        ..world
    };

    type Case<'a> = (&'a str, Option<(&'a Path, &'a Path)>, String, &'a str);
    let cases: Vec<Case> = vec![
        (
            "no client certificate",
            None,
            format!("secretariat@{B}"),
            "550 5.7.1 No client certificate",
        ),
        (
            "other CA, same DN",
            Some((&impostor_chain, &impostor_key)),
            format!("secretariat@{B}"),
            "550 5.7.1 Client certificate refused",
        ),
        (
            "expired",
            Some((&expired_chain, &expired_key)),
            format!("secretariat@{B}"),
            "550 5.7.1 Client certificate refused",
        ),
        (
            "revoked",
            Some((&revoked_chain, &revoked_key)),
            format!("secretariat@{B}"),
            "550 5.7.1 Client certificate refused",
        ),
    ];
    for (what, chain, sender, expected) in &cases {
        let mut client = peer_session(&world, client_config(&world.a, *chain));
        let reply = client.command(&format!("MAIL FROM:<{sender}>"));
        assert!(reply.starts_with(expected), "{what}: {reply}");
    }
    // A valid, listed certificate, but not for the sender's domain.
    let mut client = peer_session(&world, world.peer_config.clone());
    let reply = client.command(&format!("MAIL FROM:<someone@{OTHER}>"));
    assert!(
        reply.starts_with("550 5.7.1 Certificate subject CN=mail.clinique-b")
            && reply.contains(&format!("not listed for {OTHER}")),
        "{reply}"
    );
    // Recipients: not our domain, unknown, suspended.
    assert!(
        client
            .command(&format!("MAIL FROM:<secretariat@{B}>"))
            .starts_with("250")
    );
    let rcpt = |c: &mut SmtpClient, to: &str| c.command(&format!("RCPT TO:<{to}>"));
    assert!(rcpt(&mut client, &format!("x@{OTHER}")).starts_with("550 5.7.1 Relaying denied"));
    assert!(rcpt(&mut client, &format!("nobody@{A}")).starts_with("550 5.1.1 "));
    assert!(rcpt(&mut client, &format!("ferme@{A}")).starts_with("550 5.2.1 "));
    assert!(rcpt(&mut client, &format!("dr.martin@{A}")).starts_with("250 2.1.5"));
    // Oversize (limit 256K): refused at the final dot, nothing stored, session usable.
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(998).repeat(300));
    assert!(client.command("DATA").starts_with("354"));
    client.send_raw(format!("{big}.\r\n").as_bytes());
    assert!(client.reply().starts_with("552 5.3.4 "));
    // A 10 MB command line: refused, the session goes on.
    client.send_raw(&vec![b'A'; 10 * 1024 * 1024]);
    client.send_raw(b"\r\n");
    assert!(client.reply().starts_with("500 5.5.2 Line too long"));
    assert!(client.command("NOOP").starts_with("250"));
    assert!(client.command("QUIT").starts_with("221"));
    assert!(
        mssd_e2e::store::messages(&world.a.data_dir(), &format!("dr.martin@{A}"), "INBOX")
            .is_empty()
    );

    let refused: Vec<String> = mssd_e2e::store::audit(&world.a.data_dir())
        .into_iter()
        .filter(|(k, o, _)| k == "smtp.refused" && o == "refused")
        .map(|(_, _, d)| d["reply"].as_str().unwrap_or_default().to_string())
        .collect();
    for expected in [
        "550 5.7.1 No client certificate",
        "550 5.7.1 Client certificate refused",
        "550 5.7.1 Certificate subject",
        "550 5.7.1 Relaying denied",
        "550 5.1.1",
        "550 5.2.1",
        "552 5.3.4",
        "500 5.5.2 Line too long",
    ] {
        assert!(
            refused.iter().any(|r| r.starts_with(expected)),
            "no audit line for {expected}: {refused:#?}"
        );
    }
    let certificate_refusals = refused
        .iter()
        .filter(|r| r.starts_with("550 5.7.1 Client certificate refused"))
        .count();
    assert_eq!(
        certificate_refusals, 3,
        "other CA, expired, revoked: {refused:#?}"
    );
    let reasons = refused.join("\n");
    assert!(
        reasons.contains("expired") || reasons.contains("Expired"),
        "{reasons}"
    );
    assert!(reasons.to_lowercase().contains("revoked"), "{reasons}");
    // A refused certificate's subject is what the peer claims, never a verified peer_dn.
    let refused_certificates: Vec<serde_json::Value> = mssd_e2e::store::audit(&world.a.data_dir())
        .into_iter()
        .filter(|(k, _, d)| {
            k == "smtp.refused"
                && d["reply"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("550 5.7.1 Client certificate refused"))
        })
        .map(|(_, _, d)| d)
        .collect();
    for detail in &refused_certificates {
        assert!(detail["peer_dn"].is_null(), "{detail}");
        assert!(
            detail["claimed_dn"]
                .as_str()
                .is_some_and(|dn| dn.contains(PEER_CN)),
            "{detail}"
        );
    }
}

#[test]
fn python_smtplib_relays_over_starttls_with_a_client_certificate() {
    let (world, peer) = world("");
    let valid = peer.valid_mta(PEER_CN);
    let (chain, key) = peer.write(world.dir.path(), "python", &valid);
    let script = format!(
        r#"
import smtplib, ssl
ctx = ssl.create_default_context(cafile="{root}")
ctx.load_cert_chain("{chain}", "{key}")
ctx.check_hostname = False
with smtplib.SMTP("127.0.0.1", {port}, local_hostname="mail.clinique-b.test.mssante.fr", timeout=30) as s:
    s.ehlo()
    s.starttls(context=ctx)
    s.ehlo()
    refused = s.sendmail("secretariat@{b}", ["dr.martin@{a}"], b"Subject: smtplib\r\nX-MSS-INS: N\r\n\r\nfrom python\r\n")
    assert refused == {{}}, refused
print("sent")
"#,
        root = world.a.pki("root.pem").display(),
        chain = chain.display(),
        key = key.display(),
        port = world.server.addr("smtp").port(),
        a = A,
        b = B,
    );
    mssd_e2e::python::run_python(&script, &[]);
    let stored = mssd_e2e::store::messages(&world.a.data_dir(), &format!("dr.martin@{A}"), "INBOX");
    assert_eq!(stored.len(), 1);
    let text = String::from_utf8_lossy(&stored[0]);
    assert!(
        text.contains("Subject: smtplib\r\nX-MSS-INS: N\r\n\r\nfrom python\r\n"),
        "{text}"
    );
}

/// Health documents from another operator: indexed and routed like submitted ones, the
/// sender's headers checked but never rewritten (we recompute, we do not relabel).
#[test]
fn documents_from_another_operator_are_indexed_routed_and_never_relabelled() {
    let pfi = format!("pfi@{A}");
    let martin = format!("dr.martin@{A}");
    let (world, _peer) = world(&format!(
        "[cda]\naccepted_ins_oids = [\"1.2.250.1.213.1.4.10\"]\n\n[[cda.routes]]\nmailboxes = \"{martin}\"\naction = \"copy\"\nto = \"{pfi}\"\n"
    ));
    let out = world
        .a
        .cli(&["mailbox", "add", &pfi, "--kind", "ORG"], None);
    assert!(out.status.success(), "{}", out.stderr);
    let path = format!(
        "{}/../../shared/real-data/cda/LDL-SES_2022.01.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let cda = std::fs::read(&path).unwrap();
    let zip = mssd_cda::builder::xdm_zip(
        &[mssd_cda::builder::XdmDocument {
            cda: &cda,
            ..Default::default()
        }],
        &[&martin],
    );
    let send = |extra: &str| {
        let message = mssd_cda::builder::message_with_xdm(
            &format!("secretariat@{B}"),
            &martin,
            "XDM/1.0/DDM+Lettre de liaison",
            extra,
            &zip,
        );
        let mut client = peer_session(&world, world.peer_config.clone());
        client.send_message(&format!("secretariat@{B}"), &[&martin], &message)
    };
    let reply = send("");
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    let stored = mssd_e2e::store::messages(&world.a.data_dir(), &martin, "INBOX");
    let text = String::from_utf8_lossy(&stored[0]);
    assert!(
        !text.contains("X-MSS-CODECDA"),
        "inbound mail is not relabelled"
    );
    assert_eq!(
        mssd_e2e::store::messages(&world.a.data_dir(), &pfi, "INBOX").len(),
        1
    );
    let out = world.a.cli(&["documents", "list", &martin], None);
    assert!(
        out.stdout.starts_with(
            "current 1.2.250.1.213.1.1.1.29.2022.1.1 1.2.250.1.213.1.1.1.29.2022.1 v1 11490-0 "
        ),
        "{}",
        out.stdout
    );
    // A claim that contradicts the documents: accepted (warn), audited.
    let reply = send("X-MSS-CODECDA: 11490-0\r\nX-MSS-INS: N\r\n");
    assert!(reply.starts_with("250"), "{reply}");
    let audit = mssd_e2e::store::audit(&world.a.data_dir());
    let mismatch: Vec<_> = audit
        .iter()
        .filter(|(k, _, _)| k == "cda.header_mismatch")
        .collect();
    assert_eq!(mismatch.len(), 1);
    assert_eq!(mismatch[0].2["headers"], serde_json::json!(["X-MSS-INS"]));
    assert_eq!(mismatch[0].2["documents"]["X-MSS-INS"], "O");
}

/// Citizens writing from the citizens' operator (the peer): first contacts only to allowed
/// mailboxes, never to another citizen, never in reply to `X-MSS-MES: FIN`; and a
/// professional's first message creates a citizen mailbox under `provisioning = "auto"`.
#[test]
fn citizens_write_only_where_the_rules_allow() {
    let national = "patient.mssante.fr";
    let citizen = format!("279035121518989@{national}");
    let ours = format!("295109912611193@patient.{A}");
    let martin = format!("dr.martin@{A}");
    let pharmacy = format!("pharmacie@{A}");
    let closed_port = mssd_e2e::free_port();
    let (world, _peer) = world(&format!(
        "[citizen]\ndomain = \"patient.{A}\"\nprovisioning = \"auto\"\nfirst_contact_allowed = [\"{pharmacy}\"]\n\n[relay]\nroutes = {{ \"{national}\" = \"127.0.0.1:{closed_port}\" }}\n"
    ));
    let out = world
        .a
        .cli(&["mailbox", "add", &pharmacy, "--kind", "ORG"], None);
    assert!(out.status.success(), "{}", out.stderr);
    let from_peer = |from: &str, to: &str, headers: &str| {
        let mut client = peer_session(&world, world.peer_config.clone());
        let message = format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: question\r\n{headers}\r\nBonjour\r\n"
        );
        client.send_message(from, &[to], message.as_bytes())
    };
    let from_martin = |to: &str, headers: &str| {
        let (client, _) = SmtpClient::connect(world.server.addr("submission"));
        let (mut client, _) = client
            .starttls(&format!("mail.{A}"), client_config(&world.a, None))
            .unwrap();
        let auth = client.command(&format!(
            "AUTH PLAIN {}",
            mssd_e2e::peers::plain(&martin, "correct horse battery staple")
        ));
        assert!(auth.starts_with("235"), "{auth}");
        let message = format!(
            "From: <{martin}>\r\nTo: <{to}>\r\nSubject: resultats\r\n{headers}\r\nBonjour\r\n"
        );
        client.send_message(&martin, &[to], message.as_bytes())
    };

    // A citizen may not write first to a professional, but may to an allowed mailbox.
    let reply = from_peer(&citizen, &martin, "");
    assert!(
        reply.starts_with("550 5.7.1 A citizen may not write first")
            && reply.contains("first-contact"),
        "{reply}"
    );
    assert!(
        from_peer(&citizen, &pharmacy, "").starts_with("250"),
        "allowed first contact"
    );
    // Never to another citizen (ours is created by nobody: refused before provisioning).
    let reply = from_peer(&citizen, &ours, "");
    assert!(
        reply.starts_with("550 5.7.1 A citizen may not write to another citizen"),
        "{reply}"
    );

    // dr.martin writes with X-MSS-MES: FIN: no reply possible.
    let reply = from_martin(
        &citizen,
        "Message-ID: <fin-1@hopital-a>\r\nX-MSS-MES: FIN\r\n",
    );
    assert!(reply.starts_with("250"), "{reply}");
    let reply = from_peer(&citizen, &martin, "In-Reply-To: <fin-1@hopital-a>\r\n");
    assert!(
        reply.starts_with("550 5.7.1 This message answers a message that does not expect a reply"),
        "{reply}"
    );
    let reply = from_peer(&citizen, &martin, "");
    assert!(
        reply.starts_with("550 5.7.1 This professional's messages do not expect a reply"),
        "{reply}"
    );
    // Then an open message: the citizen may answer it, but still not the closed one.
    assert!(from_martin(&citizen, "Message-ID: <open-1@hopital-a>\r\n").starts_with("250"));
    assert!(from_peer(&citizen, &martin, "In-Reply-To: <open-1@hopital-a>\r\n").starts_with("250"));
    assert!(
        from_peer(
            &citizen,
            &martin,
            "References: <open-1@hopital-a> <fin-1@hopital-a>\r\n"
        )
        .starts_with("550 5.7.1")
    );
    assert_eq!(
        mssd_e2e::store::messages(&world.a.data_dir(), &martin, "INBOX").len(),
        1
    );

    // Auto provisioning: a professional's first message creates the citizen's mailbox.
    let reply = from_peer(&format!("secretariat@{B}"), &ours, "");
    assert!(reply.starts_with("250"), "{reply}");
    assert_eq!(
        mssd_e2e::store::messages(&world.a.data_dir(), &ours, "INBOX").len(),
        1
    );
    let audit = mssd_e2e::store::audit(&world.a.data_dir());
    assert_eq!(
        audit
            .iter()
            .filter(|(k, _, _)| k == "citizen.provisioned")
            .count(),
        1
    );
    assert!(audit.iter().filter(|(k, _, _)| k == "citizen.rule").count() >= 4);
}
