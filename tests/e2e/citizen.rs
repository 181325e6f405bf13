//! End-to-end: citizen mailboxes on the real binary, seen from a professional's submission:
//! registered citizens only, INS-keyed addresses checked, documents delivered only to their
//! patient (ANS codes 903-906 in the reply or the DSN), closed mailboxes, imports.

use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};
use mssd_e2e::submission_world::{A, PASSWORD, World, martin, secretariat, world_with};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const PATIENT: &str = "279035121518989";
const OTHER_PATIENT: &str = "295109912611193";

fn citizen(ins: &str) -> String {
    format!("{ins}@patient.{A}")
}

fn lab_report() -> String {
    let path = format!(
        "{}/../../shared/real-data/cda/DOC_NON_STRUCTURE_CDA-R2-N1.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn send(world: &World, to: &[&str], cda: &str, restrictions: Vec<&str>) -> String {
    let zip = xdm_zip(
        &[XdmDocument {
            cda: cda.as_bytes(),
            restrictions,
            ..Default::default()
        }],
        to,
    );
    let message = message_with_xdm(
        &martin(),
        to[0],
        "XDM/1.0/DDM+CR d'examens biologiques",
        "",
        &zip,
    );
    let mut client = world.logged_in(&martin(), PASSWORD);
    client.send_message(&martin(), to, &message)
}

fn cli(world: &World, args: &[&str]) -> mssd_e2e::process::CliOutput {
    world.op.cli(args, None)
}

#[test]
fn documents_reach_only_their_registered_patient() {
    let world = world_with(
        BIN,
        "[cda]\naccepted_ins_oids = [\"1.2.250.1.213.1.4.10\"]\n",
    );
    let report = lab_report();

    // Registered mode: unknown citizens are refused at RCPT; a bad INS names the check.
    let reply = send(&world, &[&citizen(PATIENT)], &report, vec![]);
    assert_eq!(
        reply,
        "550 5.1.1 No such citizen here: this operator hosts registered citizens only"
    );
    let reply = send(&world, &[&citizen("279035121518988")], &report, vec![]);
    assert!(
        reply.starts_with("550 5.1.3 Bad recipient address: "),
        "{reply}"
    );
    assert!(
        reply.contains("key") && !reply.contains("279035121518988"),
        "{reply}"
    );

    let out = cli(&world, &["citizen", "add", PATIENT]);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("created") && !out.stdout.contains(PATIENT),
        "{}",
        out.stdout
    );
    let out = cli(&world, &["citizen", "add", PATIENT]);
    assert!(out.stdout.contains("unchanged"), "{}", out.stdout);

    // The right patient: delivered and indexed.
    let reply = send(&world, &[&citizen(PATIENT)], &report, vec![]);
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    assert_eq!(world.inbox(&citizen(PATIENT)).len(), 1);
    let out = cli(&world, &["documents", "list", &citizen(PATIENT)]);
    assert!(
        out.stdout
            .starts_with("current 1.3.6.1.4.1.19376.1.2.20.12345.1.1 "),
        "{}",
        out.stdout
    );

    // Another patient's document, no INS, a missing trait, hidden from the patient.
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (
            report.replace(
                &format!("extension=\"{PATIENT}\""),
                &format!("extension=\"{OTHER_PATIENT}\""),
            ),
            vec![],
            "550 5.7.1 904 ",
        ),
        (
            report.replace(
                &format!("<id extension=\"{PATIENT}\" root=\"1.2.250.1.213.1.4.10\"/>"),
                "",
            ),
            vec![],
            "550 5.7.1 903 ",
        ),
        (
            report.replace("<county>51215</county>", ""),
            vec![],
            "550 5.7.1 905 ",
        ),
        (report.clone(), vec!["INVISIBLE_PATIENT"], "550 5.7.1 906 "),
    ];
    for (cda, restrictions, expected) in &cases {
        assert!(
            !restrictions.is_empty() || cda != &report,
            "{expected}: the edit applied"
        );
        let reply = send(&world, &[&citizen(PATIENT)], cda, restrictions.clone());
        assert!(reply.starts_with(expected), "{expected}: {reply}");
        assert!(!reply.contains(PATIENT), "{reply}");
    }
    assert_eq!(
        world.inbox(&citizen(PATIENT)).len(),
        1,
        "nothing more delivered"
    );

    // A mixed message: the professional receives it; the sender gets a DSN with the code.
    let reply = send(
        &world,
        &[&secretariat(), &citizen(PATIENT)],
        &cases[0].0,
        vec![],
    );
    assert!(reply.starts_with("250"), "{reply}");
    assert_eq!(world.inbox(&secretariat()).len(), 1);
    let dsn = world.inbox(&martin());
    assert_eq!(dsn.len(), 1, "{dsn:?}");
    assert!(
        dsn[0].contains("Status: 5.7.1") && dsn[0].contains("904 "),
        "{}",
        dsn[0]
    );
    assert!(world.audit_details("citizen.refused").len() >= 5);

    // Asked for (Disposition-Notification-To = the return path): the refusal is also an MDN
    // in the ANS form, the archive re-attached.
    let zip = xdm_zip(
        &[XdmDocument {
            cda: cases[0].0.as_bytes(),
            ..Default::default()
        }],
        &[],
    );
    let dnt = format!(
        "Disposition-Notification-To: <{}>\r\nMessage-ID: <cr-904@hopital-a>\r\n",
        martin()
    );
    let message = message_with_xdm(&martin(), &citizen(PATIENT), "XDM/1.0/DDM+CR", &dnt, &zip);
    let mut client = world.logged_in(&martin(), PASSWORD);
    let reply = client.send_message(&martin(), &[&citizen(PATIENT)], &message);
    assert!(reply.starts_with("550 5.7.1 904 "), "{reply}");
    let inbox = world.inbox(&martin());
    assert_eq!(inbox.len(), 2, "the DSN, then the MDN");
    let mdn = &inbox[1];
    assert!(
        mdn.contains("report-type=disposition-notification"),
        "{mdn}"
    );
    assert!(mdn.contains("processed/Error: 904^"), "{mdn}");
    assert!(
        mdn.contains("Original-Message-ID: <cr-904@hopital-a>"),
        "{mdn}"
    );
    assert!(mdn.contains("filename=\"IHE_XDM.zip\""), "{mdn}");

    // Closed: content kept, new mail refused.
    let out = cli(&world, &["citizen", "close", PATIENT]);
    assert!(out.status.success(), "{}", out.stderr);
    let reply = send(&world, &[&citizen(PATIENT)], &report, vec![]);
    assert!(reply.starts_with("550 5.2.1"), "{reply}");
    assert_eq!(world.inbox(&citizen(PATIENT)).len(), 1);
    assert_eq!(world.audit_details("citizen.close").len(), 1);

    // Import: all or nothing.
    let file = world.op.data_dir().join("citizens.txt");
    std::fs::write(&file, format!("# test citizens\n{OTHER_PATIENT}\n12345\n")).unwrap();
    let out = cli(&world, &["citizen", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("line 3: ") && out.stderr.contains("nothing imported"),
        "{}",
        out.stderr
    );
    assert!(send(&world, &[&citizen(OTHER_PATIENT)], &report, vec![]).starts_with("550 5.1.1"));
    std::fs::write(
        &file,
        format!("# test citizens\n{OTHER_PATIENT}\n{PATIENT}\n"),
    )
    .unwrap();
    let out = cli(&world, &["citizen", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("1 created, 1 unchanged"),
        "{}",
        out.stdout
    );

    // Indicators split professionals / citizens; no citizen is listed by INS.
    let month = time::OffsetDateTime::now_utc();
    let month = format!("{:04}-{:02}", month.year(), u8::from(month.month()));
    let out = cli(
        &world,
        &["report", "indicators", "--month", &month, "--csv"],
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(!out.stdout.contains(PATIENT), "{}", out.stdout);
    let citizens = out
        .stdout
        .lines()
        .find(|l| l.contains(",kind,citizen,"))
        .unwrap();
    // month,scope,structure,mailbox,sent,received,xdm,documents,qualified,percent
    assert_eq!(citizens.split(',').nth(5), Some("1"), "{citizens}");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains(",kind,professional,")),
        "{}",
        out.stdout
    );
}

