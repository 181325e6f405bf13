//! The outbox of new-message notifications: rows added with the delivery, removed once
//! the receiver acknowledged them, rescheduled after a failure.

use rusqlite::{Connection, params};

use super::connection::DbResult;
use super::convert::{sql_limit, u32_from_i64};
use crate::error::Result;
use crate::model::{MailboxId, Notification};

pub(crate) fn add(conn: &Connection, mailboxes: &[MailboxId], now: i64) -> Result<()> {
    for m in mailboxes {
        conn.prepare_cached(
            "INSERT INTO notifications (mailbox_id, new_messages, next_at, created_at) VALUES (?1, 1, ?2, ?2)",
        )
        .and_then(|mut stmt| stmt.execute(params![m.0, now]))
        .db("queueing a notification")?;
    }
    Ok(())
}

pub(crate) fn due(conn: &Connection, now: i64, limit: usize) -> Result<Vec<Notification>> {
    type Raw = (i64, i64, i64, i64, i64);
    let rows: Vec<Raw> = conn
        .prepare_cached(
            "SELECT id, mailbox_id, new_messages, attempts, created_at FROM notifications \
             WHERE next_at <= ?1 ORDER BY id LIMIT ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![now, sql_limit(limit)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect()
        })
        .db("reading due notifications")?;
    rows.into_iter()
        .map(|(id, mailbox, new_messages, attempts, created_at)| {
            Ok(Notification {
                id,
                mailbox: MailboxId(mailbox),
                new_messages: u32_from_i64(new_messages, "notifications", "new_messages")?,
                attempts: u32_from_i64(attempts, "notifications", "attempts")?,
                created_at,
            })
        })
        .collect()
}

pub(crate) fn done(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM notifications WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([id]))
        .db("removing a sent notification")?;
    Ok(())
}

pub(crate) fn retry(conn: &Connection, id: i64, next_at: i64, error: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE notifications SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![id, next_at, error]))
    .db("rescheduling a notification")?;
    Ok(())
}
