//! Removing blob files no row names: at the server's start (what a crash left behind) and
//! after the writes that delete blobs.

use tracing::{info, warn};

use super::{SMALL_JOB, SqliteStore, blobs};
use crate::blob_files::BlobDir;
use crate::error::Result;

/// Garbage entries handled per pass.
const GARBAGE_BATCH: usize = 1024;

impl SqliteStore {
    /// Removes every blob file no row names — bodies of uploads cut short by a crash, of
    /// refused messages, of batches that failed to commit — and the files of deleted rows.
    /// Returns how many files went. Only the server calls it, at start, before it accepts
    /// mail: a file being written by a running server is not yet named by any row, so a
    /// command-line tool opening the same database must never sweep.
    pub async fn sweep_blob_files(&self) -> Result<usize> {
        let mut removed = 0;
        loop {
            let collected = self.collect_blob_garbage().await;
            if collected == 0 {
                break;
            }
            removed += collected;
        }
        let dir = self.blobs.clone();
        let files = tokio::task::spawn_blocking(move || dir.list())
            .await
            .map_err(|e| blocking_failed(&self.blobs, &e))??;
        for chunk in files.chunks(GARBAGE_BATCH) {
            let chunk = chunk.to_vec();
            let unreferenced = self
                .readers
                .run(move |c| {
                    let mut out = Vec::new();
                    for file in chunk {
                        if !blobs::is_referenced(c, &file)? {
                            out.push(file);
                        }
                    }
                    Ok(out)
                })
                .await?;
            removed += unreferenced.len();
            let dir = self.blobs.clone();
            tokio::task::spawn_blocking(move || {
                unreferenced.iter().try_for_each(|file| dir.remove(file))
            })
            .await
            .map_err(|e| blocking_failed(&self.blobs, &e))??;
        }
        if removed > 0 {
            info!(removed, "blob files no message uses were removed");
        }
        Ok(removed)
    }

    /// Removes the files of committed blob deletions. Reads the garbage on a read connection,
    /// which sees committed rows only: a deletion still inside an open batch (that could yet
    /// roll back) is never acted on. A failure is logged; the next pass or start retries.
    /// Returns how many files went.
    pub(super) async fn collect_blob_garbage(&self) -> usize {
        let outcome = async {
            let files = self
                .readers
                .run(|c| blobs::garbage(c, GARBAGE_BATCH))
                .await?;
            if files.is_empty() {
                return Ok(0);
            }
            let dir = self.blobs.clone();
            let files = tokio::task::spawn_blocking(move || {
                for file in &files {
                    dir.remove(file)?;
                }
                Ok::<_, crate::error::Error>(files)
            })
            .await
            .map_err(|e| blocking_failed(&self.blobs, &e))??;
            let count = files.len();
            self.writer
                .run(SMALL_JOB, move |c| blobs::forget_garbage(c, &files))
                .await?;
            Ok::<_, crate::error::Error>(count)
        }
        .await;
        outcome.unwrap_or_else(|e| {
            warn!(error = %e, "removing unused blob files failed; retried later");
            0
        })
    }
}

fn blocking_failed(dir: &BlobDir, e: &tokio::task::JoinError) -> crate::error::Error {
    crate::error::Error::Io {
        path: dir.root().display().to_string(),
        detail: format!("removing blob files: the blocking task failed: {e}"),
    }
}
