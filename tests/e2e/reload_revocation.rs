//! End-to-end: a running `mssd` renews its certificate on SIGHUP without dropping an open
//! IMAP session, keeps its configuration when the new one is broken, and keeps revocation
//! fresh from CRLs served over HTTP by the test (a newly revoked peer refused after the next
//! download, the CRL server down keeps the last good CRL, a stale CRL refused once
//! `stale_crl = "refuse"` is reloaded).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mssd_certs::{LeafSpec, TestCa};
use mssd_e2e::peers::{PeerCa, whitelist_xml};
use mssd_e2e::submission_world::{A, PASSWORD, martin, world};
use mssd_e2e::{LineClient, Mssd, Operator, SmtpClient, http_get, tls_client_config, tls_connect};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const B: &str = "clinique-b.test.mssante.fr";
const PEER_CN: &str = "mail.clinique-b.test.mssante.fr";

fn sighup(server: &Mssd) {
    // SAFETY: kill(2) with a pid we started and a signal number; no memory is involved.
    let rc = unsafe { libc::kill(server.pid() as i32, libc::SIGHUP) };
    assert_eq!(rc, 0, "kill -HUP");
}

/// The serial number of the certificate the server presents on a new connection.
fn presented_serial(op: &Operator, server: &Mssd) -> Vec<u8> {
    let config = tls_client_config(&op.pki("root.pem"), None);
    let stream = tls_connect(server.addr("imaps"), &format!("mail.{A}"), config).unwrap();
    let leaf = &stream.conn.peer_certificates().unwrap()[0];
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref()).unwrap();
    parsed.raw_serial().to_vec()
}

fn metric(server: &Mssd, name: &str) -> String {
    let (_, text) = http_get(server.addr("http"), "/metrics");
    text.lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
        .to_string()
}

#[test]
fn sighup_renews_the_certificate_keeps_sessions_and_a_broken_file_changes_nothing() {
    let mut world = world(BIN);
    let op = &world.op;
    let first = presented_serial(op, &world.server);

    // An IMAP session open across the reloads.
    let config = tls_client_config(&op.pki("root.pem"), None);
    let stream = tls_connect(world.server.addr("imaps"), &format!("mail.{A}"), config).unwrap();
    let mut imap = LineClient::new(stream);
    assert!(imap.read_line().starts_with("* OK"));
    imap.send(&format!("a1 LOGIN \"{}\" \"{PASSWORD}\"", martin()));
    while !imap.read_line().starts_with("a1 ") {}

    // The renewal: a new certificate and key from the same CA, written over the old files.
    let pki = op.data_dir().join("pki");
    let read = |f: &str| std::fs::read_to_string(pki.join(f)).unwrap();
    let ca = TestCa::load(&read("intermediate.pem"), &read("intermediate.key")).unwrap();
    let host = format!("mail.{A}");
    let mut spec = LeafSpec::new(&[("CN", &host), ("O", "HOPITAL A"), ("C", "FR")]);
    spec.dns_names = vec![host.clone()];
    spec.server_auth = true;
    spec.client_auth = true;
    let renewed = ca.issue(&spec).unwrap();
    let chain = format!("{}{}", renewed.cert_pem, ca.cert_pem());
    std::fs::write(pki.join("server.pem"), &chain).unwrap();
    std::fs::write(pki.join("server.key"), &renewed.key_pem).unwrap();
    sighup(&world.server);
    world
        .server
        .wait_for_line("mssd: configuration reloaded", Duration::from_secs(10));
    let second = presented_serial(&world.op, &world.server);
    assert_ne!(first, second);
    assert_eq!(second, renewed.serial);
    imap.send("a2 NOOP");
    assert!(
        imap.read_line().starts_with("a2 OK"),
        "the open session goes on"
    );

    // A certificate whose key is another one's: refused, the renewed pair stays.
    let other = ca.issue(&spec).unwrap();
    std::fs::write(pki.join("server.key"), &other.key_pem).unwrap();
    sighup(&world.server);
    let line = world
        .server
        .wait_for_line("mssd: reload failed", Duration::from_secs(10));
    assert!(line.contains("do not go together"), "{line}");
    std::fs::write(pki.join("server.key"), &renewed.key_pem).unwrap();
    // A file that does not parse: refused too.
    let path = world.op.config_path();
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        good.replace("[tls]", "[tls]\nstale_crl = \"sometimes\""),
    )
    .unwrap();
    sighup(&world.server);
    let line = world
        .server
        .wait_for_line("mssd: reload failed", Duration::from_secs(10));
    assert!(line.contains("tls.stale_crl"), "{line}");
    assert_eq!(presented_serial(&world.op, &world.server), second);
    assert_eq!(
        metric(&world.server, "mssd_config_reload_failures_total"),
        "mssd_config_reload_failures_total 2"
    );
    assert_eq!(
        metric(&world.server, "mssd_config_last_reload_success"),
        "mssd_config_last_reload_success 0"
    );
    imap.send("a3 NOOP");
    assert!(imap.read_line().starts_with("a3 OK"));
    let refused = world.audit_details("config.reload");
    assert_eq!(refused.len(), 3, "{refused:?}");
}

