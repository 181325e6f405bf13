//! Group commit of accepted messages ([`crate::Store::accept`]) on PostgreSQL.
//!
//! Each acceptance appends an audit line, and audit appends serialise on the trail's advisory
//! lock held to the commit (the chain follows commit order). Committed one by one, accepts
//! therefore ran one fsync at a time. Here concurrent `accept` calls queue their work (bounded
//! channel) for a few committer tasks. A committer takes what is waiting (up to a bound) and
//! runs it in ONE transaction:
//!
//! 1. it locks, in id order and in one statement, every mailbox row the batch will touch
//!    (recipients, notified mailboxes, and the mailboxes whose usage counters and citizen
//!    exchanges it updates, found by address), so two batches sharing a mailbox serialise
//!    instead of deadlocking on the rows they upsert;
//! 2. it runs each acceptance under its own SAVEPOINT: one that fails (quota, an invalid
//!    recipient) rolls back alone and gets its own error, the others go on;
//! 3. it takes the audit lock once and appends the audit lines of the acceptances that
//!    succeeded, in order, chained;
//! 4. it commits once, then publishes the folder changes and answers every caller — only
//!    after COMMIT returned (durable before acknowledged). A failed COMMIT fails every caller.
//!
//! Steps 2 and 3 above are the slow way. A batch first takes the fast one
//! ([`super::accept_pipelined`]): every statement of the batch in two pipelined flights (all
//! its deliveries in one statement), no savepoints; when any acceptance fails there, the
//! transaction is rolled back and the batch runs again the slow way, where the failing
//! acceptance gets its own error.
//!
//! Each accepted message's deliveries, queue entry, counters and audit line stay atomic
//! together: they are in one savepoint (or the audit append after it) of one transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::accept_job::AcceptJob;
use super::accept_pipelined::Ran;
use super::{
    PgResult, Tx, accept_pipelined, accept_statements, audit, changes_of, health_docs, messages,
    notify, queue, small,
};
use crate::change_feed::ChangeFeed;
use crate::error::{Error, Result};
use crate::model::{Accepted, AuditEvent, FolderChange, WriterStats};

/// Bounds of the committers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupLimits {
    /// Committer tasks, each with its own transaction (batches on disjoint mailboxes run in
    /// parallel; the audit lock orders their commits).
    pub committers: usize,
    /// Acceptances in one transaction at most.
    pub max_jobs: usize,
    /// Message bytes in one transaction at most (at least one acceptance is always taken).
    pub max_bytes: usize,
}

impl GroupLimits {
    /// For a pool of `pool_size` connections: two committers from 16 connections on, one below.
    /// Measured on 2 cores, 50 writers, pipelined batches (docs/postgres.md): 1 committer
    /// 2,331 accepts/s, 2: 3,523/s, 4: 2,013/s. More committers make smaller batches, hence
    /// more commits, and commits queue on the audit lock (held until COMMIT); before the
    /// batches were pipelined, each committer waited on its round trips and 4 did best.
    pub(crate) fn for_pool(pool_size: usize) -> GroupLimits {
        GroupLimits {
            committers: (pool_size / 8).clamp(1, 2),
            max_jobs: 64,
            max_bytes: 32 << 20,
        }
    }
}

/// Commits and writes of the whole store (a batch is one commit of several writes).
#[derive(Debug, Default)]
pub(crate) struct WriteCounters {
    commits: AtomicU64,
    writes: AtomicU64,
    retried: AtomicU64,
}

impl WriteCounters {
    pub(crate) fn committed(&self, writes: u64) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(writes, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> WriterStats {
        WriterStats {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
        }
    }
}

/// A queued acceptance and where its caller waits.
struct Pending {
    job: AcceptJob,
    reply: oneshot::Sender<Result<Accepted>>,
}

/// What the committers share with the store.
pub(crate) struct CommitContext {
    pub pool: Pool,
    pub node: String,
    pub feed: ChangeFeed,
    pub counters: Arc<WriteCounters>,
}

/// The handle the store keeps; the committers stop once it is dropped and their queues
/// drained.
pub(crate) struct GroupCommitter {
    /// One queue per committer. An acceptance goes to the committer of its first recipient
    /// mailbox: acceptances for a busy mailbox then make one big batch instead of several
    /// small ones waiting in turn for that mailbox's row lock.
    queues: Vec<mpsc::Sender<Pending>>,
    /// For acceptances without a local recipient (queued only): spread in turn.
    next: AtomicU64,
}

impl GroupCommitter {
    /// Spawns the committers on the current runtime.
    pub(crate) fn start(context: CommitContext, limits: GroupLimits) -> GroupCommitter {
        let limits = GroupLimits {
            committers: limits.committers.max(1),
            max_jobs: limits.max_jobs.max(1),
            max_bytes: limits.max_bytes.max(1),
        };
        let context = Arc::new(context);
        let mut queues = Vec::with_capacity(limits.committers);
        for _ in 0..limits.committers {
            // Bounded: callers wait (backpressure) when their committer falls behind.
            let (jobs, receiver) = mpsc::channel(limits.max_jobs.saturating_mul(2));
            tokio::spawn(committer(Arc::clone(&context), receiver, limits));
            queues.push(jobs);
        }
        GroupCommitter {
            queues,
            next: AtomicU64::new(0),
        }
    }

