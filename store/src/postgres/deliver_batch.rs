//! Every local delivery of a pipelined batch of acceptances ([`super::accept_pipelined`]) in
//! ONE statement.
//!
//! One statement per message still cost the server a whole statement's work for each (six
//! CTEs planned, started and ended, their relations locked, a 10 KB parameter bound): about
//! 0.4 ms a message on 2 cores, most of a batch's time. Here the batch's messages and their
//! recipients come as arrays and are written as rows of one statement:
//!
//! - every recipient must exist and have room for all the batch brings it (the sum of its
//!   messages' sizes), or nothing is written at all and the statement returns no row; the
//!   batch then runs again acceptance by acceptance, where each message gets its own verdict;
//! - each message's bytes are stored once (ids taken from the blobs' sequence beforehand, so
//!   that each message knows its blob whatever order the rows are inserted in);
//! - each recipient's INBOX gives `k` UIDs and modseqs in one update (`k` its messages in the
//!   batch), handed out in the order of the batch, as `k` deliveries one after the other would;
//! - the folder entries and the mailboxes' usage follow.
//!
//! All CTEs see one snapshot and each row changes once (the batch locked the mailboxes).

use super::accept_job::AcceptJob;
use deadpool_postgres::GenericClient;

use super::{messages, query, u32_of, u64_of};
use crate::error::{Error, Result};
use crate::model::{Delivered, FolderId, MailboxId};
use crate::sqlite::folders::INBOX;

/// $1–$5: the messages (digest, size, bytes, summary, internal date), numbered from 1 in
/// order; $6–$7: the recipients (message number, mailbox), distinct per message; $8: INBOX.
pub(crate) const DELIVER_ALL: &str = "WITH \
     input AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], \
       $5::bigint[]) WITH ORDINALITY AS x(sha256, size, bytes, summary, internal_date, n)), \
     rcpt AS (SELECT * FROM unnest($6::bigint[], $7::bigint[]) AS r(n, mailbox_id)), \
     need AS (SELECT r.mailbox_id, sum(i.size)::bigint AS bytes, count(*) AS k \
       FROM rcpt r JOIN input i USING (n) GROUP BY r.mailbox_id), \
     room AS (SELECT count(*) = (SELECT count(*) FROM need) \
         AND bool_and(m.quota_bytes IS NULL OR m.used_bytes + need.bytes <= m.quota_bytes) AS ok \
       FROM need JOIN mailboxes m ON m.id = need.mailbox_id), \
     ids AS (SELECT i.n, nextval(pg_get_serial_sequence('blobs', 'id')) AS blob_id \
       FROM input i, room WHERE room.ok), \
     b AS (INSERT INTO blobs (id, sha256, size, bytes) OVERRIDING SYSTEM VALUE \
       SELECT ids.blob_id, i.sha256, i.size, i.bytes FROM ids JOIN input i USING (n)), \
     s AS (INSERT INTO blob_summaries (blob_id, summary) \
       SELECT ids.blob_id, i.summary FROM ids JOIN input i USING (n) \
       WHERE i.summary IS NOT NULL), \
     f AS (UPDATE folders SET uid_next = folders.uid_next + need.k, \
         highest_modseq = folders.highest_modseq + need.k \
       FROM need WHERE folders.mailbox_id = need.mailbox_id AND folders.name = $8 \
         AND EXISTS (SELECT 1 FROM ids) \
       RETURNING folders.mailbox_id, folders.id AS folder_id, \
         folders.uid_next - need.k AS first_uid, folders.highest_modseq - need.k AS modseq_before), \
     e AS (SELECT r.n, f.mailbox_id, f.folder_id, f.first_uid + row_number() OVER w - 1 AS uid, \
         f.modseq_before + row_number() OVER w AS modseq \
       FROM f JOIN rcpt r USING (mailbox_id) \
       WINDOW w AS (PARTITION BY f.mailbox_id ORDER BY r.n)), \
     m AS (INSERT INTO messages (mailbox_id, folder_id, uid, modseq, blob_id, size, sha256, \
         flags, seen, internal_date) \
       SELECT e.mailbox_id, e.folder_id, e.uid, e.modseq, ids.blob_id, i.size, i.sha256, '{}', \
         FALSE, i.internal_date \
       FROM e JOIN ids USING (n) JOIN input i USING (n)), \
     u AS (UPDATE mailboxes SET used_bytes = mailboxes.used_bytes + need.bytes, \
         used_messages = mailboxes.used_messages + need.k \
       FROM need WHERE mailboxes.id = need.mailbox_id \
         AND need.mailbox_id IN (SELECT mailbox_id FROM f)) \
     SELECT e.n, e.mailbox_id, e.folder_id, e.uid, e.modseq, ids.blob_id \
     FROM e JOIN ids USING (n)";

