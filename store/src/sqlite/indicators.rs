//! Monthly usage counters per mailbox (messages sent and received, XDM messages, documents,
//! documents with a qualified INS): incremented in the message's own transaction, so the
//! report counts exactly what was accepted.

use rusqlite::{Connection, params};

use super::connection::DbResult;
use super::convert::u64_from_i64;
use crate::document_model::{Direction, IndicatorRow, UsageCount};
use crate::error::{Error, Result};

/// `YYYY-MM` of a Unix time, UTC.
pub(crate) fn month_of(unix: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    format!("{:04}-{:02}", date.year(), u8::from(date.month()))
}

pub(crate) fn add(conn: &Connection, counts: &[UsageCount], now: i64) -> Result<()> {
    let month = month_of(now);
    for c in counts {
        conn.prepare_cached(
            "INSERT INTO usage_indicators (month, mailbox, direction, messages, xdm_messages, \
             documents, qualified_ins) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6) \
             ON CONFLICT (month, mailbox, direction) DO UPDATE SET \
             messages = messages + 1, xdm_messages = xdm_messages + excluded.xdm_messages, \
             documents = documents + excluded.documents, \
             qualified_ins = qualified_ins + excluded.qualified_ins",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                month,
                c.mailbox,
                c.direction.as_str(),
                i64::from(c.xdm),
                c.documents,
                c.qualified_ins
            ])
        })
        .db("counting usage")?;
    }
    Ok(())
}

pub(crate) fn month(conn: &Connection, month: &str) -> Result<Vec<IndicatorRow>> {
    type Raw = (String, String, String, i64, i64, i64, i64);
    let rows: Vec<Raw> = conn
        .prepare_cached(
            "SELECT month, mailbox, direction, messages, xdm_messages, documents, qualified_ins \
             FROM usage_indicators WHERE month = ?1 ORDER BY mailbox, direction",
        )
        .and_then(|mut stmt| {
            stmt.query_map([month], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect()
        })
        .db("reading usage indicators")?;
    rows.into_iter()
        .map(|(month, mailbox, direction, m, x, d, q)| {
            let direction = match direction.as_str() {
                "sent" => Direction::Sent,
                "received" => Direction::Received,
                other => {
                    return Err(Error::corrupt(
                        "usage_indicators",
                        format!("direction {other:?}"),
                    ));
                }
            };
            let n = |v: i64, column: &str| u64_from_i64(v, "usage_indicators", column);
            Ok(IndicatorRow {
                month,
                mailbox,
                direction,
                messages: n(m, "messages")?,
                xdm_messages: n(x, "xdm_messages")?,
                documents: n(d, "documents")?,
                qualified_ins: n(q, "qualified_ins")?,
            })
        })
        .collect()
}