    /// Queues `job` and waits until its batch committed (or failed).
    pub(crate) async fn accept(&self, job: AcceptJob) -> Result<Accepted> {
        let (reply, answer) = oneshot::channel();
        let a = &job.acceptance;
        let first = a
            .delivery
            .as_ref()
            .and_then(|d| d.recipients.iter().map(|m| m.0).min())
            .or_else(|| a.notify.iter().map(|m| m.0).min());
        let key = match first {
            Some(id) => id.unsigned_abs(),
            None => self.next.fetch_add(1, Ordering::Relaxed),
        };
        let queue = &self.queues[(key % self.queues.len() as u64) as usize];
        queue
            .send(Pending { job, reply })
            .await
            .map_err(|_| Error::Postgres("accepting: the group committer stopped".to_owned()))?;
        answer.await.map_err(|_| {
            Error::Postgres("accepting: the group committer stopped before answering".to_owned())
        })?
    }
}

/// One committer: takes what is waiting, commits it, answers; until the queue closes.
/// (Tried: two batches of a committer in flight at once, the second waiting in the server on
/// the mailbox rows: slower, 1,712 against 1,918 SMTP msg/s to one mailbox.)
async fn committer(
    context: Arc<CommitContext>,
    mut receiver: mpsc::Receiver<Pending>,
    limits: GroupLimits,
) {
    loop {
        let batch = {
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut bytes = first.job.weight();
            let mut batch = vec![first];
            while batch.len() < limits.max_jobs && bytes < limits.max_bytes {
                match receiver.try_recv() {
                    Ok(next) => {
                        bytes = bytes.saturating_add(next.job.weight());
                        batch.push(next);
                    }
                    Err(_) => break,
                }
            }
            batch
        };
        commit_batch(&context, batch).await;
    }
}

/// What one acceptance gave inside the batch.
type Outcome = Result<(Accepted, Vec<FolderChange>)>;

async fn commit_batch(context: &CommitContext, batch: Vec<Pending>) {
    let jobs: Vec<&AcceptJob> = batch.iter().map(|p| &p.job).collect();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(jobs.len());
    let commit = run_batch(context, &jobs, &mut outcomes).await;
    drop(jobs);
    match &commit {
        Ok(()) => {
            let written = outcomes.iter().filter(|o| o.is_ok()).count();
            context.counters.committed(written as u64);
            debug!(jobs = batch.len(), written, "accept batch committed");
        }
        Err(e) => warn!(jobs = batch.len(), error = %e, "accept batch failed"),
    }
    let mut outcomes = outcomes.into_iter();
    for pending in batch {
        let reply = match (outcomes.next(), &commit) {
            // The acceptance's own error is the most precise answer, committed or not.
            (Some(Err(own)), _) => Err(own),
            (Some(Ok((accepted, changes))), Ok(())) => {
                for change in changes {
                    context.feed.publish(change);
                }
                Ok(accepted)
            }
            (_, Err(batch_error)) => Err(batch_error.clone()),
            (None, Ok(())) => Err(Error::Postgres(
                "accepting: the batch committed without running this acceptance".to_owned(),
            )),
        };
        // The caller may have given up waiting; the write stands either way. The staged
        // bodies (in `pending.job`) go now, after the commit.
        let _ = pending.reply.send(reply);
    }
}

/// Runs the batch in one transaction; `outcomes` gets one entry per acceptance run. `Err`
/// means nothing was committed.
async fn run_batch(
    context: &CommitContext,
    jobs: &[&AcceptJob],
    outcomes: &mut Vec<Outcome>,
) -> Result<()> {
    let mut conn = Some(get_connection(context).await?);
    if jobs.iter().all(|job| job.pipelinable()) {
        let events: Vec<&AuditEvent> = jobs.iter().map(|job| &job.acceptance.audit).collect();
        match accept_pipelined::run(&mut conn, &context.node, jobs, &events).await? {
            Ran::Committed(staged) => {
                outcomes.extend(staged.into_iter().map(Ok));
                return Ok(());
            }
            Ran::RolledBack(e) => {
                context.counters.retried.fetch_add(1, Ordering::Relaxed);
                debug!(jobs = jobs.len(), error = %e, "pipelined accept batch refused; run again acceptance by acceptance");
            }
        }
    }
    let mut conn = match conn {
        Some(conn) => conn,
        None => get_connection(context).await?,
    };
    let tx = begin_locked(&mut conn, jobs).await?;
    for (k, job) in jobs.iter().enumerate() {
        // One round trip: the previous acceptance's savepoint released (or, rolled back,
        // discarded), this one's opened. COMMIT releases the last one.
        let open = if k == 0 {
            "SAVEPOINT acceptance"
        } else {
            "RELEASE SAVEPOINT acceptance; SAVEPOINT acceptance"
        };
        tx.batch_execute(open)
            .await
            .pg("accepting: opening a savepoint")?;
        let outcome = accept_one(&tx, &context.node, job).await;
        if outcome.is_err() {
            tx.batch_execute("ROLLBACK TO SAVEPOINT acceptance")
                .await
                .pg("accepting: rolling back a savepoint")?;
        }
        outcomes.push(outcome);
    }
    finish(tx, jobs, outcomes).await
}

async fn get_connection(context: &CommitContext) -> Result<deadpool_postgres::Object> {
    context.pool.get().await.map_err(|e| {
        Error::Postgres(format!(
            "accepting: getting a connection from the pool: {e}"
        ))
    })
}

/// Begins the slow way's transaction and locks the mailboxes the batch writes through.
async fn begin_locked<'c>(
    conn: &'c mut deadpool_postgres::Object,
    jobs: &[&AcceptJob],
) -> Result<Tx<'c>> {
    let tx = conn
        .transaction()
        .await
        .pg("accepting: beginning a batch")?;
    accept_statements::lock_mailboxes(&tx, jobs).await?;
    Ok(tx)
}