/// A test citizen logs in over IMAP with a token of the TEST identity provider and reads
/// the document a professional sent; tokens for another citizen, or tampered, are refused.
#[test]
fn a_test_citizen_reads_its_mail_over_imap_with_a_token() {
    let world = world_with(
        BIN,
        &format!(
            "[citizen]\ndomain = \"patient.{A}\"\n\n[citizen.oidc]\ntest_provider = true\n\n[cda]\naccepted_ins_oids = [\"1.2.250.1.213.1.4.10\"]\n"
        ),
    );
    assert!(cli(&world, &["citizen", "add", PATIENT]).status.success());
    assert!(
        cli(&world, &["citizen", "add", OTHER_PATIENT])
            .status
            .success()
    );
    assert!(send(&world, &[&citizen(PATIENT)], &lab_report(), vec![]).starts_with("250"));
    let token = |ins: &str| {
        let out = cli(&world, &["citizen", "token", ins]);
        assert!(out.status.success(), "{}", out.stderr);
        let token = out.stdout.trim().to_string();
        assert_eq!(out.stdout.lines().count(), 1);
        assert_eq!(token.split('.').count(), 3, "{token}");
        token
    };
    let good = token(PATIENT);
    let other = token(OTHER_PATIENT);
    let tampered = format!("{}x", &good[..good.len() - 1]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let login = |token: String, user: String| {
            let world = &world;
            async move {
                let (mut client, greeting) = mssd_e2e::imap_client::ImapClient::connect_tls(
                    world.server.addr("imaps"),
                    world.tls_config(None),
                    &format!("mail.{A}"),
                )
                .await
                .unwrap();
                assert!(greeting.starts_with("* OK"), "{greeting}");
                let sasl = mssd_e2e::peers::xoauth2(&user, &token);
                let tag = client.next_tag();
                client
                    .send_raw(format!("{tag} AUTHENTICATE XOAUTH2 {sasl}\r\n").as_bytes())
                    .await
                    .unwrap();
                // A refusal comes as a continuation with the error JSON first (RFC 7628).
                let (mut client, ok) = match client.read_reply(&tag).await {
                    Ok(reply) => (client, reply.is_ok()),
                    Err(_) => {
                        client.send_raw(b"\r\n").await.unwrap();
                        let reply = client.read_reply(&tag).await.unwrap();
                        (client, reply.is_ok())
                    }
                };
                let _ = &mut client;
                (client, ok)
            }
        };
        let (mut client, ok) = login(good.clone(), citizen(PATIENT)).await;
        assert!(
            ok,
            "{:?}",
            mssd_e2e::store::audit(&world.op.data_dir())
                .into_iter()
                .filter(|(k, _, _)| k.contains("login") || k.contains("auth"))
                .collect::<Vec<_>>()
        );
        let selected = client.command("SELECT INBOX").await.unwrap();
        assert_eq!(selected.count("EXISTS"), Some(1), "{selected:?}");
        let fetched = client
            .command("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
            .await
            .unwrap();
        assert!(fetched.is_ok(), "{fetched:?}");
        for (token, user) in [
            (other, citizen(PATIENT)),
            (tampered, citizen(PATIENT)),
            (good, citizen(OTHER_PATIENT)),
        ] {
            let (_, ok) = login(token, user).await;
            assert!(!ok);
        }
    });
    let out = world.op.cli(&["citizen", "token", PATIENT], None);
    assert!(out.status.success());
}

