//! The small tables: grants, named documents, the notification outbox, usage indicators, and
//! what `health` reports.

use mssd_core::Address;

use super::mailboxes::mailbox_id;
use super::{Tx, execute, query, query_one, query_opt, sql_limit, u32_of, u64_of};
use crate::document_model::{Direction, IndicatorRow, UsageCount};
use crate::error::{Error, Result};
use crate::model::{Grant, MailboxId, Notification, Rights};
use crate::sqlite::indicators::month_of;

// --- grants ---

async fn id_of(tx: &Tx<'_>, address: &Address, role: &str) -> Result<i64> {
    mailbox_id(tx, &address.canonical())
        .await?
        .map(|id| id.0)
        .ok_or_else(|| Error::not_found(format!("{role} mailbox")))
}

pub(crate) async fn grant(
    tx: &Tx<'_>,
    mailbox: &Address,
    grantee: &Address,
    rights: Rights,
    now: i64,
) -> Result<()> {
    let mailbox_id = id_of(tx, mailbox, "granted").await?;
    let grantee_id = id_of(tx, grantee, "grantee").await?;
    if mailbox_id == grantee_id {
        return Err(Error::invalid(
            "grant",
            "a mailbox cannot be granted to itself",
        ));
    }
    execute(
        tx,
        "INSERT INTO mailbox_grants (mailbox_id, grantee_id, rights, granted_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (mailbox_id, grantee_id) \
         DO UPDATE SET rights = EXCLUDED.rights, granted_at = EXCLUDED.granted_at",
        &[&mailbox_id, &grantee_id, &rights.code(), &now],
    )
    .await?;
    Ok(())
}

pub(crate) async fn revoke(tx: &Tx<'_>, mailbox: &Address, grantee: &Address) -> Result<()> {
    let mailbox_id = id_of(tx, mailbox, "granted").await?;
    let grantee_id = id_of(tx, grantee, "grantee").await?;
    let changed = execute(
        tx,
        "DELETE FROM mailbox_grants WHERE mailbox_id = $1 AND grantee_id = $2",
        &[&mailbox_id, &grantee_id],
    )
    .await?;
    if changed == 0 {
        return Err(Error::not_found("grant".to_owned()));
    }
    Ok(())
}

/// Grants on `mailbox` (`on = true`) or held by `mailbox` (`on = false`).
pub(crate) async fn grants(tx: &Tx<'_>, mailbox: &Address, on: bool) -> Result<Vec<Grant>> {
    let id = id_of(tx, mailbox, if on { "granted" } else { "grantee" }).await?;
    let filter = if on { "g.mailbox_id" } else { "g.grantee_id" };
    let sql = format!(
        "SELECT m.address_text, e.address_text, g.rights, g.granted_at FROM mailbox_grants g \
         JOIN mailboxes m ON m.id = g.mailbox_id JOIN mailboxes e ON e.id = g.grantee_id \
         WHERE {filter} = $1 ORDER BY m.address COLLATE \"C\", e.address COLLATE \"C\""
    );
    query(tx, &sql, &[&id])
        .await?
        .iter()
        .map(|r| {
            let parse = |a: &str| {
                Address::parse(a).map_err(|_| Error::corrupt("mailboxes", "unreadable address"))
            };
            Ok(Grant {
                mailbox: parse(r.get(0))?,
                grantee: parse(r.get(1))?,
                rights: Rights::from_code(r.get(2)),
                granted_at: r.get(3),
            })
        })
        .collect()
}

// --- named documents ---

pub(crate) async fn put_document(tx: &Tx<'_>, name: &str, bytes: &[u8], now: i64) -> Result<()> {
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
    execute(
        tx,
        "INSERT INTO documents (name, bytes, sha256, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO UPDATE SET bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, \
         updated_at = EXCLUDED.updated_at",
        &[&name, &bytes, &sha256, &now],
    )
    .await?;
    Ok(())
}

pub(crate) async fn document_sha256(tx: &Tx<'_>, name: &str) -> Result<Option<String>> {
    Ok(
        query_opt(tx, "SELECT sha256 FROM documents WHERE name = $1", &[&name])
            .await?
            .map(|r| r.get(0)),
    )
}

pub(crate) async fn document(tx: &Tx<'_>, name: &str) -> Result<Option<Vec<u8>>> {
    let Some(row) = query_opt(
        tx,
        "SELECT bytes, sha256 FROM documents WHERE name = $1",
        &[&name],
    )
    .await?
    else {
        return Ok(None);
    };
    let (bytes, stored): (Vec<u8>, String) = (row.get(0), row.get(1));
    let actual = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    if !actual.eq_ignore_ascii_case(&stored) {
        return Err(Error::corrupt(
            "documents",
            format!("document {name:?}: bytes have SHA-256 {actual}, the row records {stored}"),
        ));
    }
    Ok(Some(bytes))
}

