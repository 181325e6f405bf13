//! End-to-end: two `mssd serve` nodes of one operator on one PostgreSQL database
//! (`[store] backend = "postgres"`). A message submitted to node A wakes an IMAP IDLE on
//! node B within a second (the change feed crosses nodes by LISTEN/NOTIFY); node A killed
//! with SIGKILL during an SMTP load: every message A acknowledged is readable through node B.
//!
//! PostgreSQL is a throwaway cluster started by the test (`mssd-pg-test`); without the
//! Debian package `postgresql` the tests are skipped with a message.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mssd_e2e::crash::sigkill;
use mssd_e2e::nodes::{fresh_database, postgres_store};
use mssd_e2e::peers::{plain, whitelist_xml};
use mssd_e2e::submission_load::{literals, subject_message};
use mssd_e2e::submission_world::{
    A, B, ORG_PASSWORD, PASSWORD, World, martin, secretariat, world_with,
};
use mssd_e2e::{ImapClient, Mssd, SmtpClient, tls_client_config};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

fn run<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test)
}

/// Node A (the submission world, on PostgreSQL) and node B, a second node of the same
/// operator on the same database.
fn two_nodes() -> Option<(World, Mssd)> {
    let url = fresh_database()?;
    let world = world_with(BIN, &postgres_store(&url));
    let node_b = world.op.another_node().start();
    Some((world, node_b))
}

/// An IMAP session on `node` (implicit TLS), logged in as the secretariat, INBOX selected.
async fn secretariat_inbox(world: &World, node: &Mssd) -> (ImapClient, u32) {
    let tls = tls_client_config(&world.op.pki("root.pem"), None);
    let (mut client, _) = ImapClient::connect_tls(node.addr("imaps"), tls, &format!("mail.{A}"))
        .await
        .expect("IMAP over TLS");
    let login = client.login(&secretariat(), ORG_PASSWORD).await.unwrap();
    assert!(login.is_ok(), "{login:?}");
    let select = client.command("SELECT INBOX").await.unwrap();
    assert!(select.is_ok(), "{select:?}");
    let exists = select.count("EXISTS").expect("EXISTS in SELECT");
    (client, exists)
}

/// Port 587 of node A, STARTTLS, logged in as dr.martin (what `World::logged_in` does, for a
/// thread of its own).
fn submission_session(addr: SocketAddr, tls: Arc<rustls::ClientConfig>) -> SmtpClient {
    let (client, _) = SmtpClient::connect(addr);
    let (mut client, _) = client
        .starttls(&format!("mail.{A}"), tls)
        .expect("STARTTLS on 587");
    let reply = client.command(&format!("AUTH PLAIN {}", plain(&martin(), PASSWORD)));
    assert!(reply.starts_with("235"), "{reply}");
    client
}

#[test]
fn idle_on_node_b_sees_a_delivery_accepted_by_node_a_within_a_second() {
    let Some((world, node_b)) = two_nodes() else {
        return;
    };
    run(async {
        let (mut imap, before) = secretariat_inbox(&world, &node_b).await;
        imap.idle().await.expect("IDLE on node B");

        let mut smtp = world.logged_in(&martin(), PASSWORD);
        let reply = smtp.send_message(&martin(), &[&secretariat()], &subject_message("to-node-b"));
        assert!(reply.starts_with("250"), "node A: {reply}");
        let accepted = Instant::now();

        let seen = imap
            .idle_wait(Duration::from_secs(1))
            .await
            .expect("reading IDLE updates");
        let took = accepted.elapsed();
        let line = seen.unwrap_or_else(|| panic!("node B said nothing within 1 s"));
        assert_eq!(line, format!("{} EXISTS", before + 1), "{line}");
        eprintln!("node B's IDLE saw node A's delivery {took:?} after the 250");
        assert!(took < Duration::from_secs(1), "{took:?}");
        assert!(imap.idle_done().await.unwrap().is_ok());

        let fetch = imap
            .command(&format!(
                "FETCH {} BODY.PEEK[HEADER.FIELDS (SUBJECT)]",
                before + 1
            ))
            .await
            .unwrap();
        assert!(
            literals(&fetch).contains("Subject: to-node-b\r\n"),
            "{}",
            fetch.describe()
        );
    });
}

