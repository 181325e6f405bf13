//! The audit trail. Append-only: triggers in the schema abort any UPDATE or DELETE.

use rusqlite::{Connection, params};

use super::connection::DbResult;
use super::convert::sql_limit;
use crate::error::{Error, Result};
use crate::model::{AuditEvent, AuditRecord};

pub(crate) fn append(conn: &Connection, e: &AuditEvent) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at, kind, actor, subject, outcome, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            e.at,
            e.kind,
            e.actor,
            e.subject,
            e.outcome,
            e.detail.to_string()
        ])
    })
    .db("appending to the audit trail")?;
    Ok(())
}

pub(crate) fn read(conn: &Connection, after_id: i64, limit: usize) -> Result<Vec<AuditRecord>> {
    type RawRecord = (i64, i64, String, String, String, String, String);
    let rows: Vec<RawRecord> = conn
        .prepare_cached(
            "SELECT id, at, kind, actor, subject, outcome, detail FROM audit \
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![after_id, sql_limit(limit)], |r| {
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
        .db("reading the audit trail")?;
    rows.into_iter()
        .map(|(id, at, kind, actor, subject, outcome, detail)| {
            let detail = serde_json::from_str(&detail).map_err(|e| {
                Error::corrupt("audit", format!("record {id}: detail is not JSON: {e}"))
            })?;
            Ok(AuditRecord {
                id,
                event: AuditEvent {
                    at,
                    kind,
                    actor,
                    subject,
                    outcome,
                    detail,
                },
            })
        })
        .collect()
}
