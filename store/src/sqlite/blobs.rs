//! Message bytes, stored once per delivery or queue entry and shared by reference.

use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

use super::connection::DbResult;
use crate::error::Result;

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Stores `bytes` with their SHA-256; returns the blob id.
pub(crate) fn insert_blob(conn: &Connection, bytes: &[u8]) -> Result<i64> {
    let sha256 = sha256_hex(bytes);
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    conn.prepare_cached("INSERT INTO blobs (sha256, size, bytes) VALUES (?1, ?2, ?3)")
        .and_then(|mut stmt| stmt.execute(params![sha256, size, bytes]))
        .db("storing message bytes")?;
    Ok(conn.last_insert_rowid())
}

/// Deletes those of `ids` that no message and no queue entry uses any more.
pub(crate) fn delete_unreferenced_blobs(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "DELETE FROM blobs WHERE id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_id = ?1) \
             AND NOT EXISTS (SELECT 1 FROM queue WHERE blob_id = ?1)",
        )
        .db("preparing blob clean-up")?;
    for id in ids {
        stmt.execute([id]).db("deleting an unused blob")?;
    }
    Ok(())
}
