//! The per-mailbox index of health documents, written in the delivery's transaction.
//!
//! Version rules (ANS, Référentiel CI-SIS and the LPS/MSS volet): a replacement (`RPLC` or
//! action `C`) supersedes its parent; a deletion (action `D`) withdraws the document of the
//! same id. Only the latest version may be replaced or deleted (else 900), and only by its
//! author or the author's structure (else 901); such a request is recorded with the code and
//! changes nothing. A replacement of an unknown parent is indexed as current with a note.

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::DbResult;
use super::convert::u32_from_i64;
use crate::document_model::{DocumentAction, DocumentStatus, IndexedDocument, NewDocument};
use crate::error::{Error, Result};
use crate::model::{FolderId, MailboxId};

/// ANS applicationErrorCondition: the replaced or deleted version is not the latest.
pub const NOT_LATEST: u32 = 900;
/// ANS applicationErrorCondition: the author may not replace or delete this document.
pub const AUTHOR_NOT_ALLOWED: u32 = 901;

/// The parent row a replacement or deletion acts on.
struct Parent {
    row: i64,
    status: DocumentStatus,
    author: Option<String>,
    author_org: Option<String>,
}

/// Indexes `documents` of the message `uid` of `folder` in `mailbox`, in order.
pub(crate) fn index(
    conn: &Connection,
    mailbox: MailboxId,
    folder: FolderId,
    uid: u32,
    documents: &[NewDocument],
    now: i64,
) -> Result<()> {
    for doc in documents {
        let (status, parent_id, anomaly, note) = decide(conn, mailbox, doc)?;
        conn.prepare_cached(
            "INSERT INTO health_documents (mailbox_id, folder_id, message_uid, cda_id, set_id, \
             version, code, title, effective_time, author, author_org, patient_ids, restrictions, \
             action, parent_id, status, anomaly, note, indexed_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                mailbox.0,
                folder.0,
                uid,
                doc.cda_id,
                doc.set_id,
                doc.version,
                doc.code,
                doc.title,
                doc.effective_time,
                doc.author,
                doc.author_org,
                serde_json::to_string(&doc.patient_ids).unwrap_or_default(),
                serde_json::to_string(&doc.restrictions).unwrap_or_default(),
                doc.action.as_str(),
                parent_id,
                status.as_str(),
                anomaly,
                note,
                now,
            ])
        })
        .db("indexing a health document")?;
    }
    Ok(())
}

type Decision = (DocumentStatus, Option<String>, Option<u32>, Option<String>);