/// Serves whatever `body` holds; `None` answers 503 (the CA's server is down).
fn crl_server(body: Arc<Mutex<Option<Vec<u8>>>>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/peer.crl", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let response = match body.lock().unwrap().clone() {
                Some(bytes) => {
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        bytes.len()
                    )
                    .into_bytes();
                    r.extend_from_slice(&bytes);
                    r
                }
                None => {
                    b"HTTP/1.1 503 Down\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
                }
            };
            let _ = stream.write_all(&response);
        }
    });
    url
}

/// MAIL FROM over a fresh peer session: the first line of the reply.
fn peer_mail_from(
    server: &Mssd,
    op: &Operator,
    chain: &std::path::Path,
    key: &std::path::Path,
) -> String {
    let (client, greeting) = SmtpClient::connect(server.addr("smtp"));
    assert!(greeting.starts_with("220 "), "{greeting}");
    let config = tls_client_config(&op.pki("root.pem"), Some((chain, key)));
    let (mut client, _) = client
        .starttls(&format!("mail.{A}"), config)
        .expect("STARTTLS");
    client.command(&format!("MAIL FROM:<secretariat@{B}>"))
}

fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{what}: not within 15 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn crls_are_downloaded_a_revocation_refuses_a_down_server_keeps_the_last_good_one() {
    let op = Operator::new(BIN, A);
    let peer = PeerCa::new();
    let dir = tempfile::tempdir().unwrap();
    let mta = peer.valid_mta(PEER_CN);
    let (chain, key) = peer.write(dir.path(), "peer", &mta);
    let dn = mssd_certs::CertInfo::parse(&mta.cert_der)
        .unwrap()
        .subject
        .to_string();
    let xml = whitelist_xml(&[(A, &op.server_dn()), (B, &dn)], "2026-11-01T00:00:00Z");
    std::fs::write(op.data_dir().join("liste-blanche.xml"), xml).unwrap();
    let root = dir.path().join("peer-root.pem");
    std::fs::write(&root, peer.root.cert_pem()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let crl = |revoked: &[&[u8]], this: time::Duration, next: time::Duration| {
        peer.intermediate
            .crl(revoked, now + this, now + next)
            .unwrap()
            .der
            .to_vec()
    };
    let body = Arc::new(Mutex::new(Some(crl(
        &[],
        time::Duration::hours(-2),
        time::Duration::days(7),
    ))));
    let url = crl_server(body.clone());
    let configure = |stale: &str| {
        op.configure(
            &format!(
                "trust_anchors = [\"pki/root.pem\", \"{}\"]\ncrls = [\"pki/crl.pem\"]\ncrl_urls = [\"{url}\"]\ncrl_refresh = \"1s\"\nstale_crl = \"{stale}\"",
                root.display()
            ),
            "[trust_list]\nsource = \"liste-blanche.xml\"\n",
        )
    };
    configure("warn");
    let mut server = op.start();
    let accepted = |server: &Mssd| peer_mail_from(server, &op, &chain, &key).starts_with("250");
    assert!(accepted(&server), "a valid peer before any revocation");
    eventually("the peer CRL in force", || {
        metric_has(&server, "mssd_crl_revoked_certificates", "source=\"http://")
    });

    // The CA revokes the peer: refused after the next download.
    *body.lock().unwrap() = Some(crl(
        &[&mta.serial],
        time::Duration::hours(-1),
        time::Duration::days(7),
    ));
    eventually("the revoked peer refused", || !accepted(&server));
    let reply = peer_mail_from(&server, &op, &chain, &key);
    assert!(
        reply.starts_with("550 5.7.1 Client certificate refused"),
        "{reply}"
    );

    // The CRL server goes down: the last good CRL stays in force.
    *body.lock().unwrap() = None;
    eventually("a failed download counted", || {
        metric_has(&server, "mssd_crl_download_failures_total", "} 1")
            || metric_has(&server, "mssd_crl_download_failures_total", "} 2")
    });
    assert!(
        !accepted(&server),
        "still revoked while the CRL server is down"
    );

    // The CA un-revokes (a newer CRL) but lets it expire; with "warn" it is used...
    *body.lock().unwrap() = Some(crl(
        &[],
        time::Duration::minutes(-30),
        time::Duration::minutes(-1),
    ));
    eventually("the newer, stale CRL in force", || accepted(&server));
    // ...and with "refuse", reloaded by SIGHUP, the peer is refused.
    configure("refuse");
    sighup(&server);
    server.wait_for_line("mssd: configuration reloaded", Duration::from_secs(10));
    let reply = peer_mail_from(&server, &op, &chain, &key);
    assert!(reply.starts_with("550 5.7.1 "), "{reply}");
    assert!(metric_has(&server, "mssd_crl_stale", "} 1"));

    // doctor shows each CRL's age and source.
    let doctor = op.cli(&["doctor"], None);
    assert!(
        doctor.stdout.contains(&format!("from {url}")),
        "{}",
        doctor.stdout
    );
    assert!(doctor.stdout.contains("h ago"), "{}", doctor.stdout);
}

fn metric_has(server: &Mssd, name: &str, fragment: &str) -> bool {
    let (_, text) = http_get(server.addr("http"), "/metrics");
    text.lines()
        .any(|l| l.starts_with(&format!("{name}{{")) && l.contains(fragment))
}
