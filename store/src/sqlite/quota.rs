//! Per-mailbox usage counters and quota enforcement.
//!
//! `mailboxes.used_bytes` / `used_messages` count every folder entry (a blob in two folders counts
//! twice, as IMAP QUOTA STORAGE sees it). Every write that adds or removes folder entries goes
//! through [`add_usage`], so a quota check reads one row.

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::DbResult;
use super::convert::{i64_from_u64, u64_from_i64};
use crate::error::{Error, Result};
use crate::model::{MailboxId, QuotaUsage};

pub(crate) fn usage(conn: &Connection, mailbox: MailboxId) -> Result<QuotaUsage> {
    let (bytes, messages, limit): (i64, i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT used_bytes, used_messages, quota_bytes FROM mailboxes WHERE id = ?1",
        )
        .and_then(|mut stmt| {
            stmt.query_row([mailbox.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .db("reading a mailbox's usage")?
        .ok_or_else(|| Error::not_found(format!("mailbox {}", mailbox.0)))?;
    Ok(QuotaUsage {
        used_bytes: u64_from_i64(bytes, "mailboxes", "used_bytes")?,
        used_messages: u64_from_i64(messages, "mailboxes", "used_messages")?,
        limit_bytes: limit
            .map(|l| u64_from_i64(l, "mailboxes", "quota_bytes"))
            .transpose()?,
    })
}

/// `QuotaExceeded` when adding `needed` bytes would take `mailbox` over its limit.
pub(crate) fn ensure_room(conn: &Connection, mailbox: MailboxId, needed: u64) -> Result<()> {
    let usage = usage(conn, mailbox)?;
    match check_room(&usage, needed) {
        Ok(()) => Ok(()),
        Err(limit) => Err(Error::QuotaExceeded {
            mailbox,
            used: usage.used_bytes,
            limit,
            needed,
        }),
    }
}

/// Pure rule: fits when there is no limit or `used + needed <= limit`; else the limit.
pub(crate) fn check_room(usage: &QuotaUsage, needed: u64) -> std::result::Result<(), u64> {
    let Some(limit) = usage.limit_bytes else {
        return Ok(());
    };
    match usage.used_bytes.checked_add(needed) {
        Some(total) if total <= limit => Ok(()),
        _ => Err(limit),
    }
}

/// Adds (or with negative values removes) folder entries to a mailbox's usage.
pub(crate) fn add_usage(
    conn: &Connection,
    mailbox: MailboxId,
    bytes: i64,
    messages: i64,
) -> Result<()> {
    if bytes == 0 && messages == 0 {
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE mailboxes SET used_bytes = max(used_bytes + ?2, 0), \
         used_messages = max(used_messages + ?3, 0) WHERE id = ?1",
    )
    .and_then(|mut stmt| stmt.execute(params![mailbox.0, bytes, messages]))
    .db("updating a mailbox's usage")?;
    Ok(())
}

/// A byte count as a signed usage delta.
pub(crate) fn delta(bytes: u64) -> Result<i64> {
    i64_from_u64(bytes, "message size")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (used, limit, needed, expected)
    type Case = (u64, Option<u64>, u64, std::result::Result<(), u64>);

    #[test]
    fn room_rule() {
        let usage = |used, limit| QuotaUsage {
            used_bytes: used,
            used_messages: 0,
            limit_bytes: limit,
        };
        let cases: &[Case] = &[
            (0, None, u64::MAX, Ok(())),
            (0, Some(10), 10, Ok(())),
            (5, Some(10), 5, Ok(())),
            (5, Some(10), 6, Err(10)),
            (11, Some(10), 0, Err(10)),
            (0, Some(0), 0, Ok(())),
            (0, Some(0), 1, Err(0)),
            (u64::MAX, Some(u64::MAX), 1, Err(u64::MAX)),
        ];
        for (used, limit, needed, expected) in cases {
            assert_eq!(
                check_room(&usage(*used, *limit), *needed),
                *expected,
                "used {used} limit {limit:?} needed {needed}"
            );
        }
    }
}
