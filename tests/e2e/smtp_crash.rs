//! End-to-end crash test: peers deliver over the MTA listener from several connections while
//! the server is killed with SIGKILL at a random moment, then restarted. Every message that
//! got its 250 must be in the mailbox, intact, and no message may be there twice.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mssd_e2e::crash::{messages_by_id, sigkill};
use mssd_e2e::peers::{PeerCa, whitelist_xml};
use mssd_e2e::{Operator, SmtpClient, tls_client_config};
use rand::Rng;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const A: &str = "hopital-a.test.mssante.fr";
const B: &str = "clinique-b.test.mssante.fr";
const PEER_CN: &str = "mail.clinique-b.test.mssante.fr";
const SENDERS: usize = 4;
const ROUNDS: usize = 3;
/// Sender threads' names start with this; their expected panics (connection refused while
/// the server is down) are not printed.
const SENDER_THREAD: &str = "crash-sender-";

fn recipient() -> String {
    format!("urgences@{A}")
}

/// Operator A trusting a peer CA held by the test, with a liste blanche listing the peer's
/// MTA DN for B, and an ORG mailbox to deliver to (as `world()` in smtp_mta.rs).
fn operator_a() -> (Operator, Arc<rustls::ClientConfig>, tempfile::TempDir) {
    let a = Operator::new(BIN, A);
    let peer = PeerCa::new();
    let dir = tempfile::tempdir().unwrap();
    let valid = peer.valid_mta(PEER_CN);
    let (chain, key) = peer.write(dir.path(), "valid", &valid);
    let valid_dn = mssd_certs::CertInfo::parse(&valid.cert_der)
        .unwrap()
        .subject
        .to_string();
    let xml = whitelist_xml(
        &[(A, &a.server_dn()), (B, &valid_dn)],
        "2026-11-01T00:00:00Z",
    );
    std::fs::write(a.data_dir().join("liste-blanche.xml"), xml).unwrap();
    let (root, crl) = peer.write_root_and_crl(dir.path(), &[]);
    a.configure(
        &format!(
            "trust_anchors = [\"pki/root.pem\", \"{}\"]\ncrls = [\"pki/crl.pem\", \"{}\"]",
            root.display(),
            crl.display()
        ),
        "[trust_list]\nsource = \"liste-blanche.xml\"\n",
    );
    let out = a.cli(&["mailbox", "add", &recipient(), "--kind", "ORG"], None);
    assert!(out.status.success(), "mailbox add: {}", out.stderr);
    let config = tls_client_config(&a.pki("root.pem"), Some((&chain, &key)));
    (a, config, dir)
}

/// The message with Message-ID `id`: its body names the id on every line, so a torn or
/// mixed-up write shows.
fn message(id: &str) -> String {
    let mut text = format!(
        "From: <secretariat@{B}>\r\nTo: <{}>\r\nSubject: crash test\r\nMessage-ID: {id}\r\nX-MSS-INS: N\r\n\r\n",
        recipient()
    );
    for line in 0..40 {
        text.push_str(&format!(
            "line {line} of {id} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
        ));
    }
    text
}

/// What the senders of one round saw.
#[derive(Default)]
struct Seen {
    /// Message-IDs that got a 250 to their final dot.
    acknowledged: Vec<String>,
    /// Replies that were neither 250 nor the silence of a dead server.
    refusals: Vec<String>,
}

/// Sends messages one after the other over STARTTLS sessions until `stop`, reconnecting when
/// the server goes away (a harness client panics then: caught, and we try again).
fn sender(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    prefix: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) {
    let mut next = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let (client, greeting) = SmtpClient::connect(addr);
            assert!(greeting.starts_with("220 "), "{greeting}");
            let (mut client, ehlo) = client
                .starttls(&format!("mail.{A}"), config.clone())
                .expect("STARTTLS");
            assert!(ehlo.starts_with("250"), "{ehlo}");
            while !stop.load(Ordering::SeqCst) {
                let id = format!("<crash-{prefix}-{next}@{B}>");
                next += 1;
                let reply = client.send_message(
                    &format!("secretariat@{B}"),
                    &[&recipient()],
                    message(&id).as_bytes(),
                );
                let mut seen = seen.lock().unwrap();
                if reply.starts_with("250 ") {
                    seen.acknowledged.push(id);
                } else if reply.is_empty() {
                    return; // the server is gone
                } else {
                    seen.refusals.push(format!("{id}: {reply}"));
                }
            }
        }));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every acknowledged message is stored once, byte for byte after our trace field; nothing
/// is stored twice. Returns how many stored messages were never acknowledged (in flight at
/// the kill: allowed, the sender would retry them).
fn check_mailbox(data_dir: &Path, acknowledged: &[String]) -> usize {
    let stored = messages_by_id(data_dir, &recipient(), "INBOX");
    let mut by_id: HashMap<&str, Vec<&[u8]>> = HashMap::new();
    for (id, bytes) in &stored {
        by_id.entry(id.as_str()).or_default().push(bytes);
    }
    let twice: Vec<_> = by_id
        .iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(id, v)| (*id, v.len()))
        .collect();
    assert!(
        twice.is_empty(),
        "messages stored more than once: {twice:?}"
    );
    assert!(
        !by_id.contains_key(""),
        "a stored message lost its Message-ID"
    );
    for id in acknowledged {
        let Some(copies) = by_id.get(id.as_str()) else {
            panic!(
                "{id} got 250 but is not in the mailbox ({} stored)",
                stored.len()
            );
        };
        assert!(
            copies[0].ends_with(message(id).as_bytes()),
            "{id} is stored altered: {}",
            String::from_utf8_lossy(copies[0])
        );
    }
    stored.len() - acknowledged.len()
}

#[test]
fn every_acknowledged_message_survives_sigkill_once() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let name = std::thread::current()
            .name()
            .unwrap_or_default()
            .to_string();
        if !name.starts_with(SENDER_THREAD) {
            default_hook(info);
        }
    }));
    let (a, config, _dir) = operator_a();
    let mut server = a.start();
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let addr = server.addr("smtp");
        let threads: Vec<_> = (0..SENDERS)
            .map(|t| {
                let (config, stop, seen) = (config.clone(), stop.clone(), seen.clone());
                std::thread::Builder::new()
                    .name(format!("{SENDER_THREAD}{round}-{t}"))
                    .spawn(move || sender(addr, config, format!("r{round}-t{t}"), stop, seen))
                    .unwrap()
            })
            .collect();
        // Kill under load: once deliveries flow, after a random delay.
        let deadline = Instant::now() + Duration::from_secs(60);
        while seen.lock().unwrap().acknowledged.len() < 10 {
            assert!(Instant::now() < deadline, "no deliveries within 60 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(rand::thread_rng().gen_range(0..700)));
        sigkill(server);
        stop.store(true, Ordering::SeqCst);
        for thread in threads {
            thread.join().unwrap();
        }
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        assert!(seen.refusals.is_empty(), "refused: {:#?}", seen.refusals);
        acknowledged.extend(seen.acknowledged.iter().cloned());

        server = a.start();
        let unacknowledged = check_mailbox(&a.data_dir(), &acknowledged);
        eprintln!(
            "round {round}: {} acknowledged this round, {} in all, {unacknowledged} stored but never acknowledged",
            seen.acknowledged.len(),
            acknowledged.len()
        );
    }
    drop(server);
}
