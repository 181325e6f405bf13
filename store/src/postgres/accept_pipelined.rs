//! The fast path of a batch of acceptances ([`super::group_commit`]): two round trips whatever
//! the batch holds.
//!
//! Run acceptance by acceptance, each under its own savepoint, a message cost about ten round
//! trips to the database, one after the other; the committer of a busy mailbox spent its time
//! waiting for them (a round trip here is 0.3 to 0.5 ms when the two cores are busy). Here the
//! whole batch is sent in two flights, each a list of statements sent without waiting for one
//! another's answers (tokio-postgres sends the request of a future when it is first polled;
//! the server runs them in the order sent):
//!
//! 1. BEGIN; the batch's mailboxes locked; every local delivery, in ONE statement
//!    ([`super::deliver_batch`]); the usage counters and the citizen notifications, one
//!    statement each; the audit lines inserted under the trail's lock, with the trail's head;
//! 2. what needed those answers: each queue entry (one statement: its bytes or the delivery's
//!    blob, the entry, its recipients), the change notices, the audit chain's links (computed
//!    here from the head and the ids); then COMMIT.
//!
//! Every statement of a flight is prepared before it is sent: an unprepared one would go out
//! after its preparation came back, behind the others, out of order. Nothing of ours can fail
//! once a flight is half sent (what could is checked before), and COMMIT goes out only once
//! every other request of the second flight is out: if one of them fails in the server, the
//! transaction is aborted and that COMMIT rolls it back.
//!
//! The transaction is begun and ended by hand (BEGIN and COMMIT are statements of the
//! flights), so its connection leaves the pool for good unless it ended ([`Open`]).
//!
//! There are no savepoints, so an acceptance that fails (a quota, a missing INBOX, any error)
//! aborts the transaction: the committer then runs the batch again the slow way, where that
//! acceptance gets its own precise error and the others go on. A batch whose COMMIT got no
//! answer may have committed: it fails and is never run again. Acceptances with health
//! documents or citizen exchanges always take the slow way (their writes depend on what
//! earlier statements found).

use std::future::poll_fn;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use deadpool_postgres::Object;
use futures_util::future::{try_join_all, try_join3};

use super::accept_job::AcceptJob;
use super::accept_statements::{
    self, add_notifications, add_usage_counts, check_queued, enqueue, lock_mailboxes, send_notices,
};
use super::deliver_batch::{DELIVER_ALL, deliver_all};
use super::{audit, execute, prepare_all, query_one};
use crate::error::{Error, Result};
use crate::model::{Accepted, AuditEvent, FolderChange};

const BEGIN: &str = "BEGIN";
const COMMIT: &str = "COMMIT";
const ROLLBACK: &str = "ROLLBACK";

/// How a pipelined batch ended.
pub(crate) enum Ran {
    /// Committed: each acceptance's deliveries and queue entry, and its folder changes.
    Committed(Vec<(Accepted, Vec<FolderChange>)>),
    /// Nothing written: run the batch again the slow way (the error says what failed).
    RolledBack(Error),
}

