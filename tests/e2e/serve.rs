//! End-to-end: the real `mssd` binary, its listeners, its CLI and its shutdown.

use std::time::Duration;

use mssd_e2e::{LineClient, Operator, connect, http_get, tls_client_config, tls_connect};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const DOMAIN: &str = "hopital-e2e.test.mssante.fr";

fn counter(metrics: &str, sample: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(sample)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no sample {sample} in metrics:\n{metrics}"))
}

#[test]
fn listeners_cli_and_sigterm() {
    let op = Operator::new(BIN, DOMAIN);
    let server = op.start();
    for name in ["smtp", "submission", "submissions", "imap", "imaps", "http"] {
        assert!(
            server.listeners.contains_key(name),
            "{name} missing: {:?}",
            server.stdout
        );
    }

    // HTTP health and metrics.
    let (status, body) = http_get(server.addr("http"), "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _) = http_get(server.addr("http"), "/nope");
    assert_eq!(status, 404);

    // SMTP for operators: ESMTP with STARTTLS; nothing before TLS.
    let mut smtp = LineClient::new(connect(server.addr("smtp")));
    let greeting = smtp.read_line();
    assert_eq!(greeting, format!("220 mail.{DOMAIN} ESMTP mssd"));
    smtp.send("EHLO client.example");
    let mut ehlo = Vec::new();
    loop {
        let line = smtp.read_line();
        ehlo.push(line.clone());
        if !line.starts_with("250-") {
            break;
        }
    }
    assert!(ehlo.iter().any(|l| l.ends_with("STARTTLS")), "{ehlo:?}");
    assert!(!ehlo.iter().any(|l| l.contains("AUTH")), "{ehlo:?}");
    assert!(
        smtp.command("MAIL FROM:<a@clinique.test.mssante.fr>")
            .starts_with("530 5.7.0 ")
    );
    assert!(smtp.command("QUIT").starts_with("221 2.0.0"));

    // IMAP: in clear text, only STARTTLS leads to authentication.
    let mut imap = LineClient::new(connect(server.addr("imap")));
    let greeting = imap.read_line();
    assert!(greeting.starts_with("* OK [CAPABILITY "), "{greeting}");
    assert!(
        greeting.contains(" STARTTLS") && greeting.contains(" LOGINDISABLED"),
        "{greeting}"
    );
    assert!(!greeting.contains("AUTH="), "{greeting}");

    // Implicit TLS ports complete a real handshake with a client that trusts only our test root.
    let tls = tls_client_config(&op.pki("root.pem"), None);
    let stream = tls_connect(
        server.addr("submissions"),
        &format!("mail.{DOMAIN}"),
        tls.clone(),
    )
    .expect("submissions TLS");
    let version = stream.conn.protocol_version().expect("version");
    assert!(matches!(
        version,
        rustls::ProtocolVersion::TLSv1_3 | rustls::ProtocolVersion::TLSv1_2
    ));
    let mut submissions = LineClient::new(stream);
    assert_eq!(
        submissions.read_line(),
        format!("220 mail.{DOMAIN} ESMTP mssd")
    );
    let stream =
        tls_connect(server.addr("imaps"), &format!("mail.{DOMAIN}"), tls).expect("imaps TLS");
    let greeting = LineClient::new(stream).read_line();
    assert!(greeting.contains("AUTH=PLAIN"), "{greeting}");
    assert!(!greeting.contains("STARTTLS"), "{greeting}");

    let (_, metrics) = http_get(server.addr("http"), "/metrics");
    assert!(
        counter(
            &metrics,
            "mssd_connections_accepted_total{listener=\"smtp\"}"
        ) >= 1.0
    );
    assert!(
        counter(
            &metrics,
            "mssd_connections_accepted_total{listener=\"imaps\"}"
        ) >= 1.0
    );
    assert_eq!(counter(&metrics, "mssd_store_healthy"), 1.0);

    // Mailboxes through the CLI while the server runs (SQLite WAL: a second process writes).
    let address = format!("Dr.Martin@{DOMAIN}");
    let out = op.cli(
        &[
            "mailbox",
            "add",
            &address,
            "--kind",
            "PER",
            "--owner",
            "810001045367",
            "--name",
            "Dr Martin",
            "--password-stdin",
        ],
        Some("correct horse battery staple\n"),
    );
    assert!(out.status.success(), "add: {}{}", out.stdout, out.stderr);
    let out = op.cli(
        &[
            "mailbox",
            "add",
            &format!("secretariat@{DOMAIN}"),
            "--kind",
            "ORG",
        ],
        None,
    );
    assert!(out.status.success(), "add ORG: {}", out.stderr);
    let out = op.cli(
        &[
            "mailbox",
            "add",
            &address,
            "--kind",
            "PER",
            "--owner",
            "810001045367",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "duplicate must fail");
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);

    let out = op.cli(&["mailbox", "list", "--json"], None);
    assert!(out.status.success(), "{}", out.stderr);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let martin = rows.iter().find(|r| r["kind"] == "PER").unwrap();
    assert_eq!(martin["address"], format!("Dr.Martin@{DOMAIN}"));
    assert_eq!(martin["owner"], "810001045367");
    assert_eq!(martin["status"], "active");
    assert_eq!(martin["password"], true);

    assert!(
        op.cli(&["mailbox", "suspend", &address], None)
            .status
            .success()
    );
    let out = op.cli(&["mailbox", "list"], None);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(&address) && l.contains("suspended")),
        "{}",
        out.stdout
    );

    let out = op.cli(&["mailbox", "remove", &address], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(
        op.cli(&["mailbox", "remove", &address, "--yes"], None)
            .status
            .success()
    );
    let out = op.cli(&["mailbox", "list", "--json"], None);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // SIGTERM: graceful stop, exit status 0.
    let (status, stdout) = server.terminate(Duration::from_secs(20));
    assert!(status.success(), "exit status {status:?}");
    assert!(
        stdout.iter().any(|l| l == "mssd: stopped (SIGTERM)"),
        "{stdout:?}"
    );

    // The audit trail recorded the lifecycle, in order.
    let kinds = audit_kinds(&op);
    let expected = [
        "server.start",
        "mailbox.create",
        "mailbox.create",
        "mailbox.suspend",
        "mailbox.remove",
        "server.stop",
    ];
    let mut it = kinds.iter();
    for kind in expected {
        assert!(
            it.any(|k| k == kind),
            "audit trail {kinds:?} lacks {kind} in order"
        );
    }

    // doctor on the stopped server's data: healthy.
    let out = op.cli(&["doctor"], None);
    assert!(
        out.status.success(),
        "doctor:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.contains("  ok    store: "), "{}", out.stdout);
    assert!(out.stdout.trim_end().ends_with("healthy"), "{}", out.stdout);
}

fn audit_kinds(op: &Operator) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use mssd_store::Store;
        let store =
            mssd_store::SqliteStore::open(&op.data_dir().join("mssd.sqlite3"), Default::default())
                .unwrap();
        store
            .audit_log(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.event.kind)
            .collect()
    })
}

