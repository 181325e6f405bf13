//! The audit trail: append-only (triggers and REVOKE in the schema) and hash-chained exactly as
//! the SQLite store chains it (same genesis, same link function), so `mssd audit verify` means
//! the same on both backends. Appends serialise on a transaction advisory lock: ids are then
//! taken and chained in commit order, and a reader paging by id never skips a record that
//! commits later with a smaller id.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{Tx, execute, query, query_one, query_opt, sql_limit};
use crate::error::{Error, Result};
use crate::model::{AuditEvent, AuditQuery, AuditRecord, AuditVerification};
use crate::sqlite::audit::{GENESIS, StoredRecord, link};

/// Advisory lock key of audit appends ("mssd" "audt").
const AUDIT_LOCK: i64 = 0x6d73_7364_6175_6474;

const SELECT_RECORD: &str = "SELECT id, at, kind, actor, subject, outcome, detail FROM audit";

pub(crate) async fn append(tx: &Tx<'_>, e: &AuditEvent) -> Result<()> {
    append_all(tx, &[e]).await
}

const LOCK: &str = "SELECT pg_advisory_xact_lock($1)";

/// The trail's head before an append: its last id, and the last chained record and link.
const HEAD: &str = "SELECT (SELECT max(id) FROM audit), c.audit_id, c.link FROM (SELECT 1) AS one \
     LEFT JOIN LATERAL (SELECT audit_id, link FROM audit_chain ORDER BY audit_id DESC LIMIT 1) \
     AS c ON TRUE";

/// ORDER BY the position: ids are taken in the order of the events.
const INSERT: &str = "INSERT INTO audit (at, kind, actor, subject, outcome, detail) \
     SELECT at, kind, actor, subject, outcome, detail \
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
     WITH ORDINALITY AS e(at, kind, actor, subject, outcome, detail, n) ORDER BY n RETURNING id";

const CHAIN: &str =
    "INSERT INTO audit_chain (audit_id, link) SELECT * FROM unnest($1::bigint[], $2::text[])";

/// The statements of an append, to prepare before a pipelined flight (an unprepared one would
/// be sent after its preparation came back, out of the flight's order).
pub(crate) const STATEMENTS: [&str; 4] = [LOCK, HEAD, INSERT, CHAIN];

/// Appends `events` in order under the trail's lock (taken once, held until the commit) and
/// chains them: two round trips whatever their count, so a batch of accepted messages
/// (`group_commit`) holds the lock no longer than a single append.
pub(crate) async fn append_all(tx: &Tx<'_>, events: &[&AuditEvent]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    super::prepare_all(tx, &STATEMENTS).await?;
    let inserted = insert_unchained(tx, events).await?;
    match links(events, inserted)? {
        Some(links) => chain(tx, &links).await,
        None => chain_pending(tx).await,
    }
}

/// What [`insert_unchained`] found and took.
pub(crate) struct Unchained {
    /// The trail's last id before the insert.
    top: Option<i64>,
    /// The last chained record and its link.
    chained: Option<(i64, String)>,
    /// The ids the events got.
    ids: Vec<i64>,
}

impl Unchained {
    /// The id of the first record inserted.
    pub(crate) fn first_id(&self) -> Option<i64> {
        self.ids.first().copied()
    }
}

/// Takes the trail's lock, reads its head and inserts `events` (not empty), all sent at once
/// (the server runs them in that order). The statements must be prepared ([`STATEMENTS`]).
pub(crate) async fn insert_unchained<C: GenericClient>(
    c: &C,
    events: &[&AuditEvent],
) -> Result<Unchained> {
    let at: Vec<i64> = events.iter().map(|e| e.at).collect();
    let kind: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let actor: Vec<&str> = events.iter().map(|e| e.actor.as_str()).collect();
    let subject: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
    let outcome: Vec<&str> = events.iter().map(|e| e.outcome.as_str()).collect();
    let detail: Vec<String> = events.iter().map(|e| e.detail.to_string()).collect();
    let lock: [&(dyn ToSql + Sync); 1] = [&AUDIT_LOCK];
    let lines: [&(dyn ToSql + Sync); 6] = [&at, &kind, &actor, &subject, &outcome, &detail];
    let (_, head, rows) = tokio::try_join!(
        execute(c, LOCK, &lock),
        query_one(c, HEAD, &[]),
        query(c, INSERT, &lines),
    )?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    ids.sort_unstable();
    let chained = match (head.get::<_, Option<i64>>(1), head.get(2)) {
        (Some(id), Some(link)) => Some((id, link)),
        _ => None,
    };
    Ok(Unchained {
        top: head.get(0),
        chained,
        ids,
    })
}

