//! The audit trail. Append-only: triggers in the schema abort any UPDATE or DELETE; and a hash
//! chain (`audit_chain`) links every record to the one before, so that a record changed or
//! removed behind the triggers' back (by someone with the database file) is found by
//! `verify`. The chain is written in the same transaction as the record.

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use super::connection::DbResult;
use super::convert::sql_limit;
use crate::error::{Error, Result};
use crate::model::{AuditEvent, AuditQuery, AuditRecord, AuditVerification};

/// The link before the first record.
pub(crate) const GENESIS: &str = "mssd-audit-chain-v1";

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
    chain_pending(conn)
}

/// One record as stored, the text the chain covers.
pub(crate) type StoredRecord = (i64, i64, String, String, String, String, String);

/// The link of `record` after `previous`: SHA-256 over the previous link and every field,
/// each length-prefixed so that no two records hash alike by shifting text between fields.
pub(crate) fn link(previous: &str, record: &StoredRecord) -> String {
    let (id, at, kind, actor, subject, outcome, detail) = record;
    let mut hash = Sha256::new();
    for field in [
        previous,
        &id.to_string(),
        &at.to_string(),
        kind,
        actor,
        subject,
        outcome,
        detail,
    ] {
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field.as_bytes());
    }
    hex::encode(hash.finalize())
}

const SELECT_RECORD: &str = "SELECT id, at, kind, actor, subject, outcome, detail FROM audit";

fn stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRecord> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

/// Links the records not chained yet: the one just appended, or after an upgrade every record
/// written before the chain existed.
fn chain_pending(conn: &Connection) -> Result<()> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT audit_id, link FROM audit_chain ORDER BY audit_id DESC LIMIT 1")
        .and_then(|mut stmt| {
            let mut rows = stmt.query([])?;
            rows.next()?.map(|r| Ok((r.get(0)?, r.get(1)?))).transpose()
        })
        .db("reading the end of the audit chain")?;
    let (after, mut previous) = last.unwrap_or((0, GENESIS.to_owned()));
    let pending: Vec<StoredRecord> = conn
        .prepare_cached(&format!("{SELECT_RECORD} WHERE id > ?1 ORDER BY id"))
        .and_then(|mut stmt| stmt.query_map([after], stored)?.collect())
        .db("reading the audit records to chain")?;
    for record in &pending {
        previous = link(&previous, record);
        conn.prepare_cached("INSERT INTO audit_chain (audit_id, link) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute(params![record.0, previous]))
            .db("extending the audit chain")?;
    }
    Ok(())
}

/// Walks the whole trail in order, recomputing each link.
pub(crate) fn verify(conn: &Connection) -> Result<AuditVerification> {
    let mut stmt = conn
        .prepare(
            "SELECT a.id, a.at, a.kind, a.actor, a.subject, a.outcome, a.detail, c.link              FROM audit a LEFT JOIN audit_chain c ON c.audit_id = a.id ORDER BY a.id",
        )
        .db("reading the audit trail")?;
    let mut rows = stmt.query([]).db("reading the audit trail")?;
    let mut previous = GENESIS.to_owned();
    let mut outcome = AuditVerification {
        records: 0,
        broken: None,
        head: None,
    };
    while let Some(row) = rows.next().db("reading the audit trail")? {
        let record = stored(row).db("reading an audit record")?;
        let recorded: Option<String> = row.get(7).db("reading an audit link")?;
        outcome.records += 1;
        let expected = link(&previous, &record);
        let why = match recorded {
            None => Some("the record has no link in the chain"),
            Some(recorded) if recorded != expected => {
                Some("the record or one before it differs from what was chained")
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            outcome.broken = Some((record.0, why.to_owned()));
            return Ok(outcome);
        }
        previous = expected;
        outcome.head = Some((record.0, previous.clone()));
    }
    // A link whose record is gone (the last records deleted leave no other trace).
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit_chain c LEFT JOIN audit a ON a.id = c.audit_id              WHERE a.id IS NULL",
            [],
            |r| r.get(0),
        )
        .db("checking the audit chain")?;
    if orphans > 0 {
        let id: i64 = conn
            .query_row(
                "SELECT MIN(c.audit_id) FROM audit_chain c LEFT JOIN audit a                  ON a.id = c.audit_id WHERE a.id IS NULL",
                [],
                |r| r.get(0),
            )
            .db("checking the audit chain")?;
        outcome.broken = Some((id, "the chain links a record that is gone".to_owned()));
    }
    Ok(outcome)
}

/// Records matching `query`, oldest first, at most `query.limit`.
pub(crate) fn search(conn: &Connection, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
    let kind_prefix = query.kind.as_ref().map(|k| format!("{k}.%"));
    let rows: Vec<StoredRecord> = conn
        .prepare_cached(&format!(
            "{SELECT_RECORD} WHERE id > ?1 AND at >= ?2 AND at < ?3 \
             AND (?4 IS NULL OR kind = ?4 OR kind LIKE ?5) \
             AND (?6 IS NULL OR actor = ?6 OR subject = ?6) \
             ORDER BY id LIMIT ?7"
        ))
        .and_then(|mut stmt| {
            stmt.query_map(
                params![
                    query.after_id,
                    query.since.unwrap_or(i64::MIN),
                    query.until.unwrap_or(i64::MAX),
                    query.kind,
                    kind_prefix,
                    query.mailbox,
                    sql_limit(query.limit)
                ],
                stored,
            )?
            .collect()
        })
        .db("searching the audit trail")?;
    rows.into_iter().map(record_of).collect()
}

fn record_of((id, at, kind, actor, subject, outcome, detail): StoredRecord) -> Result<AuditRecord> {
    let detail = serde_json::from_str(&detail)
        .map_err(|e| Error::corrupt("audit", format!("record {id}: detail is not JSON: {e}")))?;
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
}

pub(crate) fn read(conn: &Connection, after_id: i64, limit: usize) -> Result<Vec<AuditRecord>> {
    let rows: Vec<StoredRecord> = conn
        .prepare_cached(&format!(
            "{SELECT_RECORD} WHERE id > ?1 ORDER BY id LIMIT ?2"
        ))
        .and_then(|mut stmt| {
            stmt.query_map(params![after_id, sql_limit(limit)], stored)?
                .collect()
        })
        .db("reading the audit trail")?;
    rows.into_iter().map(record_of).collect()
}
