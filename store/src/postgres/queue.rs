//! The outbound queue: entries with their bytes (a blob) and per-recipient status.

use mssd_core::Address;
use tokio_postgres::Row;

use super::blobs::{Ready, delete_unreferenced, store_bytes, whole};
use super::{Params, Tx, execute, query, query_one, query_opt, sql_limit, u32_of};
use crate::error::{Error, Result};
use crate::model::{NewQueued, QueueId, QueueSummary, Queued, QueuedRecipient, RecipientStatus};

/// Queues `q` (whose bytes are `message`); with `shared_blob`, the entry references those
/// bytes (stored by the same acceptance's delivery) instead.
pub(crate) async fn enqueue(
    tx: &Tx<'_>,
    q: &NewQueued,
    message: Option<&Ready>,
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
    let blob = match (shared_blob, message) {
        (Some(blob), _) => blob,
        (None, Some(message)) => store_bytes(tx, message).await?,
        (None, None) => return Err(Error::invalid("queue entry", "it has no message")),
    };
    let id: i64 = query_one(
        tx,
        "INSERT INTO queue (sender, blob_id, envelope, created_at, next_attempt) \
         VALUES ($1, $2, CAST($3::text AS jsonb), $4, $5) RETURNING id",
        &[
            &q.sender.as_ref().map(Address::as_str),
            &blob,
            &q.envelope.to_string(),
            &now,
            &q.next_attempt,
        ],
    )
    .await?
    .get(0);
    for (position, r) in recipients.iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        execute(
            tx,
            "INSERT INTO queue_recipients (queue_id, position, address, status, detail) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &id,
                &position,
                &r.address.as_str(),
                &r.status.as_str(),
                &r.detail,
            ],
        )
        .await?;
    }
    Ok(QueueId(id))
}

const ENTRY_COLUMNS: &str = "q.id, q.sender, q.envelope::text, q.created_at, q.next_attempt, \
                             q.attempts, q.last_error, b.sha256, b.bytes, b.location";

pub(crate) async fn all(tx: &Tx<'_>) -> Result<Vec<Queued>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM queue q JOIN blobs b ON b.id = q.blob_id ORDER BY q.id"
    );
    load(tx, &sql, &[]).await
}

pub(crate) async fn due(tx: &Tx<'_>, now: i64, limit: usize) -> Result<Vec<Queued>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM queue q JOIN blobs b ON b.id = q.blob_id \
         WHERE q.next_attempt IS NOT NULL AND q.next_attempt <= $1 \
         ORDER BY q.next_attempt, q.id LIMIT $2"
    );
    load(tx, &sql, &[&now, &sql_limit(limit)]).await
}

/// Claims the entries due at `now` for one attempt (see [`crate::Store::claim_due`]).
/// `SKIP LOCKED`: rows another runner is claiming at this moment are left to it instead of
/// waiting; once that runner commits they are no longer due (READ COMMITTED re-checks the
/// condition on the newest row version), so no entry is claimed twice.
pub(crate) async fn claim_due(
    tx: &Tx<'_>,
    now: i64,
    lease_until: i64,
    limit: usize,
) -> Result<Vec<Queued>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM queue q JOIN blobs b ON b.id = q.blob_id \
         WHERE q.next_attempt IS NOT NULL AND q.next_attempt <= $1 \
         ORDER BY q.next_attempt, q.id LIMIT $2 FOR UPDATE OF q SKIP LOCKED"
    );
    let mut claimed = load(tx, &sql, &[&now, &sql_limit(limit)]).await?;
    let ids: Vec<i64> = claimed.iter().map(|q| q.id.0).collect();
    execute(
        tx,
        "UPDATE queue SET next_attempt = $2, lease_until = $2 WHERE id = ANY($1)",
        &[&ids, &lease_until],
    )
    .await?;
    for q in &mut claimed {
        q.next_attempt = Some(lease_until);
    }
    Ok(claimed)
}

/// Claims entry `id` whatever its schedule, unless a lease still runs at `now` (`None`).
pub(crate) async fn claim_entry(
    tx: &Tx<'_>,
    id: QueueId,
    now: i64,
    lease_until: i64,
) -> Result<Option<Queued>> {
    // Waits for a runner claiming it at this moment: its lease is then seen below.
    let held = query_opt(
        tx,
        "SELECT lease_until FROM queue WHERE id = $1 FOR UPDATE",
        &[&id.0],
    )
    .await?
    .ok_or_else(|| Error::not_found(format!("queue entry {}", id.0)))?
    .get::<_, Option<i64>>(0)
    .is_some_and(|until| until > now);
    if held {
        return Ok(None);
    }
    execute(
        tx,
        "UPDATE queue SET next_attempt = $2, lease_until = $2 WHERE id = $1",
        &[&id.0, &lease_until],
    )
    .await?;
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM queue q JOIN blobs b ON b.id = q.blob_id WHERE q.id = $1"
    );
    Ok(load(tx, &sql, &[&id.0]).await?.pop())
}

