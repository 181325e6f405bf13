//! The per-mailbox index of health documents (written in the delivery's transaction) and the
//! history the citizen rules read (written in the acceptance's). The version rules are the
//! SQLite store's (see `crate::sqlite::document_index`): a replacement supersedes its parent,
//! a deletion withdraws it; only the latest version may be replaced or deleted (else 900),
//! and only by its author or the author's structure (else 901).

use tokio_postgres::Row;

use super::{Tx, execute, query, query_opt, u32_of};
use crate::citizen_model::{CitizenExchange, ExchangeHistory};
use crate::document_model::{DocumentAction, DocumentStatus, IndexedDocument, NewDocument};
use crate::error::{Error, Result};
use crate::model::{FolderId, MailboxId};

/// ANS applicationErrorCondition: the replaced or deleted version is not the latest.
const NOT_LATEST: i32 = 900;
/// ANS applicationErrorCondition: the author may not replace or delete this document.
const AUTHOR_NOT_ALLOWED: i32 = 901;

/// Indexes `documents` of the message `uid` of `folder` in `mailbox`, in order.
pub(crate) async fn index(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    folder: FolderId,
    uid: u32,
    documents: &[NewDocument],
    now: i64,
) -> Result<()> {
    for doc in documents {
        let (status, parent_id, anomaly, note) = decide(tx, mailbox, doc).await?;
        let version = doc.version.map(i64::from);
        execute(
            tx,
            "INSERT INTO health_documents (mailbox_id, folder_id, message_uid, cda_id, set_id, \
             version, code, title, effective_time, author, author_org, patient_ids, restrictions, \
             action, parent_id, status, anomaly, note, indexed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CAST($12::text AS jsonb), \
             CAST($13::text AS jsonb), $14, $15, $16, $17, $18, $19)",
            &[
                &mailbox.0,
                &folder.0,
                &i64::from(uid),
                &doc.cda_id,
                &doc.set_id,
                &version,
                &doc.code,
                &doc.title,
                &doc.effective_time,
                &doc.author,
                &doc.author_org,
                &serde_json::to_string(&doc.patient_ids).unwrap_or_default(),
                &serde_json::to_string(&doc.restrictions).unwrap_or_default(),
                &doc.action.as_str(),
                &parent_id,
                &status.as_str(),
                &anomaly,
                &note,
                &now,
            ],
        )
        .await?;
    }
    Ok(())
}

type Decision = (DocumentStatus, Option<String>, Option<i32>, Option<String>);

/// The new row's status, parent, anomaly and note; updates the parent when the request holds.
async fn decide(tx: &Tx<'_>, mailbox: MailboxId, doc: &NewDocument) -> Result<Decision> {
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
    // The latest row of the target that is not itself a refused request (locked: two
    // deliveries replacing the same document are decided one after the other).
    let parent = query_opt(
        tx,
        "SELECT id, status, author, author_org FROM health_documents \
         WHERE mailbox_id = $1 AND cda_id = $2 AND anomaly IS NULL AND action <> 'delete' \
         ORDER BY id DESC LIMIT 1 FOR UPDATE",
        &[&mailbox.0, &target],
    )
    .await?;
    let Some(parent) = parent else {
        let note = match doc.action {
            DocumentAction::Delete => "deletes a document this mailbox never received",
            _ => "replaces a document this mailbox never received",
        };
        return Ok((outcome_status, Some(target), None, Some(note.into())));
    };
    let (row, status, author, author_org): (i64, String, Option<String>, Option<String>) =
        (parent.get(0), parent.get(1), parent.get(2), parent.get(3));
    let status = parse_status(&status)?;
    let refused = match doc.action {
        DocumentAction::Delete => DocumentStatus::Withdrawn,
        _ => DocumentStatus::Superseded,
    };
    if status != DocumentStatus::Current {
        let note = format!("refers to a version that is {}", status.as_str());
        return Ok((refused, Some(target), Some(NOT_LATEST), Some(note)));
    }
    let same_author = doc.author.is_some() && doc.author == author;
    let same_structure = doc.author_org.is_some() && doc.author_org == author_org;
    if !same_author && !same_structure {
        let note = "the author is neither the original author nor of the same structure";
        return Ok((
            refused,
            Some(target),
            Some(AUTHOR_NOT_ALLOWED),
            Some(note.into()),
        ));
    }
    execute(
        tx,
        "UPDATE health_documents SET status = $3 WHERE mailbox_id = $1 AND id = $2",
        &[&mailbox.0, &row, &on_success.as_str()],
    )
    .await?;
    Ok((outcome_status, Some(target), None, None))
}