/// Writes every acceptance of the batch (all [`AcceptJob::pipelinable`]) and their audit lines `events` in one
/// transaction on `conn`, and commits. `Err`: the batch failed and may have committed (its
/// COMMIT got no answer): never run it again. `conn` is `None` afterwards when the connection
/// was closed rather than returned to the pool.
pub(crate) async fn run(
    conn: &mut Option<Object>,
    node: &str,
    jobs: &[&AcceptJob],
    events: &[&AuditEvent],
) -> Result<Ran> {
    for job in jobs {
        if let Err(e) = check_queued(job) {
            return Ok(Ran::RolledBack(e));
        }
    }
    let Some(client) = conn.as_ref() else {
        return Err(Error::Postgres(
            "accepting: the batch has no connection".to_owned(),
        ));
    };
    let statements = [
        &[BEGIN, COMMIT, ROLLBACK, DELIVER_ALL][..],
        &accept_statements::STATEMENTS,
        &audit::STATEMENTS,
    ]
    .concat();
    if let Err(e) = prepare_all(client, &statements).await {
        return Ok(Ran::RolledBack(e));
    }
    let open = Open {
        conn,
        ended: AtomicBool::new(false),
    };
    let c = open.client()?;

    // Flight 1, run by the server in this order: the mailboxes are locked before anything is
    // written through them; the audit lock is taken last and held until the commit.
    let audit_lines = async {
        match events {
            [] => Ok(None),
            _ => audit::insert_unchained(c, events).await.map(Some),
        }
    };
    let first = tokio::try_join!(
        execute(c, BEGIN, &[]),
        lock_mailboxes(c, jobs),
        deliver_all(c, jobs),
        add_usage_counts(c, jobs),
        add_notifications(c, jobs),
        audit_lines,
    );
    let (_, (), delivered, (), (), unchained) = match first {
        Ok(answers) => answers,
        Err(e) => return Ok(open.roll_back(e).await),
    };
    let first_audit_id = unchained.as_ref().and_then(|u| u.first_id());
    let links = match unchained.map(|u| audit::links(events, u)) {
        None => None,
        Some(Ok(Some(links))) => Some(links),
        // Records nobody chained before ours: read back and linked (two more round trips).
        Some(Ok(None)) => match audit::chain_pending(c).await {
            Ok(()) => None,
            Err(e) => return Ok(open.roll_back(e).await),
        },
        Some(Err(e)) => return Ok(open.roll_back(e).await),
    };

    // Flight 2: what needed the answers of the first, then COMMIT.
    let changes: Vec<Vec<FolderChange>> = delivered
        .iter()
        .map(|d| super::changes_of(d.as_ref().map_or(&[][..], |(list, _)| list)))
        .collect();
    let enqueues = try_join_all(
        jobs.iter()
            .zip(&delivered)
            .map(|(job, d)| enqueue(c, job, d.as_ref().map(|(_, blob)| *blob))),
    );
    let chain = async {
        match &links {
            Some(links) => audit::chain(c, links).await,
            None => Ok(()),
        }
    };
    let (rest, committed) = {
        let mut rest = pin!(try_join3(enqueues, send_notices(c, node, &changes), chain));
        // The first poll sends every request of the flight, unless one failed before its own
        // went out: then no COMMIT may follow.
        match poll_fn(|cx| Poll::Ready(rest.as_mut().poll(cx))).await {
            Poll::Ready(Err(e)) => return Ok(open.roll_back(e).await),
            Poll::Ready(Ok(answers)) => (Ok(answers), execute(c, COMMIT, &[]).await),
            Poll::Pending => tokio::join!(rest, execute(c, COMMIT, &[])),
        }
    };
    match (rest, committed) {
        (Ok((queued, (), ())), Ok(_)) => {
            open.ended.store(true, Ordering::Relaxed);
            Ok(Ran::Committed(
                delivered
                    .into_iter()
                    .zip(queued)
                    .zip(changes)
                    .map(|((d, queued), changes)| {
                        let delivered = d.map(|(list, _)| list).unwrap_or_default();
                        (Accepted { delivered, queued }, changes)
                    })
                    .collect(),
            ))
        }
        // No answer to COMMIT: it may have committed.
        (_, Err(e)) => Err(e),
        // A statement failed in the server, which aborted the transaction: COMMIT rolled it
        // back. (Ours fail only before sending, above.) The batch's first audit line tells.
        (Err(e), Ok(_)) => {
            let kept = match first_audit_id {
                Some(id) => query_one(c, AUDIT_KEPT, &[&id]).await?.get::<_, bool>(0),
                None => true,
            };
            if kept {
                return Err(Error::Postgres(format!(
                    "accepting: the batch committed although a statement failed: {e}"
                )));
            }
            open.ended.store(true, Ordering::Relaxed);
            Ok(Ran::RolledBack(e))
        }
    }
}

/// Whether an audit line exists (committed).
const AUDIT_KEPT: &str = "SELECT EXISTS (SELECT 1 FROM audit WHERE id = $1)";

/// A batch's transaction on a pooled connection, begun and ended by hand. Until it ended,
/// dropping it (an error, a cancelled task) takes the connection out of the pool and closes
/// it: the server rolls the transaction back, and no pooled connection is left inside one.
struct Open<'c> {
    conn: &'c mut Option<Object>,
    ended: AtomicBool,
}

impl Open<'_> {
    fn client(&self) -> Result<&Object> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::Postgres("accepting: the batch has no connection".to_owned()))
    }

    /// Rolls back after `why`; the batch is to run again the slow way. Should ROLLBACK fail,
    /// the connection is closed, which rolls back too (no COMMIT was sent).
    async fn roll_back(&self, why: Error) -> Ran {
        if let Ok(c) = self.client()
            && execute(c, ROLLBACK, &[]).await.is_ok()
        {
            self.ended.store(true, Ordering::Relaxed);
        }
        Ran::RolledBack(why)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.ended.load(Ordering::Relaxed)
            && let Some(conn) = self.conn.take()
        {
            drop(Object::take(conn));
        }
    }
}