/// The new row's status, parent, anomaly and note; updates the parent when the request holds.
fn decide(conn: &Connection, mailbox: MailboxId, doc: &NewDocument) -> Result<Decision> {
    let (target, outcome_status, on_success) = match &doc.action {
        DocumentAction::New => return Ok((DocumentStatus::Current, None, None, None)),
        DocumentAction::Replace { parent } => (
            parent.clone(),
            DocumentStatus::Current,
            DocumentStatus::Superseded,
        ),
        DocumentAction::Delete => (
            doc.cda_id.clone(),
            DocumentStatus::Withdrawn,
            DocumentStatus::Withdrawn,
        ),
    };
    let Some(parent) = parent(conn, mailbox, &target)? else {
        let note = match doc.action {
            DocumentAction::Delete => "deletes a document this mailbox never received",
            _ => "replaces a document this mailbox never received",
        };
        return Ok((outcome_status, Some(target), None, Some(note.into())));
    };
    // A refused request is kept, but never as the current version.
    let refused = match doc.action {
        DocumentAction::Delete => DocumentStatus::Withdrawn,
        _ => DocumentStatus::Superseded,
    };
    if parent.status != DocumentStatus::Current {
        let note = format!("refers to a version that is {}", parent.status.as_str());
        return Ok((refused, Some(target), Some(NOT_LATEST), Some(note)));
    }
    let same_author = doc.author.is_some() && doc.author == parent.author;
    let same_structure = doc.author_org.is_some() && doc.author_org == parent.author_org;
    if !same_author && !same_structure {
        let note = "the author is neither the original author nor of the same structure";
        return Ok((
            refused,
            Some(target),
            Some(AUTHOR_NOT_ALLOWED),
            Some(note.into()),
        ));
    }
    conn.prepare_cached("UPDATE health_documents SET status = ?2 WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute(params![parent.row, on_success.as_str()]))
        .db("updating a document's status")?;
    Ok((outcome_status, Some(target), None, None))
}

/// The latest row of `cda_id` in `mailbox` that is not itself a refused request.
fn parent(conn: &Connection, mailbox: MailboxId, cda_id: &str) -> Result<Option<Parent>> {
    let row: Option<(i64, String, Option<String>, Option<String>)> = conn
        .prepare_cached(
            "SELECT id, status, author, author_org FROM health_documents \
             WHERE mailbox_id = ?1 AND cda_id = ?2 AND anomaly IS NULL AND action != 'delete' \
             ORDER BY id DESC LIMIT 1",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![mailbox.0, cda_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
        })
        .db("finding a replaced document")?;
    row.map(|(row, status, author, author_org)| {
        Ok(Parent {
            row,
            status: parse_status(&status)?,
            author,
            author_org,
        })
    })
    .transpose()
}

fn parse_status(s: &str) -> Result<DocumentStatus> {
    DocumentStatus::parse(s)
        .ok_or_else(|| Error::corrupt("health_documents", format!("status {s:?}")))
}

const COLUMNS: &str = "id, message_uid, cda_id, set_id, version, code, title, effective_time, \
    author, author_org, patient_ids, restrictions, action, parent_id, status, anomaly, note, indexed_at, \
    folder_id";

/// A message moved within its mailbox takes its documents along: their rows follow it to
/// its new folder and UID (in the move's transaction).
pub(crate) fn follow_move(
    conn: &Connection,
    from: FolderId,
    to: FolderId,
    pairs: &[(u32, u32)],
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "UPDATE health_documents SET folder_id = ?1, message_uid = ?2 \
             WHERE folder_id = ?3 AND message_uid = ?4",
        )
        .db("moving document rows")?;
    for (old, new) in pairs {
        stmt.execute(rusqlite::params![to.0, new, from.0, old])
            .db("moving document rows")?;
    }
    Ok(())
}

/// The index of `mailbox`, oldest first; only current versions unless `all`.
pub(crate) fn list(
    conn: &Connection,
    mailbox: MailboxId,
    all: bool,
) -> Result<Vec<IndexedDocument>> {
    let filter = if all { "" } else { " AND status = 'current'" };
    let sql =
        format!("SELECT {COLUMNS} FROM health_documents WHERE mailbox_id = ?1{filter} ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql).db("listing documents")?;
    let rows = stmt
        .query_map([mailbox.0], raw_row)
        .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
        .db("listing documents")?;
    rows.into_iter().map(RawRow::into_document).collect()
}

type RawRow = (
    (
        i64,
        i64,
        String,
        Option<String>,
        Option<i64>,
        String,
        Option<String>,
        Option<String>,
    ),
    (
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<i64>,
    ),
    (Option<String>, i64, i64),
);

fn raw_row(r: &rusqlite::Row) -> rusqlite::Result<RawRow> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ),
        (
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
            r.get(14)?,
            r.get(15)?,
        ),
        (r.get(16)?, r.get(17)?, r.get(18)?),
    ))
}

trait IntoDocument {
    fn into_document(self) -> Result<IndexedDocument>;
}

impl IntoDocument for RawRow {
    fn into_document(self) -> Result<IndexedDocument> {
        let (
            (row, uid, cda_id, set_id, version, code, title, effective_time),
            rest,
            (note, indexed_at, folder),
        ) = self;
        let (author, author_org, patients, restrictions, action, parent_id, status, anomaly) = rest;
        let json = |text: &str| -> Result<Vec<String>> {
            serde_json::from_str(text)
                .map_err(|e| Error::corrupt("health_documents", e.to_string()))
        };
        Ok(IndexedDocument {
            row,
            folder: FolderId(folder),
            message_uid: u32_from_i64(uid, "health_documents", "message_uid")?,
            cda_id,
            set_id,
            version: version
                .map(|v| u32_from_i64(v, "health_documents", "version"))
                .transpose()?,
            code,
            title,
            effective_time,
            author,
            author_org,
            patient_ids: json(&patients)?,
            restrictions: json(&restrictions)?,
            action,
            parent_id,
            status: parse_status(&status)?,
            anomaly: anomaly
                .map(|a| u32_from_i64(a, "health_documents", "anomaly"))
                .transpose()?,
            note,
            indexed_at,
        })
    }
}
