//! The statements of a pipelined batch of acceptances ([`super::accept_pipelined`]) but its
//! deliveries ([`super::deliver_batch`]) and audit lines ([`super::audit`]): the mailboxes
//! locked, the queue entries, the usage counters, the citizen notifications and the change
//! notices. Each sends its request when first polled (its statement prepared beforehand), so
//! that futures polled together go out together, in order.
//!
//! What they write is what `queue::enqueue`, `small::add_usage_counts`,
//! `small::add_notifications` and `notify::send` write one statement at a time; the store's
//! contract tests go through both ways.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::accept_job::AcceptJob;
use super::notify::CHANNEL;
use super::{execute, query, query_one};
use crate::error::{Error, Result};
use crate::model::{FolderChange, NewQueued, QueueId};
use crate::sqlite::indicators::month_of;

/// Every statement here, to prepare before a flight.
pub(crate) const STATEMENTS: [&str; 6] = [
    LOCK_MAILBOXES,
    ADD_USAGE_COUNTS,
    ADD_NOTIFICATIONS,
    SEND_NOTICES,
    ENQUEUE_SHARED,
    ENQUEUE_OWN,
];

const LOCK_MAILBOXES: &str =
    "SELECT id FROM mailboxes WHERE id = ANY($1) OR address = ANY($2) ORDER BY id FOR UPDATE";

/// Locks every mailbox row the batch writes through (recipients, notified mailboxes, and those
/// whose usage counters and citizen exchanges it upserts, found by address), in id order, in
/// one statement: two batches sharing a mailbox then wait for each other instead of
/// deadlocking on the rows they upsert.
pub(crate) async fn lock_mailboxes<C: GenericClient>(c: &C, jobs: &[&AcceptJob]) -> Result<()> {
    let mut ids: Vec<i64> = Vec::new();
    let mut addresses: Vec<&str> = Vec::new();
    for job in jobs {
        let a = &job.acceptance;
        if let Some(d) = &a.delivery {
            ids.extend(d.recipients.iter().map(|m| m.0));
        }
        ids.extend(a.notify.iter().map(|m| m.0));
        addresses.extend(a.usage.iter().map(|u| u.mailbox.as_str()));
        for e in &a.exchanges {
            addresses.push(e.professional.as_str());
            addresses.push(e.citizen.as_str());
        }
    }
    ids.sort_unstable();
    ids.dedup();
    addresses.sort_unstable();
    addresses.dedup();
    if ids.is_empty() && addresses.is_empty() {
        return Ok(());
    }
    // A row missing here is reported by the acceptance that names it.
    query(c, LOCK_MAILBOXES, &[&ids, &addresses]).await?;
    Ok(())
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
pub(crate) async fn enqueue<C: GenericClient>(
    c: &C,
    job: &AcceptJob,
    delivered: Option<i64>,
) -> Result<Option<QueueId>> {
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
            query_one(c, ENQUEUE_SHARED, &[&common[..], &[&blob]].concat()).await?
        }
        (_, _, Some(message)) => {
            let size = i64::try_from(message.size()).unwrap_or(i64::MAX);
            query_one(
                c,
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

/// Whether the job's queue entry (if any) can be written by [`enqueue`] without an error of
/// ours: checked before a flight is sent, which must not stop half-sent.
pub(crate) fn check_queued(job: &AcceptJob) -> Result<()> {
    let Some(q) = &job.acceptance.queued else {
        return Ok(());
    };
    if q.recipients.is_empty() {
        return Err(Error::invalid("queue entry", "it has no recipient"));
    }
    let delivered = job.acceptance.delivery.is_some() && job.delivery.is_some();
    if job.queued.is_none() && !delivered {
        return Err(Error::invalid("queue entry", "it has no message"));
    }
    Ok(())
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

const ADD_USAGE_COUNTS: &str = "INSERT INTO usage_indicators (month, mailbox, direction, messages, xdm_messages, \
     documents, qualified_ins) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], \
     $6::bigint[], $7::bigint[]) \
     ON CONFLICT (month, mailbox, direction) DO UPDATE SET \
     messages = usage_indicators.messages + EXCLUDED.messages, \
     xdm_messages = usage_indicators.xdm_messages + EXCLUDED.xdm_messages, \
     documents = usage_indicators.documents + EXCLUDED.documents, \
     qualified_ins = usage_indicators.qualified_ins + EXCLUDED.qualified_ins";

/// A usage counter row: month, mailbox, direction.
type CounterKey<'a> = (String, &'a str, &'a str);

/// The batch's usage counters (messages, XDM messages, documents, qualified INS), summed per
/// (month, mailbox, direction): one upsert.
pub(crate) async fn add_usage_counts<C: GenericClient>(c: &C, jobs: &[&AcceptJob]) -> Result<()> {
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
        c,
        ADD_USAGE_COUNTS,
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

const ADD_NOTIFICATIONS: &str = "INSERT INTO notifications (mailbox_id, new_messages, next_at, created_at) \
     SELECT m, 1, t, t FROM unnest($1::bigint[], $2::bigint[]) AS x(m, t)";

/// The batch's citizen notifications (one row per mailbox named by an acceptance).
pub(crate) async fn add_notifications<C: GenericClient>(c: &C, jobs: &[&AcceptJob]) -> Result<()> {
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
    execute(c, ADD_NOTIFICATIONS, &[&mailboxes, &at]).await?;
    Ok(())
}

const SEND_NOTICES: &str = "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p";

/// The batch's change notices to the other nodes (sent by PostgreSQL at COMMIT).
pub(crate) async fn send_notices<C: GenericClient>(
    c: &C,
    node: &str,
    changes: &[Vec<FolderChange>],
) -> Result<()> {
    let payloads: Vec<String> = changes
        .iter()
        .flatten()
        .map(|c| super::notify::payload(node, c))
        .collect();
    if payloads.is_empty() {
        return Ok(());
    }
    execute(c, SEND_NOTICES, &[&CHANNEL, &payloads]).await?;
    Ok(())
}
