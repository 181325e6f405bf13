//! The outbound queue: entries with their bytes (a blob) and per-recipient status.

use mssd_core::Address;
use rusqlite::{Connection, OptionalExtension, params};

use super::blobs::{assemble, delete_unreferenced_blobs, insert_blob};
use super::connection::DbResult;
use super::convert::{sql_limit, u32_from_i64};
use crate::blob_files::BlobDir;
use crate::error::{Error, Result};
use crate::model::{NewQueued, QueueId, QueueSummary, Queued, QueuedRecipient, RecipientStatus};

/// Queues `q`; with `shared_blob`, the entry references those bytes (already stored by the
/// same acceptance's delivery) instead of its own.
pub(crate) fn enqueue(
    conn: &Connection,
    q: &NewQueued,
    now: i64,
    shared_blob: Option<i64>,
) -> Result<QueueId> {
    let mut recipients: Vec<&QueuedRecipient> = Vec::with_capacity(q.recipients.len());
    for r in &q.recipients {
        if !recipients.iter().any(|seen| seen.address == r.address) {
            recipients.push(r);
        }
    }
    if recipients.is_empty() {
        return Err(Error::invalid("queue entry", "it has no recipient"));
    }
    let blob = match shared_blob {
        Some(blob) => blob,
        None => insert_blob(conn, &q.message, None)?,
    };
    conn.prepare_cached(
        "INSERT INTO queue (sender, blob_id, envelope, created_at, next_attempt) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            q.sender.as_ref().map(Address::as_str),
            blob,
            q.envelope.to_string(),
            now,
            q.next_attempt
        ])
    })
    .db("inserting a queue entry")?;
    let id = conn.last_insert_rowid();
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO queue_recipients (queue_id, position, address, status, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .db("preparing queue recipients")?;
    for (position, r) in recipients.iter().enumerate() {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        insert
            .execute(params![
                id,
                position,
                r.address.as_str(),
                r.status.as_str(),
                r.detail
            ])
            .db("inserting a queue recipient")?;
    }
    Ok(QueueId(id))
}

const ENTRY_COLUMNS: &str = "q.id, q.sender, q.envelope, q.created_at, q.next_attempt, \
                             q.attempts, q.last_error, b.sha256, b.bytes, b.file, b.size";

pub(crate) fn all(conn: &Connection, blobs: &BlobDir) -> Result<Vec<Queued>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM queue q JOIN blobs b ON b.id = q.blob_id ORDER BY q.id"
    );
    load(conn, blobs, &sql, params![])
}

pub(crate) fn due(
    conn: &Connection,
    blobs: &BlobDir,
    now: i64,
    limit: usize,
) -> Result<Vec<Queued>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM queue q JOIN blobs b ON b.id = q.blob_id \
         WHERE q.next_attempt IS NOT NULL AND q.next_attempt <= ?1 \
         ORDER BY q.next_attempt, q.id LIMIT ?2"
    );
    load(conn, blobs, &sql, params![now, sql_limit(limit)])
}

/// Claims (in the writer's transaction) the entries due at `now`: moves them to
/// `next_attempt = lease_until` and returns their ids, in `due`'s order. Their bytes are read
/// afterwards by [`by_ids`], off the writer thread (a large body is a file read).
pub(crate) fn claim_due(
    conn: &Connection,
    now: i64,
    lease_until: i64,
    limit: usize,
) -> Result<Vec<QueueId>> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM queue WHERE next_attempt IS NOT NULL AND next_attempt <= ?1 \
             ORDER BY next_attempt, id LIMIT ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![now, sql_limit(limit)], |r| r.get(0))?
                .collect()
        })
        .db("selecting due queue entries")?;
    let mut lease = conn
        .prepare_cached("UPDATE queue SET next_attempt = ?2, lease_until = ?2 WHERE id = ?1")
        .db("preparing a queue lease")?;
    for id in &ids {
        lease
            .execute(params![id, lease_until])
            .db("leasing a queue entry")?;
    }
    Ok(ids.into_iter().map(QueueId).collect())
}

/// Claims entry `id` whatever its schedule, unless a lease still runs at `now` (false).
pub(crate) fn claim_entry(
    conn: &Connection,
    id: QueueId,
    now: i64,
    lease_until: i64,
) -> Result<bool> {
    let lease: Option<i64> = conn
        .prepare_cached("SELECT lease_until FROM queue WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([id.0], |r| r.get(0)).optional())
        .db("reading a queue lease")?
        .ok_or_else(|| Error::not_found(format!("queue entry {}", id.0)))?;
    if lease.is_some_and(|until| until > now) {
        return Ok(false);
    }
    conn.prepare_cached("UPDATE queue SET next_attempt = ?2, lease_until = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![id.0, lease_until]))
        .db("leasing a queue entry")?;
    Ok(true)
}

/// The entries `ids`, in that order; those gone meanwhile (removed by an operator) are left out.
pub(crate) fn by_ids(conn: &Connection, blobs: &BlobDir, ids: &[QueueId]) -> Result<Vec<Queued>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM queue q JOIN blobs b ON b.id = q.blob_id WHERE q.id = ?1"
    );
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.extend(load(conn, blobs, &sql, params![id.0])?);
    }
    Ok(out)
}

