//! Message bytes, stored once per delivery or queue entry and shared by reference — the blob
//! seam of the PostgreSQL store.
//!
//! Today every blob is inline: `blobs.bytes` holds the whole message (a body staged in a file
//! by [`crate::Store::new_blob`] is read back and stored with its head, then the file goes).
//! `blobs.location` is where an object store (S3-like, shared by every node) would name the
//! bytes after the head; only this module would change: [`store_bytes`] writes, [`whole`]
//! reads, [`delete_unreferenced`] records locations to remove once the deletion commits.

use super::{PgResult, Tx, execute, query, query_one};
use crate::blob_files::{BlobDir, MessageBytes};
use crate::error::{Error, Result};

/// A message ready to store: all of its bytes in memory, its digest computed as the SQLite
/// store does (so the same message has the same `sha256` in both backends).
pub(crate) struct Ready {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub summary: Option<Vec<u8>>,
    /// Kept until the row is committed; then dropped, which removes the staged file.
    _staged: MessageBytes,
}

impl Ready {
    pub(crate) fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Reads a staged body back into memory (blocking file read on the blocking pool).
pub(crate) async fn ready(
    staging: &BlobDir,
    mut message: MessageBytes,
    summary: Option<Vec<u8>>,
) -> Result<Ready> {
    let sha256 = message.digest_hex();
    let Some(body) = message.body.as_ref() else {
        let bytes = std::mem::take(&mut message.head);
        return Ok(Ready {
            bytes,
            sha256,
            summary,
            _staged: message,
        });
    };
    let (name, size) = (body.name().to_owned(), body.size());
    let staging = staging.clone();
    let head = std::mem::take(&mut message.head);
    let bytes = tokio::task::spawn_blocking(move || {
        let mut bytes = head;
        staging.read(&name, size, &mut bytes)?;
        Ok::<_, Error>(bytes)
    })
    .await
    .map_err(|e| Error::Io {
        path: "staging".to_owned(),
        detail: format!("reading a staged body: the blocking task failed: {e}"),
    })??;
    Ok(Ready {
        bytes,
        sha256,
        summary,
        _staged: message,
    })
}

/// Stores the message; returns the blob id.
pub(crate) async fn store_bytes(tx: &Tx<'_>, message: &Ready) -> Result<i64> {
    let size = i64::try_from(message.bytes.len()).unwrap_or(i64::MAX);
    let id: i64 = query_one(
        tx,
        "INSERT INTO blobs (sha256, size, bytes) VALUES ($1, $2, $3) RETURNING id",
        &[&message.sha256, &size, &message.bytes],
    )
    .await?
    .get(0);
    if let Some(summary) = &message.summary {
        execute(
            tx,
            "INSERT INTO blob_summaries (blob_id, summary) VALUES ($1, $2)",
            &[&id, summary],
        )
        .await?;
    }
    Ok(id)
}

/// Deletes those of `ids` that no message and no queue entry uses any more.
pub(crate) async fn delete_unreferenced(tx: &Tx<'_>, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids = ids.to_vec();
    let gone = query(
        tx,
        "DELETE FROM blobs b WHERE b.id = ANY($1) \
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = b.id) \
         AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.blob_id = b.id) \
         RETURNING b.location",
        &[&ids],
    )
    .await?;
    for row in gone {
        let location: Option<String> = row.get(0);
        if let Some(location) = location {
            execute(
                tx,
                "INSERT INTO blob_garbage (location) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&location],
            )
            .await?;
        }
    }
    Ok(())
}

/// The whole message of a blob row.
pub(crate) fn whole(bytes: Vec<u8>, location: Option<String>) -> Result<Vec<u8>> {
    match location {
        None => Ok(bytes),
        Some(_) => Err(Error::corrupt(
            "blobs",
            "a blob is in an object store, which this mssd cannot read yet",
        )),
    }
}

/// `ids` locked against deletion while a copy references them (a concurrent expunge of the
/// last other reference must not delete a blob a copy is about to use).
pub(crate) async fn lock_for_share(tx: &Tx<'_>, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids = ids.to_vec();
    tx.query(
        "SELECT 1 FROM blobs WHERE id = ANY($1) FOR KEY SHARE",
        &[&ids],
    )
    .await
    .pg("locking shared blobs")?;
    Ok(())
}
