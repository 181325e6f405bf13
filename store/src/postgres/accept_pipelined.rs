//! The fast path of a batch of acceptances ([`super::group_commit`]): a few statements per
//! acceptance, all sent without waiting for one another's answers.
//!
//! Run acceptance by acceptance, each under its own savepoint, a message cost about ten round
//! trips to the database, one after the other; the committer of a busy mailbox spent its time
//! waiting for them. Here:
//!
//! - a local delivery is ONE statement (data-modifying CTEs): the quota of every recipient
//!   checked, the bytes stored once, a UID taken in each recipient's INBOX, the folder entries
//!   and the usage written — or, when a recipient lacks room or has no INBOX, nothing at all;
//! - a queue entry is one statement (its bytes, the entry, its recipients);
//! - the usage counters, the citizen notifications and the change notices of the whole batch
//!   are one statement each;
//! - the statements of the whole batch go out pipelined: tokio-postgres sends the requests of
//!   futures polled together without waiting, and the server runs them in the order sent.
//!
//! There are no savepoints, so an acceptance that fails (a quota, a missing INBOX, any error)
//! aborts the transaction: the committer then rolls it back and runs the batch again the slow
//! way, where that acceptance gets its own precise error and the others go on. Acceptances
//! with health documents or citizen exchanges always take the slow way (their writes depend on
//! what earlier statements found).
//!
//! What these statements write is what `messages::deliver`, `queue::enqueue`,
//! `small::add_usage_counts`, `small::add_notifications` and `notify::send` write one statement
//! at a time; the store's contract tests go through both ways.

use futures_util::future::try_join_all;
use tokio_postgres::types::ToSql;

use super::blobs::Ready;
use super::notify::CHANNEL;
use super::{Tx, execute, messages, query, query_one, u32_of, u64_of};
use crate::error::{Error, Result};
use crate::model::{Acceptance, Accepted, Delivered, FolderChange, MailboxId, NewQueued, QueueId};
use crate::sqlite::folders::INBOX;
use crate::sqlite::indicators::month_of;

/// An acceptance with its message bodies read and digested (outside any transaction).
pub(crate) struct AcceptJob {
    pub acceptance: Acceptance,
    pub delivery: Option<Ready>,
    pub queued: Option<Ready>,
    pub now: i64,
}

impl AcceptJob {
    /// Bytes in memory, to bound a batch.
    pub(crate) fn weight(&self) -> usize {
        let size = |r: &Option<Ready>| r.as_ref().map_or(0, |r| r.bytes.len());
        size(&self.delivery) + size(&self.queued)
    }
}

/// Whether `job` can take the fast path.
pub(crate) fn eligible(job: &AcceptJob) -> bool {
    let a = &job.acceptance;
    a.exchanges.is_empty() && a.delivery.as_ref().is_none_or(|d| d.documents.is_empty())
}

/// Writes every acceptance of the batch (all `eligible`) in `tx`, audit lines excepted.
/// `Err` means the transaction is unusable: roll it back and take the slow way.
pub(crate) async fn stage(
    tx: &Tx<'_>,
    node: &str,
    jobs: &[&AcceptJob],
) -> Result<Vec<(Accepted, Vec<FolderChange>)>> {
    // Round 1: the deliveries (their blob may be shared by the queue entry).
    let delivered = try_join_all(jobs.iter().map(|job| deliver(tx, job))).await?;
    // Round 2: everything else, for the whole batch.
    let changes: Vec<Vec<FolderChange>> = delivered
        .iter()
        .map(|d| super::changes_of(d.as_ref().map_or(&[][..], |(list, _)| list)))
        .collect();
    let enqueues = try_join_all(
        jobs.iter()
            .zip(&delivered)
            .map(|(job, d)| enqueue(tx, job, d.as_ref().map(|(_, blob)| *blob))),
    );
    let (queued, (), (), ()) = tokio::try_join!(
        enqueues,
        add_usage_counts(tx, jobs),
        add_notifications(tx, jobs),
        send_notices(tx, node, &changes),
    )?;
    Ok(delivered
        .into_iter()
        .zip(queued)
        .zip(changes)
        .map(|((d, queued), changes)| {
            let delivered = d.map(|(list, _)| list).unwrap_or_default();
            (Accepted { delivered, queued }, changes)
        })
        .collect())
}

