//! Durable write throughput: 50 concurrent writers deliver 10 KB messages for ~5 s; every write
//! counted is committed with the WAL fsynced. Prints writes/s and fsyncs (commits)/s.
//!
//! cargo bench -p mssd-store --bench durable_writes

use std::sync::Arc;
use std::time::{Duration, Instant};

use mssd_core::{Address, MailboxKind};
use mssd_store::{Delivery, NewMailbox, SqliteOptions, SqliteStore, Store};
use rand::RngCore;

const WRITERS: usize = 50;
const MESSAGE_BYTES: usize = 10 * 1024;
const DURATION: Duration = Duration::from_secs(5);

async fn bench() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("bench.db"), SqliteOptions::default())
            .expect("open store"),
    );
    let mut mailboxes = Vec::new();
    for w in 0..WRITERS {
        let m = store
            .create_mailbox(NewMailbox {
                address: Address::parse(&format!("bench-{w}@bench.mssante.test")).expect("address"),
                kind: MailboxKind::App,
                display_name: None,
                owner_id_nat: None,
                password_hash: None,
                certificate_dn: None,
                quota_bytes: None,
            })
            .await
            .expect("create mailbox");
        mailboxes.push(m.id);
    }
    let before = store.stats();
    let started = Instant::now();
    let deadline = started + DURATION;
    let mut tasks = Vec::new();
    for mailbox in mailboxes {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut message = vec![0u8; MESSAGE_BYTES];
            while Instant::now() < deadline {
                rand::thread_rng().fill_bytes(&mut message);
                let t = Instant::now();
                store
                    .deliver(Delivery {
                        recipients: vec![mailbox],
                        message: message.clone().into(),
                        internal_date: 0,
                        documents: Vec::new(),
                    })
                    .await
                    .expect("deliver");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("writer task"));
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = store.stats();
    let writes = after.writes - before.writes;
    let commits = after.commits - before.commits;
    latencies.sort_unstable();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!("durable_writes: {WRITERS} writers, {MESSAGE_BYTES} B messages, {seconds:.2} s");
    println!(
        "  writes={writes} commits={commits} writes_per_s={:.0} fsyncs_per_s={:.0} writes_per_commit={:.1}",
        writes as f64 / seconds,
        commits as f64 / seconds,
        writes as f64 / commits.max(1) as f64
    );
    println!(
        "  latency p50={:?} p99={:?} max={:?}",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}

fn main() {
    // `cargo bench` passes --bench; there are no options to read.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(bench());
}
