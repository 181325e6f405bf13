//! `mssd store migrate` on a volume: prints the throughput (messages per second) of the copy
//! and the time of the verification. Asserts only the result, never a timing.

mod common;

use std::time::Instant;

use common::add_mailbox;
use common::postgres::fresh_database;
use mssd_store::{
    Delivery, MailboxId, NoProgress, PostgresTarget, PostgresTls, SqliteOptions, SqliteStore,
    Store, migrate_sqlite_to_postgres,
};

const NOW: i64 = 1_750_000_000;

fn message(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: x@clinique.mssante.fr\r\nTo: a@hopital.mssante.fr\r\nSubject: message {i}\r\n\
         Message-ID: <m{i}@clinique>\r\n\r\n"
    )
    .into_bytes();
    while m.len() < size {
        m.extend_from_slice(format!("line {i} of the body, padded to size\r\n").as_bytes());
    }
    m
}

fn target(url: &str) -> PostgresTarget {
    PostgresTarget {
        url: url.to_owned(),
        password: None,
        tls: PostgresTls::Disabled,
    }
}

/// Throughput: 20,000 messages of about 4 KB in 20 mailboxes (`MSSD_MIGRATE_MESSAGES` to
/// change the number). Prints messages per second; asserts only the result.
#[tokio::test(flavor = "multi_thread")]
async fn volume_migration_prints_its_throughput() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let total: usize = std::env::var("MSSD_MIGRATE_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let path = common::db_path(dir.path());
    let store = SqliteStore::open(&path, SqliteOptions::default()).unwrap();
    let mut boxes: Vec<MailboxId> = Vec::new();
    for i in 0..20 {
        boxes.push(
            add_mailbox(&store, &format!("m{i}@hopital.mssante.fr"))
                .await
                .id,
        );
    }
    let filling = Instant::now();
    let mut pending = Vec::new();
    for i in 0..total {
        let recipient = boxes[i % boxes.len()];
        pending.push(store.deliver(Delivery {
            recipients: vec![recipient],
            message: message(i, 4096).into(),
            internal_date: NOW + i as i64,
            documents: Vec::new(),
        }));
        if pending.len() == 256 {
            for r in join_all(std::mem::take(&mut pending)).await {
                r.unwrap();
            }
        }
    }
    for r in join_all(pending).await {
        r.unwrap();
    }
    let filled = filling.elapsed();
    store.close().await.unwrap();
    let started = Instant::now();
    let report = migrate_sqlite_to_postgres(&path, &target(&url), &mut NoProgress)
        .await
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(report.verified(), "{report:#?}");
    let messages = report
        .tables
        .iter()
        .find(|t| t.table == "messages")
        .unwrap();
    assert_eq!(messages.target_rows, total as u64);
    let line = format!(
        "migrate: {total} messages ({:.1} MB of values) in {elapsed:.1} s: copy {:.1} s \
         ({:.0} messages/s, {:.1} MB/s), verify {:.1} s; filling SQLite took {:.1} s",
        report.bytes_copied as f64 / 1e6,
        report.copy_seconds,
        total as f64 / report.copy_seconds,
        report.bytes_copied as f64 / 1e6 / report.copy_seconds,
        report.verify_seconds,
        filled.as_secs_f64(),
    );
    println!("{line}");
}

/// Awaits every future of `futures` together (deliveries overlap, so the group commit batches
/// them; a JoinSet would need 'static futures, these borrow the store).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (f, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