/// The job's local delivery in one statement: its folder entries and the blob they share.
async fn deliver(tx: &Tx<'_>, job: &AcceptJob) -> Result<Option<(Vec<Delivered>, i64)>> {
    let (Some(spec), Some(message)) = (&job.acceptance.delivery, &job.delivery) else {
        return Ok(None);
    };
    let distinct: Vec<i64> = messages::distinct_recipients(&spec.recipients)?
        .iter()
        .map(|m| m.0)
        .collect();
    let size = i64::try_from(message.size()).unwrap_or(i64::MAX);
    // `room` reads every recipient (locked by the batch); unless all exist and have room, `b`
    // inserts nothing and every later step follows it. All CTEs see one snapshot and each row
    // is changed once.
    let rows = query(
        tx,
        "WITH room AS ( \
           SELECT count(*) = cardinality($1::bigint[]) \
                  AND bool_and(quota_bytes IS NULL OR used_bytes + $3 <= quota_bytes) AS ok \
           FROM mailboxes WHERE id = ANY($1)), \
         b AS (INSERT INTO blobs (sha256, size, bytes) SELECT $2, $3, $4 FROM room WHERE ok \
           RETURNING id), \
         s AS (INSERT INTO blob_summaries (blob_id, summary) SELECT id, $5 FROM b \
           WHERE $5::bytea IS NOT NULL), \
         f AS (UPDATE folders SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 \
           WHERE mailbox_id = ANY($1) AND name = $6 AND EXISTS (SELECT 1 FROM b) \
           RETURNING mailbox_id, id, uid_next - 1 AS uid, highest_modseq), \
         m AS (INSERT INTO messages (mailbox_id, folder_id, uid, modseq, blob_id, size, sha256, \
           flags, seen, internal_date) \
           SELECT f.mailbox_id, f.id, f.uid, f.highest_modseq, b.id, $3, $2, '{}', FALSE, $7 \
           FROM f, b), \
         u AS (UPDATE mailboxes SET used_bytes = used_bytes + $3, \
           used_messages = used_messages + 1 WHERE id IN (SELECT mailbox_id FROM f)) \
         SELECT b.id, f.mailbox_id, f.id, f.uid, f.highest_modseq FROM f, b",
        &[
            &distinct,
            &message.sha256,
            &size,
            &message.bytes,
            &message.summary,
            &INBOX,
            &spec.internal_date,
        ],
    )
    .await?;
    if rows.len() != distinct.len() {
        // A recipient missing, without room or without INBOX: the slow way says which.
        return Err(Error::invalid(
            "delivery",
            "a recipient cannot take it (the batch runs again acceptance by acceptance)",
        ));
    }
    let blob: i64 = rows[0].get(0);
    let mut delivered = Vec::with_capacity(rows.len());
    // In the recipients' order, as the slow way answers.
    for id in distinct {
        let row = rows
            .iter()
            .find(|r| r.get::<_, i64>(1) == id)
            .ok_or_else(|| Error::invalid("delivery", "a recipient got no folder entry"))?;
        delivered.push(Delivered {
            mailbox: MailboxId(id),
            folder: crate::model::FolderId(row.get(2)),
            uid: u32_of(row.get(3), "folders", "uid_next")?,
            modseq: u64_of(row.get(4), "folders", "highest_modseq")?,
        });
    }
    Ok(Some((delivered, blob)))
}

/// The recipients of the entry `q` inserted ($1 to $4: positions, addresses, statuses, details).
macro_rules! queue_recipients {
    () => {
        "r AS (INSERT INTO queue_recipients (queue_id, position, address, status, detail) \
         SELECT q.id, x.p, x.a, x.s, x.d FROM q, \
         unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS x(p, a, s, d))"
    };
}

/// A queue entry on the delivery's blob ($9).
const ENQUEUE_SHARED: &str = concat!(
    "WITH q AS (INSERT INTO queue (sender, blob_id, envelope, created_at, next_attempt) \
     VALUES ($5, $9, CAST($6::text AS jsonb), $7, $8) RETURNING id), ",
    queue_recipients!(),
    " SELECT id FROM q"
);

/// A queue entry with its own bytes ($9 to $12: digest, size, bytes, summary).
const ENQUEUE_OWN: &str = concat!(
    "WITH b AS (INSERT INTO blobs (sha256, size, bytes) VALUES ($9, $10, $11) RETURNING id), \
     s AS (INSERT INTO blob_summaries (blob_id, summary) SELECT id, $12 FROM b \
       WHERE $12::bytea IS NOT NULL), \
     q AS (INSERT INTO queue (sender, blob_id, envelope, created_at, next_attempt) \
       SELECT $5, b.id, CAST($6::text AS jsonb), $7, $8 FROM b RETURNING id), ",
    queue_recipients!(),
    " SELECT id FROM q"
);

/// The job's queue entry, sharing the delivery's blob unless it has bytes of its own.
async fn enqueue(tx: &Tx<'_>, job: &AcceptJob, delivered: Option<i64>) -> Result<Option<QueueId>> {
    let Some(q) = &job.acceptance.queued else {
        return Ok(None);
    };
    let own = job.queued.as_ref().filter(|m| !m.is_empty());
    let (positions, addresses, statuses, details) = recipients_of(q);
    if positions.is_empty() {
        return Err(Error::invalid("queue entry", "it has no recipient"));
    }
    let sender = q.sender.as_ref().map(mssd_core::Address::as_str);
    let envelope = q.envelope.to_string();
    // Bytes of its own (`own`) win; otherwise the delivery's blob; otherwise whatever bytes
    // came (an empty message), as `queue::enqueue` does.
    // $1 to $8, the same in both statements.
    let common: [&(dyn ToSql + Sync); 8] = [
        &positions,
        &addresses,
        &statuses,
        &details,
        &sender,
        &envelope,
        &job.now,
        &q.next_attempt,
    ];
    let row = match (own, delivered, job.queued.as_ref()) {
        (None, Some(blob), _) => {
            query_one(tx, ENQUEUE_SHARED, &[&common[..], &[&blob]].concat()).await?
        }
        (_, _, Some(message)) => {
            let size = i64::try_from(message.size()).unwrap_or(i64::MAX);
            query_one(
                tx,
                ENQUEUE_OWN,
                &[
                    &common[..],
                    &[&message.sha256, &size, &message.bytes, &message.summary],
                ]
                .concat(),
            )
            .await?
        }
        (_, _, None) => return Err(Error::invalid("queue entry", "it has no message")),
    };
    Ok(Some(QueueId(row.get(0))))
}