/// The chain's links of the records [`insert_unchained`] inserted, computed from the events
/// themselves (text columns give back what was written): ids and links, for [`chain`].
/// `None` when the trail holds records nobody chained before them: [`chain_pending`] then
/// reads back and links everything unchained.
pub(crate) fn links(
    events: &[&AuditEvent],
    inserted: Unchained,
) -> Result<Option<(Vec<i64>, Vec<String>)>> {
    if inserted.ids.len() != events.len() {
        return Err(Error::Postgres(format!(
            "appending to the audit trail: {} records inserted for {} events",
            inserted.ids.len(),
            events.len()
        )));
    }
    let (last_chained, previous) = match inserted.chained {
        Some((id, link)) => (Some(id), link),
        None => (None, GENESIS.to_owned()),
    };
    if inserted.top != last_chained {
        return Ok(None);
    }
    let records = inserted.ids.iter().zip(events).map(|(id, e)| {
        (
            *id,
            e.at,
            e.kind.clone(),
            e.actor.clone(),
            e.subject.clone(),
            e.outcome.clone(),
            e.detail.to_string(),
        )
    });
    Ok(Some(linked(previous, records)))
}

/// The ids and links of `records` (in id order) chained after `previous`.
fn linked(
    mut previous: String,
    records: impl ExactSizeIterator<Item = StoredRecord>,
) -> (Vec<i64>, Vec<String>) {
    let mut ids = Vec::with_capacity(records.len());
    let mut links = Vec::with_capacity(records.len());
    for record in records {
        previous = link(&previous, &record);
        ids.push(record.0);
        links.push(previous.clone());
    }
    (ids, links)
}

/// Inserts the links [`links`] computed, in one statement.
pub(crate) async fn chain<C: GenericClient>(c: &C, links: &(Vec<i64>, Vec<String>)) -> Result<()> {
    let (ids, links) = links;
    execute(c, CHAIN, &[ids, links]).await?;
    Ok(())
}

fn stored(r: &Row) -> StoredRecord {
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
    )
}

/// Links every record not chained yet, in one INSERT.
pub(crate) async fn chain_pending<C: GenericClient>(c: &C) -> Result<()> {
    let last = query_opt(
        c,
        "SELECT audit_id, link FROM audit_chain ORDER BY audit_id DESC LIMIT 1",
        &[],
    )
    .await?;
    let (after, previous): (i64, String) = match last {
        Some(r) => (r.get(0), r.get(1)),
        None => (0, GENESIS.to_owned()),
    };
    let pending = query(
        c,
        &format!("{SELECT_RECORD} WHERE id > $1 ORDER BY id"),
        &[&after],
    )
    .await?;
    if pending.is_empty() {
        return Ok(());
    }
    chain(c, &linked(previous, pending.iter().map(stored))).await
}

/// Walks the whole trail in order, recomputing each link.
pub(crate) async fn verify(tx: &Tx<'_>) -> Result<AuditVerification> {
    let rows = query(
        tx,
        "SELECT a.id, a.at, a.kind, a.actor, a.subject, a.outcome, a.detail, c.link \
         FROM audit a LEFT JOIN audit_chain c ON c.audit_id = a.id ORDER BY a.id",
        &[],
    )
    .await?;
    let mut previous = GENESIS.to_owned();
    let mut outcome = AuditVerification {
        records: 0,
        broken: None,
        head: None,
    };
    for row in &rows {
        let record = stored(row);
        let recorded: Option<String> = row.get(7);
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
    let orphan: Option<i64> = query_opt(
        tx,
        "SELECT min(c.audit_id) FROM audit_chain c LEFT JOIN audit a ON a.id = c.audit_id \
         WHERE a.id IS NULL",
        &[],
    )
    .await?
    .and_then(|r| r.get(0));
    if let Some(id) = orphan {
        outcome.broken = Some((id, "the chain links a record that is gone".to_owned()));
    }
    Ok(outcome)
}

/// Records matching `query`, oldest first, at most `query.limit`.
pub(crate) async fn search(tx: &Tx<'_>, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
    let kind_prefix = q.kind.as_ref().map(|k| format!("{}.%", escape_like(k)));
    let sql = format!(
        "{SELECT_RECORD} WHERE id > $1 AND at >= $2 AND at < $3 \
         AND ($4::text IS NULL OR kind = $4 OR kind LIKE $5) \
         AND ($6::text IS NULL OR actor = $6 OR subject = $6) \
         ORDER BY id LIMIT $7"
    );
    query(
        tx,
        &sql,
        &[
            &q.after_id,
            &q.since.unwrap_or(i64::MIN),
            &q.until.unwrap_or(i64::MAX),
            &q.kind,
            &kind_prefix,
            &q.mailbox,
            &sql_limit(q.limit),
        ],
    )
    .await?
    .iter()
    .map(|r| record_of(stored(r)))
    .collect()
}

/// A kind as a LIKE prefix: its own `%`, `_` and `\` match only themselves.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub(crate) async fn read(tx: &Tx<'_>, after_id: i64, limit: usize) -> Result<Vec<AuditRecord>> {
    query(
        tx,
        &format!("{SELECT_RECORD} WHERE id > $1 ORDER BY id LIMIT $2"),
        &[&after_id, &sql_limit(limit)],
    )
    .await?
    .iter()
    .map(|r| record_of(stored(r)))
    .collect()
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
