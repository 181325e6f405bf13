//! Group-commit semantics that need control over batching and commit failure.

use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::writer::{BatchLimits, Writer};
use crate::error::Error;

/// A database where a deferred foreign key lets a job succeed but makes COMMIT fail.
fn test_writer() -> Writer {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (id INTEGER PRIMARY KEY,
             parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
         CREATE TABLE t (v INTEGER UNIQUE);",
    )
    .unwrap();
    Writer::start(
        conn,
        BatchLimits {
            max_jobs: 64,
            max_bytes: 1 << 20,
        },
    )
    .unwrap()
}

fn insert(v: i64) -> impl FnOnce(&Connection) -> crate::Result<()> + Send + 'static {
    move |c| {
        c.execute("INSERT INTO t (v) VALUES (?1)", [v])
            .map(|_| ())
            .map_err(|e| Error::Sqlite(e.to_string()))
    }
}

fn count(c: &Connection) -> crate::Result<i64> {
    c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .map_err(|e| Error::Sqlite(e.to_string()))
}

/// Occupies the writer with a job of its own; `started` fires once that job runs, so jobs sent
/// after it queue up and land together in the next batch.
async fn hold_writer(w: &Writer, started: oneshot::Sender<()>) {
    w.run(0, move |_| {
        let _ = started.send(());
        std::thread::sleep(Duration::from_millis(300));
        Ok(())
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_job_is_isolated_by_its_savepoint() {
    let w = test_writer();
    let before = w.stats();
    let (started, held) = oneshot::channel();
    let batch = async {
        held.await.unwrap();
        tokio::join!(
            w.run(1, insert(1)),
            w.run(1, insert(1)),
            w.run(1, insert(2))
        )
    };
    let (_, (a, dup, b)) = tokio::join!(hold_writer(&w, started), batch);
    a.unwrap();
    b.unwrap();
    assert!(
        matches!(dup, Err(Error::Sqlite(ref m)) if m.contains("UNIQUE")),
        "{dup:?}"
    );
    assert_eq!(w.run(0, count).await.unwrap(), 2);
    let after = w.stats();
    // hold + the batch of three (one failed) + the count.
    assert_eq!(after.writes - before.writes, 4);
    assert_eq!(
        after.commits - before.commits,
        3,
        "the three jobs shared one commit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_commit_fails_every_job_of_the_batch() {
    let w = test_writer();
    let orphan = |c: &Connection| {
        c.execute("INSERT INTO child (id, parent) VALUES (1, 42)", [])
            .map(|_| ())
            .map_err(|e| Error::Sqlite(e.to_string()))
    };
    let before = w.stats();
    let (started, held) = oneshot::channel();
    let batch = async {
        held.await.unwrap();
        tokio::join!(w.run(1, insert(7)), w.run(1, orphan))
    };
    let (_, (a, o)) = tokio::join!(hold_writer(&w, started), batch);
    for outcome in [a, o] {
        assert!(
            matches!(&outcome, Err(Error::Sqlite(m)) if m.contains("committing")),
            "{outcome:?}"
        );
    }
    let after = w.stats();
    assert_eq!(
        after.commits - before.commits,
        1,
        "only the holding job's batch committed"
    );
    assert_eq!(after.writes - before.writes, 1);
    // The batch was rolled back: job a's row is not there, and the writer still works.
    assert_eq!(w.run(0, count).await.unwrap(), 0);
    w.run(1, insert(8)).await.unwrap();
    assert_eq!(w.run(0, count).await.unwrap(), 1);
    w.shutdown().await.unwrap();
}