fn parse_status(s: &str) -> Result<DocumentStatus> {
    DocumentStatus::parse(s)
        .ok_or_else(|| Error::corrupt("health_documents", format!("status {s:?}")))
}

/// A message moved within its mailbox takes its documents along.
pub(crate) async fn follow_move(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    from: FolderId,
    to: FolderId,
    pairs: &[(u32, u32)],
) -> Result<()> {
    for (old, new) in pairs {
        execute(
            tx,
            "UPDATE health_documents SET folder_id = $2, message_uid = $3 \
             WHERE mailbox_id = $1 AND folder_id = $4 AND message_uid = $5",
            &[
                &mailbox.0,
                &to.0,
                &i64::from(*new),
                &from.0,
                &i64::from(*old),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The index of `mailbox`, oldest first; only current versions unless `all`.
pub(crate) async fn list(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    all: bool,
) -> Result<Vec<IndexedDocument>> {
    let filter = if all { "" } else { " AND status = 'current'" };
    let sql = format!(
        "SELECT id, message_uid, cda_id, set_id, version, code, title, effective_time, author, \
         author_org, patient_ids::text, restrictions::text, action, parent_id, status, anomaly, \
         note, indexed_at, folder_id FROM health_documents WHERE mailbox_id = $1{filter} ORDER BY id"
    );
    query(tx, &sql, &[&mailbox.0])
        .await?
        .iter()
        .map(document_of_row)
        .collect()
}

fn document_of_row(r: &Row) -> Result<IndexedDocument> {
    let json = |i: usize| -> Result<Vec<String>> {
        serde_json::from_str(r.get::<_, &str>(i))
            .map_err(|e| Error::corrupt("health_documents", e.to_string()))
    };
    Ok(IndexedDocument {
        row: r.get(0),
        folder: FolderId(r.get(18)),
        message_uid: u32_of(r.get(1), "health_documents", "message_uid")?,
        cda_id: r.get(2),
        set_id: r.get(3),
        version: r
            .get::<_, Option<i64>>(4)
            .map(|v| u32_of(v, "health_documents", "version"))
            .transpose()?,
        code: r.get(5),
        title: r.get(6),
        effective_time: r.get(7),
        author: r.get(8),
        author_org: r.get(9),
        patient_ids: json(10)?,
        restrictions: json(11)?,
        action: r.get(12),
        parent_id: r.get(13),
        status: parse_status(r.get(14))?,
        anomaly: r
            .get::<_, Option<i32>>(15)
            .map(|a| u32_of(i64::from(a), "health_documents", "anomaly"))
            .transpose()?,
        note: r.get(16),
        indexed_at: r.get(17),
    })
}

// --- citizen exchanges ---

pub(crate) async fn record_exchanges(
    tx: &Tx<'_>,
    exchanges: &[CitizenExchange],
    now: i64,
) -> Result<()> {
    for e in exchanges {
        execute(
            tx,
            "INSERT INTO citizen_exchanges (professional, citizen, wrote_open, last_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (professional, citizen) DO UPDATE SET \
             wrote_open = citizen_exchanges.wrote_open OR EXCLUDED.wrote_open, \
             last_at = EXCLUDED.last_at",
            &[&e.professional, &e.citizen, &!e.closed, &now],
        )
        .await?;
        if let (true, Some(id)) = (e.closed, &e.message_id) {
            execute(
                tx,
                "INSERT INTO closed_messages (citizen, message_id, professional) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&e.citizen, id, &e.professional],
            )
            .await?;
        }
    }
    Ok(())
}

pub(crate) async fn history(
    tx: &Tx<'_>,
    professional: &str,
    citizen: &str,
) -> Result<ExchangeHistory> {
    let open: Option<bool> = query_opt(
        tx,
        "SELECT wrote_open FROM citizen_exchanges WHERE professional = $1 AND citizen = $2",
        &[&professional, &citizen],
    )
    .await?
    .map(|r| r.get(0));
    Ok(ExchangeHistory {
        wrote: open.is_some(),
        wrote_open: open == Some(true),
    })
}

/// Whether one of `message_ids` is a closed message sent to `citizen`.
pub(crate) async fn answers_closed(
    tx: &Tx<'_>,
    citizen: &str,
    message_ids: &[String],
) -> Result<bool> {
    let ids = message_ids.to_vec();
    Ok(query_opt(
        tx,
        "SELECT 1 FROM closed_messages WHERE citizen = $1 AND message_id = ANY($2) LIMIT 1",
        &[&citizen, &ids],
    )
    .await?
    .is_some())
}
