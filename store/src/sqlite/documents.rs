//! Named documents stored whole, replaced on each put (e.g. the last good liste blanche).

use rusqlite::{Connection, OptionalExtension, params};

use super::blobs::sha256_hex;
use super::connection::DbResult;
use crate::error::{Error, Result};

/// Longest document name accepted; names are identifiers chosen by code, not user text.
const MAX_NAME_LEN: usize = 200;

pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Error::invalid(
            "document name",
            format!("must be 1 to {MAX_NAME_LEN} bytes long, got {}", name.len()),
        ));
    }
    Ok(())
}

/// Inserts or replaces the document `name`.
pub(crate) fn put(conn: &Connection, name: &str, bytes: &[u8], now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO documents (name, bytes, sha256, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (name) DO UPDATE SET bytes = excluded.bytes, sha256 = excluded.sha256, \
         updated_at = excluded.updated_at",
    )
    .and_then(|mut stmt| stmt.execute(params![name, bytes, sha256_hex(bytes), now]))
    .db("storing a document")?;
    Ok(())
}

/// The digest recorded with document `name`.
pub(crate) fn digest(conn: &Connection, name: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT sha256 FROM documents WHERE name = ?1")
        .and_then(|mut stmt| stmt.query_row([name], |r| r.get(0)).optional())
        .db("reading a document's digest")
}

/// The bytes of document `name`, verified against the digest stored with them.
pub(crate) fn get(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>> {
    let row: Option<(Vec<u8>, String)> = conn
        .prepare_cached("SELECT bytes, sha256 FROM documents WHERE name = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .db("reading a document")?;
    let Some((bytes, stored_digest)) = row else {
        return Ok(None);
    };
    let actual = sha256_hex(&bytes);
    if !actual.eq_ignore_ascii_case(&stored_digest) {
        return Err(Error::corrupt(
            "documents",
            format!(
                "document {name:?}: bytes have SHA-256 {actual}, the row records {stored_digest}"
            ),
        ));
    }
    Ok(Some(bytes))
}
