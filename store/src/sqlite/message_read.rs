//! Reading messages: metadata listings, bodies, and what changed after a modseq.

use rusqlite::{Connection, OptionalExtension, params};

use super::blobs::assemble;
use super::connection::DbResult;
use super::convert::{i64_from_u64, u32_from_i64, u64_from_i64};
use super::flag_json::parse_flags;
use super::folders::{by_id, folder_exists};
use crate::blob_files::BlobDir;
use crate::error::{Error, Result};
use crate::model::{Changes, FolderId, MessageMeta};

const META_COLUMNS: &str = "m.uid, m.modseq, m.flags, b.size, m.internal_date, b.sha256";

pub(crate) fn list(conn: &Connection, folder: FolderId) -> Result<Vec<MessageMeta>> {
    if !folder_exists(conn, folder)? {
        return Err(Error::not_found(format!("folder {}", folder.0)));
    }
    metas(conn, folder, Only::All)
}

/// The metadata of one message; `None` when the folder has no such UID.
pub(crate) fn meta(conn: &Connection, folder: FolderId, uid: u32) -> Result<Option<MessageMeta>> {
    Ok(metas(conn, folder, Only::Uid(uid))?.pop())
}

/// Which messages of a folder `metas` reads.
enum Only {
    All,
    /// Those with a modseq above this.
    ChangedSince(u64),
    Uid(u32),
}

/// Messages changed and UIDs expunged after `since`; both lookups go through a modseq index.
pub(crate) fn changes_since(conn: &Connection, folder: FolderId, since: u64) -> Result<Changes> {
    let current =
        by_id(conn, folder)?.ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))?;
    if current.highest_modseq <= since {
        return Ok(Changes {
            folder: current,
            changed: Vec::new(),
            expunged: Vec::new(),
        });
    }
    let changed = metas(conn, folder, Only::ChangedSince(since))?;
    let since = i64_from_u64(since, "modseq")?;
    let expunged: Vec<i64> = conn
        .prepare_cached(
            "SELECT uid FROM expunged WHERE folder_id = ?1 AND modseq > ?2 ORDER BY uid",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![folder.0, since], |r| r.get(0))?
                .collect()
        })
        .db("listing expunged UIDs")?;
    Ok(Changes {
        folder: current,
        changed,
        expunged: expunged
            .into_iter()
            .map(|uid| u32_from_i64(uid, "expunged", "uid"))
            .collect::<Result<_>>()?,
    })
}

/// Metadata of the folder's messages (`only` those), UID order.
fn metas(conn: &Connection, folder: FolderId, only: Only) -> Result<Vec<MessageMeta>> {
    type RawMeta = (i64, i64, String, i64, i64, String);
    let read = |r: &rusqlite::Row<'_>| -> rusqlite::Result<RawMeta> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    };
    let rows: Vec<RawMeta> = match only {
        Only::All => conn
            .prepare_cached(&format!(
                "SELECT {META_COLUMNS} FROM messages m \
                 JOIN blobs b INDEXED BY blobs_meta ON b.id = m.blob_id \
                 WHERE m.folder_id = ?1 ORDER BY m.uid"
            ))
            .and_then(|mut stmt| stmt.query_map([folder.0], read)?.collect()),
        Only::Uid(uid) => conn
            .prepare_cached(&format!(
                "SELECT {META_COLUMNS} FROM messages m \
                 JOIN blobs b INDEXED BY blobs_meta ON b.id = m.blob_id \
                 WHERE m.folder_id = ?1 AND m.uid = ?2"
            ))
            .and_then(|mut stmt| stmt.query_map(params![folder.0, uid], read)?.collect()),
        Only::ChangedSince(since) => {
            let since = i64_from_u64(since, "modseq")?;
            conn.prepare_cached(&format!(
                "SELECT {META_COLUMNS} FROM messages m INDEXED BY messages_modseq \
                 JOIN blobs b INDEXED BY blobs_meta ON b.id = m.blob_id \
                 WHERE m.folder_id = ?1 AND m.modseq > ?2 ORDER BY m.uid"
            ))
            .and_then(|mut stmt| stmt.query_map(params![folder.0, since], read)?.collect())
        }
    }
    .db("listing messages")?;
    rows.into_iter()
        .map(|(uid, modseq, flags, size, internal_date, sha256)| {
            Ok(MessageMeta {
                uid: u32_from_i64(uid, "messages", "uid")?,
                modseq: u64_from_i64(modseq, "messages", "modseq")?,
                flags: parse_flags(&flags)?,
                size: u64_from_i64(size, "blobs", "size")?,
                internal_date,
                sha256,
            })
        })
        .collect()
}

