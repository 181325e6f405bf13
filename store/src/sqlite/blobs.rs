//! Message bytes, stored once per delivery or queue entry and shared by reference.
//!
//! A small message's bytes are a row's `bytes`. A large one keeps its head (the header block)
//! there and its body in a blob file the row's `file` names (see `crate::blob_files`). When the
//! last reference goes, a row with a file is deleted and its file name is recorded in
//! `blob_garbage` in the same transaction; the files are removed once that is committed
//! (`collect_garbage`), so a rolled-back deletion never loses a body.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::connection::DbResult;
use crate::blob_files::{BlobDir, MessageBytes};
use crate::error::Result;

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Stores the message with its content digest; returns the blob id. A body file becomes the
/// row's (claimed: it is no longer removed when the message is dropped).
pub(crate) fn insert_blob(
    conn: &Connection,
    message: &MessageBytes,
    summary: Option<&[u8]>,
) -> Result<i64> {
    let sha256 = message.digest_hex();
    let size = i64::try_from(message.len()).unwrap_or(i64::MAX);
    let file = message.body.as_ref().map(|b| b.name());
    conn.prepare_cached("INSERT INTO blobs (sha256, size, bytes, file) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut stmt| stmt.execute(params![sha256, size, message.head, file]))
        .db("storing message bytes")?;
    let id = conn.last_insert_rowid();
    if let Some(summary) = summary {
        conn.prepare_cached("INSERT INTO blob_summaries (blob_id, summary) VALUES (?1, ?2)")
            .and_then(|mut stmt| stmt.execute(params![id, summary]))
            .db("storing a listing summary")?;
    }
    if let Some(body) = &message.body {
        body.set_claimed(true);
    }
    Ok(id)
}

/// Deletes those of `ids` that no message and no queue entry uses any more; their files go to
/// `blob_garbage`.
pub(crate) fn delete_unreferenced_blobs(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "DELETE FROM blobs WHERE id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?1) \
             AND NOT EXISTS (SELECT 1 FROM queue WHERE blob_id = ?1) \
             RETURNING file",
        )
        .db("preparing blob clean-up")?;
    let mut garbage = conn
        .prepare_cached("INSERT OR IGNORE INTO blob_garbage (file) VALUES (?1)")
        .db("preparing blob file clean-up")?;
    for id in ids {
        let file: Option<Option<String>> = stmt
            .query_row([id], |r| r.get(0))
            .optional()
            .db("deleting an unused blob")?;
        if let Some(Some(file)) = file {
            garbage
                .execute([file])
                .db("recording an unused blob file")?;
        }
    }
    Ok(())
}

/// The whole message of a blob row: its `bytes`, then its file's if it has one.
pub(crate) fn assemble(
    blobs: &BlobDir,
    head: Vec<u8>,
    file: Option<String>,
    size: i64,
) -> Result<Vec<u8>> {
    let Some(file) = file else { return Ok(head) };
    let body_size = u64::try_from(size)
        .unwrap_or(0)
        .saturating_sub(head.len() as u64);
    let mut message = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    message.extend_from_slice(&head);
    blobs.read(&file, body_size, &mut message)?;
    Ok(message)
}

/// File names whose rows are gone, as committed (read on a read connection, so a deletion
/// still in an open transaction is never seen).
pub(crate) fn garbage(conn: &Connection, limit: usize) -> Result<Vec<String>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    conn.prepare_cached("SELECT file FROM blob_garbage LIMIT ?1")
        .and_then(|mut stmt| stmt.query_map([limit], |r| r.get(0))?.collect())
        .db("listing unused blob files")
}

/// Forgets garbage entries whose files were removed.
pub(crate) fn forget_garbage(conn: &Connection, files: &[String]) -> Result<()> {
    let mut stmt = conn
        .prepare_cached("DELETE FROM blob_garbage WHERE file = ?1")
        .db("preparing the blob garbage clean-up")?;
    for file in files {
        stmt.execute([file]).db("forgetting a removed blob file")?;
    }
    Ok(())
}

/// Whether a blob row names `file`: the sweep removes every other file.
pub(crate) fn is_referenced(conn: &Connection, file: &str) -> Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM blobs WHERE file = ?1)")
        .and_then(|mut stmt| stmt.query_row([file], |r| r.get(0)))
        .db("looking a blob file up")
}
