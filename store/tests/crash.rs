//! Crash safety: run the load generator, SIGKILL it at a random moment, reopen the store and check
//! that every write it acknowledged is there, byte for byte. Three rounds on the same database.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mssd_core::Address;
use mssd_store::{SqliteOptions, SqliteStore, Store};
use rand::Rng;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Ack {
    mailbox: String,
    uid: u32,
    sha256: String,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ACK ")?.split(' ');
    let ack = Ack {
        mailbox: parts.next()?.to_owned(),
        uid: parts.next()?.parse().ok()?,
        sha256: parts.next()?.to_owned(),
    };
    parts.next().is_none().then_some(ack)
}

/// Runs the generator until a random moment after it is ready, kills it, returns its ACKs.
fn run_and_kill(db: &Path) -> Vec<Ack> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mssd-store-load"))
        .args([
            "--db",
            db.to_str().unwrap(),
            "--writers",
            "16",
            "--size",
            "4096",
        ])
        .args(["--count", "0", "--seconds", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("the generator never got ready");
    assert_eq!(first, "READY");
    let delay = rand::thread_rng().gen_range(300..=1500);
    std::thread::sleep(Duration::from_millis(delay));
    child.kill().unwrap(); // SIGKILL on Unix: no chance to flush or checkpoint anything
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the generator must have been killed, not finished"
    );
    reader.join().unwrap();
    // Everything it printed before dying is in the pipe; a truncated last line is not an ACK.
    lines.try_iter().filter_map(|l| parse_ack(&l)).collect()
}

async fn check_all_present(db: &Path, acks: &[Ack]) {
    let raw = rusqlite::Connection::open(db).unwrap();
    let integrity: String = raw
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(raw);

    let store = SqliteStore::open(db, SqliteOptions::default()).unwrap();
    let mut by_mailbox: HashMap<&str, Vec<&Ack>> = HashMap::new();
    for a in acks {
        by_mailbox.entry(a.mailbox.as_str()).or_default().push(a);
    }
    let mut ids = HashSet::new();
    for (mailbox, acks) in by_mailbox {
        let m = store
            .mailbox(&Address::parse(mailbox).unwrap())
            .await
            .unwrap()
            .expect("mailbox");
        let inbox = store.folders(m.id).await.unwrap().remove(0);
        let stored: HashMap<u32, String> = store
            .messages(inbox.id)
            .await
            .unwrap()
            .into_iter()
            .map(|meta| (meta.uid, meta.sha256))
            .collect();
        for a in acks {
            let sha = stored
                .get(&a.uid)
                .unwrap_or_else(|| panic!("acknowledged {a:?} is missing"));
            assert_eq!(sha, &a.sha256, "{a:?}");
            let body = store.message_body(inbox.id, a.uid).await.unwrap().unwrap();
            assert_eq!(
                hex::encode(Sha256::digest(&body)),
                a.sha256,
                "bytes of {a:?}"
            );
            let text = String::from_utf8(body).unwrap();
            let (head, payload) = text.split_once("\r\n\r\n").unwrap();
            let payload_sha = hex::encode(Sha256::digest(payload.as_bytes()));
            assert!(
                head.contains(&format!("X-Load-Payload-Sha256: {payload_sha}")),
                "{a:?}"
            );
            let id = head
                .lines()
                .find_map(|l| l.strip_prefix("X-Load-Id: "))
                .unwrap()
                .to_owned();
            ids.insert((mailbox.to_owned(), id));
        }
    }
    let health = store.health().await.unwrap();
    assert!(health.quick_check_ok, "{}", health.quick_check);
    store.close().await.unwrap();
    assert_eq!(
        ids.len(),
        acks.len(),
        "every acknowledged message is a distinct message"
    );
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut all_acks: Vec<Ack> = Vec::new();
    for round in 1..=3 {
        let acks = run_and_kill(&db);
        assert!(
            !acks.is_empty(),
            "round {round}: the generator acknowledged nothing"
        );
        all_acks.extend(acks);
        let unique: HashSet<&Ack> = all_acks.iter().collect();
        assert_eq!(
            unique.len(),
            all_acks.len(),
            "round {round}: a UID was acknowledged twice"
        );
        runtime.block_on(check_all_present(&db, &all_acks));
        println!(
            "round {round}: {} acknowledged writes verified",
            all_acks.len()
        );
    }
}

#[test]
fn ack_line_table() {
    let sha = "a".repeat(64);
    let cases: Vec<(String, Option<Ack>)> = vec![
        (
            format!("ACK load-1@load.mssante.test 7 {sha}"),
            Some(Ack {
                mailbox: "load-1@load.mssante.test".into(),
                uid: 7,
                sha256: sha.clone(),
            }),
        ),
        ("READY".into(), None),
        (format!("ACK load-1@load.mssante.test x {sha}"), None),
        ("ACK load-1@load.mssante.test 7".into(), None),
        (format!("ACK a 1 {sha} extra"), None),
        ("writes=1 commits=1".into(), None),
    ];
    for (line, expected) in cases {
        assert_eq!(parse_ack(&line), expected, "{line:?}");
    }
}
