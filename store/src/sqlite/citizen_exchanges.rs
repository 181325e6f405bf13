//! The history the citizen rules read, written in the acceptance's transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::DbResult;
use crate::citizen_model::{CitizenExchange, ExchangeHistory};
use crate::error::Result;

pub(crate) fn record(conn: &Connection, exchanges: &[CitizenExchange], now: i64) -> Result<()> {
    for e in exchanges {
        conn.prepare_cached(
            "INSERT INTO citizen_exchanges (professional, citizen, wrote_open, last_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (professional, citizen) DO UPDATE SET \
             wrote_open = max(wrote_open, excluded.wrote_open), last_at = excluded.last_at",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                e.professional,
                e.citizen,
                i64::from(!e.closed),
                now
            ])
        })
        .db("recording a citizen exchange")?;
        if let (true, Some(id)) = (e.closed, &e.message_id) {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO closed_messages (citizen, message_id, professional) \
                 VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![e.citizen, id, e.professional]))
            .db("recording a closed message")?;
        }
    }
    Ok(())
}

pub(crate) fn history(
    conn: &Connection,
    professional: &str,
    citizen: &str,
) -> Result<ExchangeHistory> {
    let open: Option<i64> = conn
        .prepare_cached(
            "SELECT wrote_open FROM citizen_exchanges WHERE professional = ?1 AND citizen = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![professional, citizen], |r| r.get(0))
                .optional()
        })
        .db("reading a citizen exchange")?;
    Ok(ExchangeHistory {
        wrote: open.is_some(),
        wrote_open: open == Some(1),
    })
}

/// Whether one of `message_ids` is a closed message sent to `citizen`.
pub(crate) fn answers_closed(
    conn: &Connection,
    citizen: &str,
    message_ids: &[String],
) -> Result<bool> {
    let mut stmt = conn
        .prepare_cached("SELECT 1 FROM closed_messages WHERE citizen = ?1 AND message_id = ?2")
        .db("reading closed messages")?;
    for id in message_ids {
        if stmt
            .exists(params![citizen, id])
            .db("reading closed messages")?
        {
            return Ok(true);
        }
    }
    Ok(false)
}
