//! The single writer thread and its group commit.
//!
//! Every write is a job sent to one thread that owns the read-write connection. The thread takes
//! all pending jobs (up to a bound), runs each inside its own SAVEPOINT of ONE transaction,
//! commits once — one WAL fsync for the whole batch — and only then answers every job. A job
//! that fails rolls back its savepoint alone; a failed commit fails every job of the batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, warn};

use crate::error::{Error, Result};
use crate::model::WriterStats;

/// Bounds of one batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimits {
    pub max_jobs: usize,
    pub max_bytes: usize,
}

/// The commit counters, shared with the store handle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    commits: AtomicU64,
    writes: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> WriterStats {
        WriterStats {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            retried: 0,
        }
    }
}

/// A unit of work for the writer, with its result type erased.
trait Job: Send {
    /// Bytes the job carries, to bound a batch's memory.
    fn weight(&self) -> usize;
    /// Runs the work inside the open savepoint; true when it succeeded.
    fn execute(&mut self, conn: &Connection) -> bool;
    /// Sends the outcome once the batch's fate (`commit`) is known.
    fn answer(self: Box<Self>, commit: &Result<()>);
}

struct TypedJob<T, F> {
    weight: usize,
    work: Option<F>,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn weight(&self) -> usize {
        self.weight
    }

    fn execute(&mut self, conn: &Connection) -> bool {
        let outcome = match self.work.take() {
            Some(work) => work(conn),
            None => Err(Error::Sqlite(
                "running a write job: it already ran".to_owned(),
            )),
        };
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn answer(self: Box<Self>, commit: &Result<()>) {
        let this = *self;
        let reply = match (this.outcome, commit) {
            // The job's own error is the most precise answer, committed or not.
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)), Err(batch)) => Err(batch.clone()),
            (None, Err(batch)) => Err(batch.clone()),
            (None, Ok(())) => Err(Error::Sqlite(
                "running a write job: the batch committed without running it".to_owned(),
            )),
        };
        // The caller may have given up waiting; the write stands either way.
        let _ = this.reply.send(reply);
    }
}

/// Handle to the writer thread.
pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    counters: Arc<Counters>,
    thread: JoinHandle<()>,
}

impl Writer {
    /// Starts the thread; it owns `conn` until every handle is dropped.
    pub(crate) fn start(conn: Connection, limits: BatchLimits) -> Result<Writer> {
        let limits = BatchLimits {
            max_jobs: limits.max_jobs.max(1),
            max_bytes: limits.max_bytes.max(1),
        };
        let (jobs, receiver) = mpsc::channel(limits.max_jobs.saturating_mul(2));
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let thread = std::thread::Builder::new()
            .name("mssd-store-writer".to_owned())
            .spawn(move || writer_loop(conn, receiver, limits, &thread_counters))
            .map_err(|e| Error::Io {
                path: "mssd-store-writer thread".to_owned(),
                detail: format!("spawning the writer thread: {e}"),
            })?;
        Ok(Writer {
            jobs,
            counters,
            thread,
        })
    }

    pub(crate) fn stats(&self) -> WriterStats {
        self.counters.snapshot()
    }

    /// Whether the writer thread still takes jobs (it stops only on shutdown or a panic).
    pub(crate) fn is_alive(&self) -> bool {
        !self.jobs.is_closed() && !self.thread.is_finished()
    }

    /// Runs `work` in the next batch; returns once its batch is committed (or failed).
    pub(crate) async fn run<T, F>(&self, weight: usize, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(TypedJob {
            weight,
            work: Some(work),
            outcome: None,
            reply,
        });
        self.jobs.send(job).await.map_err(|_| Error::WriterGone)?;
        answer.await.map_err(|_| Error::WriterGone)?
    }

    /// Stops accepting jobs, lets the thread finish the queued ones, and waits for it.
    pub(crate) async fn shutdown(self) -> Result<()> {
        let Writer { jobs, thread, .. } = self;
        drop(jobs);
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|e| Error::Io {
                path: "mssd-store-writer thread".to_owned(),
                detail: format!("waiting for the writer thread: {e}"),
            })?
            .map_err(|_| Error::WriterGone)
    }
}

fn writer_loop(
    conn: Connection,
    mut receiver: mpsc::Receiver<Box<dyn Job>>,
    limits: BatchLimits,
    counters: &Counters,
) {
    while let Some(first) = receiver.blocking_recv() {
        let mut bytes = first.weight();
        let mut batch = vec![first];
        while batch.len() < limits.max_jobs && bytes < limits.max_bytes {
            match receiver.try_recv() {
                Ok(job) => {
                    bytes = bytes.saturating_add(job.weight());
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let (commit, succeeded) = run_batch(&conn, &mut batch);
        match &commit {
            Ok(()) => {
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters.writes.fetch_add(succeeded, Ordering::Relaxed);
                debug!(
                    jobs = batch.len(),
                    succeeded, bytes, "store batch committed"
                );
            }
            Err(e) => error!(jobs = batch.len(), error = %e, "store batch failed"),
        }
        for job in batch {
            job.answer(&commit);
        }
    }
    debug!("store writer stopped: no handle left");
}

/// Runs the batch in one transaction; returns the commit outcome and how many jobs succeeded.
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> (Result<()>, u64) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return (
            Err(Error::Sqlite(format!("beginning a write batch: {e}"))),
            0,
        );
    }
    let mut succeeded = 0u64;
    for job in batch.iter_mut() {
        match run_in_savepoint(conn, job.as_mut()) {
            Ok(true) => succeeded += 1,
            Ok(false) => {}
            Err(e) => return (Err(abort(conn, e)), 0),
        }
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let e = Error::Sqlite(format!("committing a write batch: {e}"));
        return (Err(abort(conn, e)), 0);
    }
    (Ok(()), succeeded)
}

/// Runs one job in its savepoint. Err means the whole transaction is unusable.
fn run_in_savepoint(conn: &Connection, job: &mut dyn Job) -> Result<bool> {
    conn.execute_batch("SAVEPOINT job")
        .map_err(|e| Error::Sqlite(format!("opening a job savepoint: {e}")))?;
    let ok = job.execute(conn);
    // SQLite rolls the whole transaction back by itself on some errors (I/O, full disk): then the
    // earlier jobs of the batch are lost too, and none may be acknowledged.
    if conn.is_autocommit() {
        return Err(Error::Sqlite(
            "running a write batch: SQLite rolled the transaction back after a job failed"
                .to_owned(),
        ));
    }
    let end = if ok {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    conn.execute_batch(end)
        .map_err(|e| Error::Sqlite(format!("closing a job savepoint: {e}")))?;
    Ok(ok)
}

/// Rolls back what is left of the transaction and returns `e` for the whole batch.
fn abort(conn: &Connection, e: Error) -> Error {
    if !conn.is_autocommit()
        && let Err(rollback) = conn.execute_batch("ROLLBACK")
    {
        warn!(error = %rollback, "rolling back a failed write batch");
    }
    e
}
