//! The SQLite implementation of [`crate::Store`].

mod audit;
mod blobs;
mod connection;
mod convert;
mod directory_impl;
mod directory_read;
mod directory_write;
mod documents;
mod folders;
mod grants;
mod health;
mod mailboxes;
mod messages;
mod migrations;
mod queue;
mod readers;
mod store_impl;
mod writer;
#[cfg(test)]
mod writer_tests;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::info;

use crate::error::Result;
use crate::model::WriterStats;
pub use migrations::{latest_schema_version, migration_scripts};
use readers::ReadPool;
use writer::{BatchLimits, Writer};

/// Tuning of a [`SqliteStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// Read-only connections used at the same time (at least 1).
    pub read_connections: usize,
    /// Most jobs in one group commit (at least 1).
    pub max_batch: usize,
    /// Most message bytes in one group commit; a batch stops growing once it is reached.
    pub max_batch_bytes: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            read_connections: 4,
            max_batch: 256,
            max_batch_bytes: 32 * 1024 * 1024,
        }
    }
}

/// A store in one SQLite database file (WAL mode, `synchronous=FULL`), written by one
/// group-commit thread and read through a small pool of read-only connections.
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: ReadPool,
}

impl SqliteStore {
    /// Opens (creating it if needed) and migrates the database at `path`. Blocking: call it at
    /// start-up or from `spawn_blocking`. The directory must exist.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        let mut conn = connection::open_writer(path)?;
        let version = migrations::migrate(&mut conn, migrations::MIGRATIONS)?;
        // The database, WAL and shm files now exist; make their directory entries durable.
        connection::sync_parent_dir(path)?;
        let writer = Writer::start(
            conn,
            BatchLimits {
                max_jobs: options.max_batch,
                max_bytes: options.max_batch_bytes,
            },
        )?;
        info!(path = %path.display(), schema_version = version, "store opened");
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer,
            readers: ReadPool::new(path.to_path_buf(), options.read_connections),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lets the writer finish the jobs already sent, then stops it and closes its connection.
    pub async fn close(self) -> Result<()> {
        self.writer.shutdown().await
    }

    fn writer_stats(&self) -> WriterStats {
        self.writer.stats()
    }

    fn writer_alive(&self) -> bool {
        self.writer.is_alive()
    }
}

/// Seconds since the Unix epoch; 0 if the clock is before it.
fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