pub(crate) fn body(
    conn: &Connection,
    blobs: &BlobDir,
    folder: FolderId,
    uid: u32,
) -> Result<Option<Vec<u8>>> {
    let row: Option<(Vec<u8>, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT b.bytes, b.file, b.size FROM messages m JOIN blobs b ON b.id = m.blob_id \
             WHERE m.folder_id = ?1 AND m.uid = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![folder.0, uid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .db("reading a message")?;
    row.map(|(head, file, size)| assemble(blobs, head, file, size))
        .transpose()
}

/// Bodies of several messages in one snapshot; unknown UIDs skipped; UID order.
pub(crate) fn bodies(
    conn: &Connection,
    blobs: &BlobDir,
    folder: FolderId,
    uids: &[u32],
) -> Result<Vec<(u32, Vec<u8>)>> {
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    let mut out = Vec::with_capacity(uids.len());
    for uid in uids {
        if let Some(bytes) = body(conn, blobs, folder, uid)? {
            out.push((uid, bytes));
        }
    }
    Ok(out)
}

/// The listing summaries of `uids` (those that have one), UID order. The UIDs of one FETCH
/// chunk are mostly consecutive: one range scan, filtered, instead of a lookup each.
pub(crate) fn summaries(
    conn: &Connection,
    folder: FolderId,
    mut uids: Vec<u32>,
) -> Result<Vec<(u32, Vec<u8>)>> {
    uids.sort_unstable();
    uids.dedup();
    let (Some(&first), Some(&last)) = (uids.first(), uids.last()) else {
        return Ok(Vec::new());
    };
    let rows: Vec<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT m.uid, s.summary FROM messages m \
             JOIN blob_summaries s ON s.blob_id = m.blob_id \
             WHERE m.folder_id = ?1 AND m.uid BETWEEN ?2 AND ?3 ORDER BY m.uid",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![folder.0, first, last], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect()
        })
        .db("reading listing summaries")?;
    let mut out = Vec::with_capacity(uids.len().min(rows.len()));
    for (uid, summary) in rows {
        let uid = u32_from_i64(uid, "messages", "uid")?;
        if uids.binary_search(&uid).is_ok() {
            out.push((uid, summary));
        }
    }
    Ok(out)
}

/// The `bytes` of each message's blob: the whole message, or the head of one with a file.
pub(crate) fn heads(
    conn: &Connection,
    folder: FolderId,
    mut uids: Vec<u32>,
) -> Result<Vec<(u32, Vec<u8>)>> {
    uids.sort_unstable();
    uids.dedup();
    let mut stmt = conn
        .prepare_cached(
            "SELECT b.bytes FROM messages m JOIN blobs b ON b.id = m.blob_id \
             WHERE m.folder_id = ?1 AND m.uid = ?2",
        )
        .db("preparing a message head read")?;
    let mut out = Vec::with_capacity(uids.len());
    for uid in uids {
        let head: Option<Vec<u8>> = stmt
            .query_row(params![folder.0, uid], |r| r.get(0))
            .optional()
            .db("reading a message head")?;
        if let Some(head) = head {
            out.push((uid, head));
        }
    }
    Ok(out)
}