/// A minimal HTTP receiver: records each request body, answers 200.
fn receiver(
    listener: std::net::TcpListener,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use std::io::{BufRead, BufReader, Read, Write};
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_ok() {
                bodies
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
            let mut stream = stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
}

/// Each delivery to a citizen queues a notification in the outbox with the message; with
/// the receiver down they wait; once it is up each arrives once, without the INS.
#[test]
fn notifications_survive_a_receiver_down_then_arrive_once() {
    let port = mssd_e2e::free_port();
    let world = world_with(
        BIN,
        &format!(
            "[citizen]\ndomain = \"patient.{A}\"\nnotify_url = \"http://127.0.0.1:{port}/notify\"\nnotify_retry = [\"1s\"]\n"
        ),
    );
    assert!(cli(&world, &["citizen", "add", PATIENT]).status.success());
    for i in 0..3 {
        let mut client = world.logged_in(&martin(), PASSWORD);
        let message = format!(
            "From: <{}>\r\nTo: <{}>\r\nSubject: resultat {i}\r\n\r\nBonjour\r\n",
            martin(),
            citizen(PATIENT)
        );
        assert!(
            client
                .send_message(&martin(), &[&citizen(PATIENT)], message.as_bytes())
                .starts_with("250")
        );
    }
    // The receiver is down: attempts fail and are rescheduled.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    receiver(
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(),
        bodies.clone(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while bodies.lock().unwrap().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    let mut ids: Vec<i64> = bodies
        .iter()
        .map(|b| {
            assert!(!b.contains(PATIENT), "{b}");
            let v: serde_json::Value = serde_json::from_str(b).unwrap();
            assert_eq!(v["new_messages"], 1);
            assert!(v["mailbox_id"].is_i64());
            v["id"].as_i64().unwrap()
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}