/// Appends the audit lines of the acceptances that succeeded, then commits. A failed COMMIT
/// fails the batch and is never run again: it may have committed.
async fn finish(tx: Tx<'_>, jobs: &[&AcceptJob], outcomes: &[Outcome]) -> Result<()> {
    let events: Vec<_> = jobs
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| outcome.is_ok())
        .map(|(job, _)| &job.acceptance.audit)
        .collect();
    // Last: the audit append takes the trail's lock, held until the commit.
    audit::append_all(&tx, &events).await?;
    tx.commit().await.pg("accepting: committing a batch")
}

/// One acceptance, all but its audit line: local deliveries, queue entry (sharing the
/// delivery's blob), usage counters, citizen exchanges, notifications, change notices.
async fn accept_one(tx: &Tx<'_>, node: &str, job: &AcceptJob) -> Outcome {
    let a = &job.acceptance;
    let (delivered, blob) = match (&a.delivery, &job.delivery) {
        (Some(d), Some(message)) => {
            let (delivered, blob) =
                messages::deliver(tx, &d.recipients, message, d.internal_date, &d.documents)
                    .await?;
            (delivered, Some(blob))
        }
        _ => (Vec::new(), None),
    };
    let queue_id = match &a.queued {
        Some(q) => {
            let own = job.queued.as_ref().filter(|m| !m.is_empty());
            let shared = blob.filter(|_| own.is_none());
            Some(queue::enqueue(tx, q, own.or(job.queued.as_ref()), job.now, shared).await?)
        }
        None => None,
    };
    small::add_usage_counts(tx, &a.usage, job.now).await?;
    health_docs::record_exchanges(tx, &a.exchanges, job.now).await?;
    small::add_notifications(tx, &a.notify, job.now).await?;
    let changes = changes_of(&delivered);
    notify::send(tx, node, &changes).await?;
    Ok((
        Accepted {
            delivered,
            queued: queue_id,
        },
        changes,
    ))
}