/// Settles an attempt, which ends its lease.
pub(crate) fn record_attempt(
    conn: &Connection,
    id: QueueId,
    next_attempt: Option<i64>,
    last_error: Option<&str>,
) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE queue SET attempts = attempts + 1, next_attempt = ?2, last_error = ?3, \
             lease_until = NULL WHERE id = ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![id.0, next_attempt, last_error]))
        .db("recording a delivery attempt")?;
    if changed == 0 {
        return Err(Error::not_found(format!("queue entry {}", id.0)));
    }
    Ok(())
}

pub(crate) fn set_recipient_status(
    conn: &Connection,
    id: QueueId,
    recipient: &Address,
    status: RecipientStatus,
    detail: Option<&str>,
) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE queue_recipients SET status = ?3, detail = ?4 \
             WHERE queue_id = ?1 AND address = ?2",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![id.0, recipient.as_str(), status.as_str(), detail])
        })
        .db("updating a queue recipient")?;
    if changed == 0 {
        return Err(Error::not_found(format!(
            "recipient of queue entry {}",
            id.0
        )));
    }
    Ok(())
}

pub(crate) fn dequeue(conn: &Connection, id: QueueId) -> Result<()> {
    let blob: i64 = conn
        .prepare_cached("DELETE FROM queue WHERE id = ?1 RETURNING blob_id")
        .and_then(|mut stmt| stmt.query_row([id.0], |r| r.get(0)).optional())
        .db("deleting a queue entry")?
        .ok_or_else(|| Error::not_found(format!("queue entry {}", id.0)))?;
    delete_unreferenced_blobs(conn, &[blob])
}

/// Never before a running lease ends: bringing a held entry forward would let another runner
/// send it while its holder still is.
pub(crate) fn reschedule(conn: &Connection, id: QueueId, next_attempt: i64) -> Result<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE queue SET next_attempt = max(?2, coalesce(lease_until, ?2)) WHERE id = ?1",
        )
        .and_then(|mut stmt| stmt.execute(params![id.0, next_attempt]))
        .db("rescheduling a queue entry")?;
    if changed == 0 {
        return Err(Error::not_found(format!("queue entry {}", id.0)));
    }
    Ok(())
}

pub(crate) fn summary(conn: &Connection) -> Result<QueueSummary> {
    let (depth, oldest): (i64, Option<i64>) = conn
        .prepare_cached("SELECT count(*), min(created_at) FROM queue")
        .and_then(|mut stmt| stmt.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
        .db("summarising the queue")?;
    Ok(QueueSummary {
        depth: u64::try_from(depth).unwrap_or(0),
        oldest_created_at: oldest,
    })
}

struct RawEntry {
    id: i64,
    sender: Option<String>,
    envelope: String,
    created_at: i64,
    next_attempt: Option<i64>,
    attempts: i64,
    last_error: Option<String>,
    sha256: String,
    message: Vec<u8>,
    file: Option<String>,
    size: i64,
}

fn load(
    conn: &Connection,
    blobs: &BlobDir,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Queued>> {
    let raws: Vec<RawEntry> = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.query_map(params, |r| {
                Ok(RawEntry {
                    id: r.get(0)?,
                    sender: r.get(1)?,
                    envelope: r.get(2)?,
                    created_at: r.get(3)?,
                    next_attempt: r.get(4)?,
                    attempts: r.get(5)?,
                    last_error: r.get(6)?,
                    sha256: r.get(7)?,
                    message: r.get(8)?,
                    file: r.get(9)?,
                    size: r.get(10)?,
                })
            })?
            .collect()
        })
        .db("reading the queue")?;
    raws.into_iter()
        .map(|raw| into_queued(conn, blobs, raw))
        .collect()
}

fn into_queued(conn: &Connection, blobs: &BlobDir, raw: RawEntry) -> Result<Queued> {
    let corrupt = |detail: String| Error::corrupt("queue", format!("entry {}: {detail}", raw.id));
    let sender = raw
        .sender
        .as_deref()
        .map(Address::parse)
        .transpose()
        .map_err(|_| corrupt("unreadable sender".to_owned()))?;
    let envelope = serde_json::from_str(&raw.envelope)
        .map_err(|e| corrupt(format!("envelope is not JSON: {e}")))?;
    Ok(Queued {
        id: QueueId(raw.id),
        sender,
        recipients: recipients(conn, raw.id)?,
        message: assemble(blobs, raw.message, raw.file, raw.size)?,
        sha256: raw.sha256,
        envelope,
        created_at: raw.created_at,
        next_attempt: raw.next_attempt,
        attempts: u32_from_i64(raw.attempts, "queue", "attempts")?,
        last_error: raw.last_error,
    })
}

fn recipients(conn: &Connection, id: i64) -> Result<Vec<QueuedRecipient>> {
    let rows: Vec<(String, String, Option<String>)> = conn
        .prepare_cached(
            "SELECT address, status, detail FROM queue_recipients \
             WHERE queue_id = ?1 ORDER BY position",
        )
        .and_then(|mut stmt| {
            stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .db("reading queue recipients")?;
    rows.into_iter()
        .map(|(address, status, detail)| {
            let corrupt =
                |what: &str| Error::corrupt("queue_recipients", format!("entry {id}: {what}"));
            Ok(QueuedRecipient {
                address: Address::parse(&address).map_err(|_| corrupt("unreadable address"))?,
                status: RecipientStatus::parse(&status).ok_or_else(|| corrupt("unknown status"))?,
                detail,
            })
        })
        .collect()
}