#[test]
fn every_message_node_a_acknowledged_before_its_sigkill_is_read_through_node_b() {
    let Some((world, node_b)) = two_nodes() else {
        return;
    };
    let submission = world.server.addr("submission");
    let tls = world.tls_config(None);
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|sender| {
            let (tls, acknowledged, stop) = (tls.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut smtp = submission_session(submission, tls);
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let subject = format!("load-{sender}-{n}");
                    // Node A dies mid-load: a broken connection ends this sender.
                    let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        smtp.send_message(&martin(), &[&secretariat()], &subject_message(&subject))
                    }));
                    match reply {
                        Ok(reply) if reply.starts_with("250") => {
                            acknowledged.lock().unwrap().push(subject)
                        }
                        _ => break,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    // SIGKILL node A while the senders are still sending.
    let pid = libc::pid_t::try_from(world.server.pid()).expect("pid");
    // SAFETY: kill(2) on the test's own child process, not yet reaped (the world holds it).
    let killed = unsafe { libc::kill(pid, libc::SIGKILL) };
    stop.store(true, Ordering::Relaxed);
    assert_eq!(killed, 0, "kill -9 {pid}");
    for sender in senders {
        let _ = sender.join();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 20,
        "only {} messages acknowledged before the kill",
        acknowledged.len()
    );

    run(async {
        let (mut imap, exists) = secretariat_inbox(&world, &node_b).await;
        assert!(
            exists as usize >= acknowledged.len(),
            "{exists} messages on node B"
        );
        let fetch = imap
            .command("FETCH 1:* BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
            .await
            .unwrap();
        let text = literals(&fetch);
        let missing: Vec<&String> = acknowledged
            .iter()
            .filter(|s| !text.contains(&format!("Subject: {s}\r\n")))
            .collect();
        assert!(
            missing.is_empty(),
            "{} of {} acknowledged messages missing on node B: {missing:?}",
            missing.len(),
            acknowledged.len()
        );
        eprintln!(
            "{} messages acknowledged by node A before SIGKILL, all read through node B ({exists} stored)",
            acknowledged.len()
        );
    });
    sigkill(node_b);
}

/// The store is the only state the nodes share: a liste blanche loaded by the command line
/// (which writes the database) is in force on node B within seconds, as on node A.
#[test]
fn a_liste_blanche_loaded_once_is_in_force_on_every_node() {
    let Some((world, node_b)) = two_nodes() else {
        return;
    };
    let tls = world.tls_config(None);
    let rcpt_to_b = |node: &Mssd| {
        let mut smtp = submission_session(node.addr("submission"), tls.clone());
        let reply = smtp.command(&format!("MAIL FROM:<{}>", martin()));
        assert!(reply.starts_with("250"), "{reply}");
        smtp.command(&format!("RCPT TO:<someone@{B}>"))
    };
    assert!(
        rcpt_to_b(&node_b).starts_with("250"),
        "B is listed at start"
    );

    let list = world.op.data_dir().join("liste-sans-b.xml");
    let xml = whitelist_xml(&[(A, &world.op.server_dn())], "2026-11-02T00:00:00Z");
    std::fs::write(&list, xml).unwrap();
    world.op.cli_ok(
        &["trust-list", "load", list.to_str().unwrap(), "--force"],
        None,
    );
    let started = Instant::now();
    for (name, node) in [("A", &world.server), ("B", &node_b)] {
        while !rcpt_to_b(node).starts_with("550") {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "node {name} still accepts B 5 s after the load"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    eprintln!(
        "the new liste blanche was in force on both nodes after {:?}",
        started.elapsed()
    );
}