#[test]
fn client_certificate_from_another_ca_is_refused_and_audited() {
    let op = Operator::new(BIN, DOMAIN);
    let other = Operator::new(BIN, "clinique-autre.test.mssante.fr");
    let server = op.start();
    // The other operator's app certificate chains to a root we do not trust: the session
    // validates it itself, refuses it for EXTERNAL and audits the refusal.
    let config = tls_client_config(
        &op.pki("root.pem"),
        Some((&other.pki("app.pem"), &other.pki("app.key"))),
    );
    let stream = tls_connect(server.addr("imaps"), &format!("mail.{DOMAIN}"), config)
        .expect("TLS completes; the certificate is judged by the session");
    let greeting = LineClient::new(stream).read_line();
    assert!(greeting.starts_with("* OK [CAPABILITY "), "{greeting}");
    assert!(!greeting.contains("AUTH=EXTERNAL"), "{greeting}");

    // Our own app certificate is accepted on the same port and offers EXTERNAL.
    let config = tls_client_config(
        &op.pki("root.pem"),
        Some((&op.pki("app.pem"), &op.pki("app.key"))),
    );
    let stream =
        tls_connect(server.addr("imaps"), &format!("mail.{DOMAIN}"), config).expect("own app cert");
    let greeting = LineClient::new(stream).read_line();
    assert!(greeting.contains("AUTH=EXTERNAL"), "{greeting}");

    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());
    let kinds = audit_kinds(&op);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "imap.certificate.refused")
            .count(),
        1,
        "{kinds:?}"
    );
    let refused: Vec<serde_json::Value> = mssd_e2e::store::audit(&op.data_dir())
        .into_iter()
        .filter(|(k, _, _)| k == "imap.certificate.refused")
        .map(|(_, _, d)| d)
        .collect();
    // The subject of the other operator's app certificate, marked as claimed only.
    let claimed = refused[0]["claimed_dn"].as_str().unwrap_or_default();
    assert!(claimed.starts_with("CN="), "{}", refused[0]);
    assert!(refused[0]["peer_dn"].is_null(), "{}", refused[0]);
}