/// The entry's distinct recipients (first occurrence kept), as columns.
type RecipientColumns<'a> = (Vec<i32>, Vec<&'a str>, Vec<&'a str>, Vec<Option<&'a str>>);

fn recipients_of(q: &NewQueued) -> RecipientColumns<'_> {
    let mut columns: RecipientColumns<'_> = Default::default();
    for r in &q.recipients {
        if columns.1.contains(&r.address.as_str()) {
            continue;
        }
        columns
            .0
            .push(i32::try_from(columns.0.len()).unwrap_or(i32::MAX));
        columns.1.push(r.address.as_str());
        columns.2.push(r.status.as_str());
        columns.3.push(r.detail.as_deref());
    }
    columns
}

/// A usage counter row: month, mailbox, direction.
type CounterKey<'a> = (String, &'a str, &'a str);

/// The batch's usage counters (messages, XDM messages, documents, qualified INS), summed per
/// (month, mailbox, direction): one upsert.
async fn add_usage_counts(tx: &Tx<'_>, jobs: &[&AcceptJob]) -> Result<()> {
    let mut sums: Vec<(CounterKey<'_>, [i64; 4])> = Vec::new();
    for job in jobs {
        let month = month_of(job.now);
        for c in &job.acceptance.usage {
            let key = (month.clone(), c.mailbox.as_str(), c.direction.as_str());
            let add = [
                1,
                i64::from(c.xdm),
                i64::from(c.documents),
                i64::from(c.qualified_ins),
            ];
            match sums.iter_mut().find(|(k, _)| *k == key) {
                Some((_, sum)) => sum.iter_mut().zip(add).for_each(|(s, a)| *s += a),
                None => sums.push((key, add)),
            }
        }
    }
    if sums.is_empty() {
        return Ok(());
    }
    let column = |i: usize| sums.iter().map(|(_, s)| s[i]).collect::<Vec<i64>>();
    let months: Vec<&str> = sums.iter().map(|((m, _, _), _)| m.as_str()).collect();
    let mailboxes: Vec<&str> = sums.iter().map(|((_, m, _), _)| *m).collect();
    let directions: Vec<&str> = sums.iter().map(|((_, _, d), _)| *d).collect();
    execute(
        tx,
        "INSERT INTO usage_indicators (month, mailbox, direction, messages, xdm_messages, \
         documents, qualified_ins) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], \
         $6::bigint[], $7::bigint[]) \
         ON CONFLICT (month, mailbox, direction) DO UPDATE SET \
         messages = usage_indicators.messages + EXCLUDED.messages, \
         xdm_messages = usage_indicators.xdm_messages + EXCLUDED.xdm_messages, \
         documents = usage_indicators.documents + EXCLUDED.documents, \
         qualified_ins = usage_indicators.qualified_ins + EXCLUDED.qualified_ins",
        &[
            &months,
            &mailboxes,
            &directions,
            &column(0),
            &column(1),
            &column(2),
            &column(3),
        ],
    )
    .await?;
    Ok(())
}

/// The batch's citizen notifications (one row per mailbox named by an acceptance).
async fn add_notifications(tx: &Tx<'_>, jobs: &[&AcceptJob]) -> Result<()> {
    let (mut mailboxes, mut at): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for job in jobs {
        for m in &job.acceptance.notify {
            mailboxes.push(m.0);
            at.push(job.now);
        }
    }
    if mailboxes.is_empty() {
        return Ok(());
    }
    execute(
        tx,
        "INSERT INTO notifications (mailbox_id, new_messages, next_at, created_at) \
         SELECT m, 1, t, t FROM unnest($1::bigint[], $2::bigint[]) AS x(m, t)",
        &[&mailboxes, &at],
    )
    .await?;
    Ok(())
}

/// The batch's change notices to the other nodes (sent by PostgreSQL at COMMIT).
async fn send_notices(tx: &Tx<'_>, node: &str, changes: &[Vec<FolderChange>]) -> Result<()> {
    let payloads: Vec<String> = changes
        .iter()
        .flatten()
        .map(|c| super::notify::payload(node, c))
        .collect();
    if payloads.is_empty() {
        return Ok(());
    }
    execute(
        tx,
        "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
        &[&CHANNEL, &payloads],
    )
    .await?;
    Ok(())
}
