//! Load generator for the store: N concurrent writers deliver self-checksummed messages and print
//! one `ACK <mailbox> <uid> <sha256>` line per acknowledged (durable) write, then a summary line.
//! The crash test SIGKILLs it and checks every ACKed message survived.
//!
//! Usage: mssd-store-load --db PATH [--writers N] [--size BYTES] [--count N] [--seconds S]
//! `--count 0` means no limit on the total number of messages; the run stops after `--seconds`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mssd_core::{Address, MailboxKind};
use mssd_store::{Delivery, NewMailbox, SqliteOptions, SqliteStore, Store};
use rand::Rng;
use rand::distributions::Alphanumeric;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq)]
struct Args {
    db: PathBuf,
    writers: usize,
    size: usize,
    count: u64,
    seconds: f64,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args {
        db: PathBuf::new(),
        writers: 50,
        size: 10_240,
        count: 0,
        seconds: 5.0,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value:?}: {e}");
        match flag.as_str() {
            "--db" => parsed.db = PathBuf::from(value),
            "--writers" => parsed.writers = value.parse().map_err(|e| bad(&e))?,
            "--size" => parsed.size = value.parse().map_err(|e| bad(&e))?,
            "--count" => parsed.count = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => parsed.seconds = value.parse().map_err(|e| bad(&e))?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if parsed.db.as_os_str().is_empty() {
        return Err("--db PATH is required".to_owned());
    }
    if parsed.writers == 0 {
        return Err("--writers must be at least 1".to_owned());
    }
    if !(parsed.seconds.is_finite() && parsed.seconds > 0.0) {
        return Err("--seconds must be a positive number".to_owned());
    }
    Ok(parsed)
}

/// A message that names itself and carries the checksum of its payload.
fn make_message(run: u64, writer: usize, seq: u64, size: usize) -> Vec<u8> {
    let payload: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(size.saturating_sub(200).max(16))
        .map(char::from)
        .collect();
    let payload_sha = hex::encode(Sha256::digest(payload.as_bytes()));
    format!(
        "Message-ID: <load-{run:016x}-{writer}-{seq}@load.mssante.test>\r\n\
         X-Load-Id: {run:016x}-{writer}-{seq}\r\n\
         X-Load-Payload-Sha256: {payload_sha}\r\n\r\n{payload}"
    )
    .into_bytes()
}

async fn ensure_mailbox(
    store: &SqliteStore,
    writer: usize,
) -> Result<(Address, mssd_store::MailboxId), String> {
    let address =
        Address::parse(&format!("load-{writer}@load.mssante.test")).map_err(|e| e.to_string())?;
    if let Some(m) = store.mailbox(&address).await.map_err(|e| e.to_string())? {
        return Ok((address, m.id));
    }
    let m = store
        .create_mailbox(NewMailbox {
            address: address.clone(),
            kind: MailboxKind::App,
            display_name: None,
            owner_id_nat: None,
            password_hash: None,
            certificate_dn: None,
            quota_bytes: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok((address, m.id))
}

async fn run(args: Args) -> Result<(), String> {
    let store =
        Arc::new(SqliteStore::open(&args.db, SqliteOptions::default()).map_err(|e| e.to_string())?);
    let mut mailboxes = Vec::with_capacity(args.writers);
    for w in 0..args.writers {
        mailboxes.push(ensure_mailbox(&store, w).await?);
    }
    println!("READY");
    std::io::stdout().flush().map_err(|e| e.to_string())?;

    let start_stats = store.stats();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let next_seq = Arc::new(AtomicU64::new(0));
    // Tells apart messages of successive runs on the same database.
    let run_id: u64 = rand::thread_rng().r#gen();
    let mut tasks = Vec::new();
    for (w, (address, mailbox)) in mailboxes.into_iter().enumerate() {
        let store = Arc::clone(&store);
        let next_seq = Arc::clone(&next_seq);
        let (size, count) = (args.size, args.count);
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let seq = next_seq.fetch_add(1, Ordering::Relaxed);
                if count > 0 && seq >= count {
                    break;
                }
                let message = make_message(run_id, w, seq, size);
                let sha = hex::encode(Sha256::digest(&message));
                let delivered = store
                    .deliver(Delivery {
                        recipients: vec![mailbox],
                        message: message.into(),
                        internal_date: 0,
                        documents: Vec::new(),
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {address} {} {sha}", delivered[0].uid)
                    .map_err(|e| e.to_string())?;
                out.flush().map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = store.stats();
    let writes = stats.writes - start_stats.writes;
    let commits = stats.commits - start_stats.commits;
    println!(
        "writes={writes} commits={commits} seconds={seconds:.3} writes_per_s={:.0} fsyncs_per_s={:.0}",
        writes as f64 / seconds,
        commits as f64 / seconds
    );
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mssd-store-load: {e}");
            eprintln!(
                "usage: mssd-store-load --db PATH [--writers N] [--size BYTES] [--count N] [--seconds S]"
            );
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mssd-store-load: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mssd-store-load: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn argument_table() {
        let ok = parse_args(&argv(
            "--db /t/x.db --writers 3 --size 100 --count 7 --seconds 1.5",
        ))
        .unwrap();
        assert_eq!(
            ok,
            Args {
                db: PathBuf::from("/t/x.db"),
                writers: 3,
                size: 100,
                count: 7,
                seconds: 1.5
            }
        );
        let defaults = parse_args(&argv("--db d")).unwrap();
        assert_eq!(
            (defaults.writers, defaults.size, defaults.count),
            (50, 10_240, 0)
        );
        let invalid: &[(&str, &str)] = &[
            ("", "--db PATH is required"),
            ("--db", "needs a value"),
            ("--db d --writers 0", "at least 1"),
            ("--db d --writers x", "--writers"),
            ("--db d --seconds -1", "positive"),
            ("--db d --verbose 1", "unknown argument"),
        ];
        for (line, expected) in invalid {
            let err = parse_args(&argv(line)).unwrap_err();
            assert!(err.contains(expected), "{line:?}: {err}");
        }
    }

    #[test]
    fn messages_carry_their_own_checksum() {
        let m = String::from_utf8(make_message(0xab, 2, 9, 1000)).unwrap();
        assert!(m.contains("X-Load-Id: 00000000000000ab-2-9\r\n"), "{m}");
        let (head, payload) = m.split_once("\r\n\r\n").unwrap();
        let sha = hex::encode(Sha256::digest(payload.as_bytes()));
        assert!(head.contains(&format!("X-Load-Payload-Sha256: {sha}")));
    }
}