#[test]
fn configuration_errors_name_the_key_and_line() {
    let op = Operator::new(BIN, DOMAIN);
    let bad = op.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[server]\ndomains = [\"a.test.fr\"]\n\n[tls]\ncertficate = \"x.pem\"\n",
    )
    .unwrap();
    let out = mssd_e2e::run_cli(&op.bin, &["serve", "--config", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr.contains("unknown field `certficate`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("line 5"), "{}", out.stderr);

    let out = op.cli(
        &["mailbox", "add", "someone@elsewhere.fr", "--kind", "ORG"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stderr.contains("not one of our domains"),
        "{}",
        out.stderr
    );
    let out = op.cli(
        &["mailbox", "add", &format!("x@{DOMAIN}"), "--kind", "PER"],
        None,
    );
    assert!(out.stderr.contains("--owner"), "{}", out.stderr);
    let out = op.cli(
        &[
            "mailbox",
            "add",
            &format!("295109912611193@patient.{DOMAIN}"),
            "--kind",
            "CITIZEN",
        ],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    let out = op.cli(
        &[
            "mailbox",
            "add",
            &format!("295109912611194@patient.{DOMAIN}"),
            "--kind",
            "CITIZEN",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stderr.to_lowercase().contains("ins"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("295109912611194"),
        "INS in clear in an error: {}",
        out.stderr
    );
}

#[test]
fn doctor_fails_on_a_missing_store_and_a_foreign_anchor() {
    let op = Operator::new(BIN, DOMAIN);
    let out = op.cli(&["doctor"], None);
    assert_eq!(out.status.code(), Some(1), "{}", out.stdout);
    assert!(
        out.stdout.contains("FAIL  store: no database"),
        "{}",
        out.stdout
    );

    let other = Operator::new(BIN, "ailleurs.test.mssante.fr");
    let config = std::fs::read_to_string(op.config_path()).unwrap().replace(
        "[tls]\n",
        &format!(
            "[tls]\ntrust_anchors = [\"{}\"]\n",
            other.pki("root.pem").display()
        ),
    );
    std::fs::write(op.config_path(), config).unwrap();
    let out = op.cli(&["doctor"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.contains("FAIL  pki: our certificate"),
        "{}",
        out.stdout
    );
}

/// The README's first command: `mssd serve` with no configuration, in a fresh folder, on the
/// design's fixed loopback ports. Only this test uses those ports.
#[test]
fn embedded_default_first_start() {
    let cwd = tempfile::tempdir().unwrap();
    let server = mssd_e2e::Mssd::start(BIN.as_ref(), &["serve"], cwd.path());
    let text = server.stdout.join("\n");
    assert!(text.contains("created a TEST PKI"), "{text}");
    assert!(
        text.contains("created demo mailbox demo@hopital.test.mssante.fr"),
        "{text}"
    );
    assert_eq!(server.addr("http").to_string(), "127.0.0.1:8080");
    assert_eq!(server.addr("smtp").to_string(), "127.0.0.1:2525");
    assert_eq!(server.addr("imaps").to_string(), "127.0.0.1:9930");
    let (status, _) = http_get(server.addr("http"), "/healthz");
    assert_eq!(status, 200);
    let secret = std::fs::read_to_string(cwd.path().join("mssd-data/demo-password.txt")).unwrap();
    assert!(
        secret.starts_with("demo@hopital.test.mssante.fr "),
        "{secret}"
    );
    // The test citizen, its TEST token, the integration platform's mailbox and the sample
    // document, indexed.
    assert!(
        text.contains("created the test citizen mailbox 279035121518989@patient.test.mssante.fr"),
        "{text}"
    );
    let token = std::process::Command::new(BIN)
        .args(["citizen", "token", "279035121518989"])
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&token.stdout)
            .trim()
            .split('.')
            .count(),
        3
    );
    assert!(
        text.contains("created demo mailbox pfi@hopital.test.mssante.fr (APP)"),
        "{text}"
    );
    let documents = std::process::Command::new(BIN)
        .args(["documents", "list", "pfi@hopital.test.mssante.fr"])
        .current_dir(cwd.path())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&documents.stdout);
    assert!(
        listed.starts_with("current 1.2.250.1.213.1.1.9.999.1 1.2.250.1.213.1.1.9.999 v1 11502-2 "),
        "{listed}\n{}",
        String::from_utf8_lossy(&documents.stderr)
    );
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());

    // `mssd doctor` without --config checks the embedded default's data, relative to the cwd.
    let out = std::process::Command::new(BIN)
        .arg("doctor")
        .current_dir(cwd.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "doctor:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ok    pki: server certificate CN=mail.hopital.test.mssante.fr"),
        "{stdout}"
    );

    // A second start reuses what the first created.
    let server = mssd_e2e::Mssd::start(BIN.as_ref(), &["serve"], cwd.path());
    assert!(
        !server.stdout.join("\n").contains("created"),
        "{:?}",
        server.stdout
    );
    let (status, _) = server.terminate(Duration::from_secs(20));
    assert!(status.success());
}