/// Settles an attempt, which ends its lease.
pub(crate) async fn record_attempt(
    tx: &Tx<'_>,
    id: QueueId,
    next_attempt: Option<i64>,
    last_error: Option<&str>,
) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE queue SET attempts = attempts + 1, next_attempt = $2, last_error = $3, \
         lease_until = NULL WHERE id = $1",
        &[&id.0, &next_attempt, &last_error],
    )
    .await?;
    if changed == 0 {
        return Err(Error::not_found(format!("queue entry {}", id.0)));
    }
    Ok(())
}

pub(crate) async fn set_recipient_status(
    tx: &Tx<'_>,
    id: QueueId,
    recipient: &Address,
    status: RecipientStatus,
    detail: Option<&str>,
) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE queue_recipients SET status = $3, detail = $4 \
         WHERE queue_id = $1 AND address = $2",
        &[&id.0, &recipient.as_str(), &status.as_str(), &detail],
    )
    .await?;
    if changed == 0 {
        return Err(Error::not_found(format!(
            "recipient of queue entry {}",
            id.0
        )));
    }
    Ok(())
}

pub(crate) async fn dequeue(tx: &Tx<'_>, id: QueueId) -> Result<()> {
    let blob: i64 = query_opt(
        tx,
        "DELETE FROM queue WHERE id = $1 RETURNING blob_id",
        &[&id.0],
    )
    .await?
    .ok_or_else(|| Error::not_found(format!("queue entry {}", id.0)))?
    .get(0);
    delete_unreferenced(tx, &[blob]).await
}

/// Never before a running lease ends: bringing a held entry forward would let another runner
/// send it while its holder still is.
pub(crate) async fn reschedule(tx: &Tx<'_>, id: QueueId, next_attempt: i64) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE queue SET next_attempt = GREATEST($2, COALESCE(lease_until, $2)) WHERE id = $1",
        &[&id.0, &next_attempt],
    )
    .await?;
    if changed == 0 {
        return Err(Error::not_found(format!("queue entry {}", id.0)));
    }
    Ok(())
}

pub(crate) async fn summary(tx: &Tx<'_>) -> Result<QueueSummary> {
    let row = query_one(tx, "SELECT count(*), min(created_at) FROM queue", &[]).await?;
    Ok(QueueSummary {
        depth: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
        oldest_created_at: row.get(1),
    })
}

async fn load(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Result<Vec<Queued>> {
    let rows = query(tx, sql, params).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(into_queued(tx, row).await?);
    }
    Ok(out)
}

async fn into_queued(tx: &Tx<'_>, r: Row) -> Result<Queued> {
    let id: i64 = r.get(0);
    let corrupt = |detail: String| Error::corrupt("queue", format!("entry {id}: {detail}"));
    let sender = r
        .get::<_, Option<&str>>(1)
        .map(Address::parse)
        .transpose()
        .map_err(|_| corrupt("unreadable sender".to_owned()))?;
    let envelope = serde_json::from_str(r.get::<_, &str>(2))
        .map_err(|e| corrupt(format!("envelope is not JSON: {e}")))?;
    Ok(Queued {
        id: QueueId(id),
        sender,
        recipients: recipients(tx, id).await?,
        message: whole(r.get(8), r.get(9))?,
        sha256: r.get(7),
        envelope,
        created_at: r.get(3),
        next_attempt: r.get(4),
        attempts: u32_of(i64::from(r.get::<_, i32>(5)), "queue", "attempts")?,
        last_error: r.get(6),
    })
}

async fn recipients(tx: &Tx<'_>, id: i64) -> Result<Vec<QueuedRecipient>> {
    query(
        tx,
        "SELECT address, status, detail FROM queue_recipients WHERE queue_id = $1 ORDER BY position",
        &[&id],
    )
    .await?
    .iter()
    .map(|r| {
        let corrupt = |what: &str| Error::corrupt("queue_recipients", format!("entry {id}: {what}"));
        Ok(QueuedRecipient {
            address: Address::parse(r.get::<_, &str>(0)).map_err(|_| corrupt("unreadable address"))?,
            status: RecipientStatus::parse(r.get::<_, &str>(1))
                .ok_or_else(|| corrupt("unknown status"))?,
            detail: r.get(2),
        })
    })
    .collect()
}