// --- notifications ---

pub(crate) async fn add_notifications(
    tx: &Tx<'_>,
    mailboxes: &[MailboxId],
    now: i64,
) -> Result<()> {
    for m in mailboxes {
        execute(
            tx,
            "INSERT INTO notifications (mailbox_id, new_messages, next_at, created_at) \
             VALUES ($1, 1, $2, $2)",
            &[&m.0, &now],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn notifications_due(
    tx: &Tx<'_>,
    now: i64,
    limit: usize,
) -> Result<Vec<Notification>> {
    query(
        tx,
        "SELECT id, mailbox_id, new_messages, attempts, created_at FROM notifications \
         WHERE next_at <= $1 ORDER BY id LIMIT $2",
        &[&now, &sql_limit(limit)],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Notification {
            id: r.get(0),
            mailbox: MailboxId(r.get(1)),
            new_messages: u32_of(
                i64::from(r.get::<_, i32>(2)),
                "notifications",
                "new_messages",
            )?,
            attempts: u32_of(i64::from(r.get::<_, i32>(3)), "notifications", "attempts")?,
            created_at: r.get(4),
        })
    })
    .collect()
}

pub(crate) async fn notification_sent(tx: &Tx<'_>, id: i64) -> Result<()> {
    execute(tx, "DELETE FROM notifications WHERE id = $1", &[&id]).await?;
    Ok(())
}

pub(crate) async fn notification_failed(
    tx: &Tx<'_>,
    id: i64,
    next_at: i64,
    error: &str,
) -> Result<()> {
    execute(
        tx,
        "UPDATE notifications SET attempts = attempts + 1, next_at = $2, last_error = $3 WHERE id = $1",
        &[&id, &next_at, &error],
    )
    .await?;
    Ok(())
}

// --- usage indicators ---

pub(crate) async fn add_usage_counts(tx: &Tx<'_>, counts: &[UsageCount], now: i64) -> Result<()> {
    let month = month_of(now);
    for c in counts {
        execute(
            tx,
            "INSERT INTO usage_indicators (month, mailbox, direction, messages, xdm_messages, \
             documents, qualified_ins) VALUES ($1, $2, $3, 1, $4, $5, $6) \
             ON CONFLICT (month, mailbox, direction) DO UPDATE SET \
             messages = usage_indicators.messages + 1, \
             xdm_messages = usage_indicators.xdm_messages + EXCLUDED.xdm_messages, \
             documents = usage_indicators.documents + EXCLUDED.documents, \
             qualified_ins = usage_indicators.qualified_ins + EXCLUDED.qualified_ins",
            &[
                &month,
                &c.mailbox,
                &c.direction.as_str(),
                &i64::from(c.xdm),
                &i64::from(c.documents),
                &i64::from(c.qualified_ins),
            ],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn usage_indicators(tx: &Tx<'_>, month: &str) -> Result<Vec<IndicatorRow>> {
    query(
        tx,
        "SELECT month, mailbox, direction, messages, xdm_messages, documents, qualified_ins \
         FROM usage_indicators WHERE month = $1 \
         ORDER BY mailbox COLLATE \"C\", direction COLLATE \"C\"",
        &[&month],
    )
    .await?
    .iter()
    .map(|r| {
        let direction = match r.get::<_, &str>(2) {
            "sent" => Direction::Sent,
            "received" => Direction::Received,
            other => {
                return Err(Error::corrupt(
                    "usage_indicators",
                    format!("direction {other:?}"),
                ));
            }
        };
        let n = |i: usize, column: &str| u64_of(r.get(i), "usage_indicators", column);
        Ok(IndicatorRow {
            month: r.get(0),
            mailbox: r.get(1),
            direction,
            messages: n(3, "messages")?,
            xdm_messages: n(4, "xdm_messages")?,
            documents: n(5, "documents")?,
            qualified_ins: n(6, "qualified_ins")?,
        })
    })
    .collect()
}

// --- health ---

/// Row counts of the tables `health` reports, and the database size.
pub(crate) async fn counts(tx: &Tx<'_>) -> Result<([u64; 4], u64)> {
    let row = query_one(
        tx,
        "SELECT (SELECT count(*) FROM mailboxes), (SELECT count(*) FROM messages), \
         (SELECT count(*) FROM queue), (SELECT count(*) FROM audit), \
         pg_database_size(current_database())",
        &[],
    )
    .await?;
    let n = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
    Ok(([n(0), n(1), n(2), n(3)], n(4)))
}