/// A job's local deliveries (in its recipients' order) and the blob they share.
pub(crate) type BatchDelivery = Option<(Vec<Delivered>, i64)>;

/// Writes the local deliveries of `jobs` (one entry per job, `None` for a job without one).
/// `Err` when any recipient is missing, lacks room or has no INBOX: nothing was written, and
/// the caller runs the batch again the slow way.
pub(crate) async fn deliver_all<C: GenericClient>(
    c: &C,
    jobs: &[&AcceptJob],
) -> Result<Vec<BatchDelivery>> {
    let mut input = Columns::default();
    // Per job: its number in `input` (from 1) and its distinct recipients.
    let mut numbered: Vec<Option<(i64, Vec<i64>)>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let (Some(spec), Some(message)) = (&job.acceptance.delivery, &job.delivery) else {
            numbered.push(None);
            continue;
        };
        let distinct: Vec<i64> = messages::distinct_recipients(&spec.recipients)?
            .iter()
            .map(|m| m.0)
            .collect();
        input.sha256.push(message.sha256.as_str());
        input
            .size
            .push(i64::try_from(message.size()).unwrap_or(i64::MAX));
        input.bytes.push(&message.bytes);
        input.summary.push(message.summary.as_deref());
        input.internal_date.push(spec.internal_date);
        let n = i64::try_from(input.sha256.len()).unwrap_or(i64::MAX);
        for id in &distinct {
            input.recipient_of.push(n);
            input.recipient.push(*id);
        }
        numbered.push(Some((n, distinct)));
    }
    if input.sha256.is_empty() {
        return Ok(numbered.into_iter().map(|_| None).collect());
    }
    let rows = query(
        c,
        DELIVER_ALL,
        &[
            &input.sha256,
            &input.size,
            &input.bytes,
            &input.summary,
            &input.internal_date,
            &input.recipient_of,
            &input.recipient,
            &INBOX,
        ],
    )
    .await?;
    if rows.len() != input.recipient.len() {
        // A recipient missing, without room or without INBOX: the slow way says which.
        return Err(Error::invalid(
            "delivery",
            "a recipient cannot take it (the batch runs again acceptance by acceptance)",
        ));
    }
    let entries = rows
        .iter()
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1), r))
        .collect::<Vec<_>>();
    numbered
        .into_iter()
        .map(|job| {
            let Some((n, distinct)) = job else {
                return Ok(None);
            };
            let mut delivered = Vec::with_capacity(distinct.len());
            let mut blob = None;
            for id in distinct {
                let (_, _, row) = entries
                    .iter()
                    .find(|(number, mailbox, _)| *number == n && *mailbox == id)
                    .ok_or_else(|| Error::invalid("delivery", "a recipient got no folder entry"))?;
                blob = Some(row.get::<_, i64>(5));
                delivered.push(Delivered {
                    mailbox: MailboxId(id),
                    folder: FolderId(row.get(2)),
                    uid: u32_of(row.get(3), "folders", "uid_next")?,
                    modseq: u64_of(row.get(4), "folders", "highest_modseq")?,
                });
            }
            Ok(blob.map(|blob| (delivered, blob)))
        })
        .collect()
}

/// The statement's parameters, as columns.
#[derive(Default)]
struct Columns<'a> {
    sha256: Vec<&'a str>,
    size: Vec<i64>,
    bytes: Vec<&'a [u8]>,
    summary: Vec<Option<&'a [u8]>>,
    internal_date: Vec<i64>,
    recipient_of: Vec<i64>,
    recipient: Vec<i64>,
}
