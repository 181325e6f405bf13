//! The SQLite implementation of [`crate::Store`].

pub(crate) mod audit;
mod blob_sweep;
mod blobs;
mod citizen_exchanges;
pub(crate) mod connection;
mod convert;
mod copy_move;
mod directory_impl;
mod directory_read;
pub(crate) mod directory_write;
mod document_index;
pub(crate) mod documents;
mod flag_json;
pub(crate) mod flag_store;
mod folder_admin;
pub(crate) mod folder_names;
pub(crate) mod folders;
mod grants;
mod health;
pub(crate) mod indicators;
mod job_lock;
mod mailboxes;
mod message_read;
mod message_removal;
mod messages;
mod migrations;
mod notifications;
mod prepared;
mod queue;
mod queue_restart;
pub(crate) mod quota;
mod readers;
mod snapshot;
mod store_impl;
mod subscriptions;
mod writer;
#[cfg(test)]
mod writer_tests;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::info;

use crate::blob_files::BlobDir;
use crate::change_feed::ChangeFeed;
use crate::error::Result;
use crate::model::{Delivered, FolderChange, WriterStats};
pub use migrations::{latest_schema_version, migration_scripts};
pub use snapshot::{Snapshot, referenced_blob_files, sqlite_quick_check, sqlite_snapshot};

use readers::ReadPool;
use writer::{BatchLimits, Writer};

/// Computes the listing summary of a message from its header block (see
/// [`SqliteStore::set_listing_summarizer`]); its bytes are opaque to the store.
pub type ListingSummarizer = std::sync::Arc<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// Batch weight of a job without message bytes.
const SMALL_JOB: usize = 512;

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
    blobs: BlobDir,
    summarizer: Option<ListingSummarizer>,
    writer: Writer,
    readers: ReadPool,
    feed: ChangeFeed,
}

impl SqliteStore {
    /// Opens (creating it if needed) and migrates the database at `path`. Blocking: call it at
    /// start-up or from `spawn_blocking`. The directory must exist.
    pub fn open(path: &Path, options: SqliteOptions) -> Result<SqliteStore> {
        let mut conn = connection::open_writer(path)?;
        let version = migrations::migrate(&mut conn, migrations::MIGRATIONS)?;
        // The database, WAL and shm files now exist; make their directory entries durable.
        connection::sync_parent_dir(path)?;
        let blobs = BlobDir::open(blob_dir_of(path))?;
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
            blobs,
            summarizer: None,
            writer,
            readers: ReadPool::new(path.to_path_buf(), options.read_connections),
            feed: ChangeFeed::new(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Computes each new message's listing summary with `summarize` (given its header block),
    /// stored with it for [`crate::Store::listing_summaries`].
    pub fn set_listing_summarizer(&mut self, summarize: ListingSummarizer) {
        self.summarizer = Some(summarize);
    }

    /// The directory of the large messages' body files (`blobs/` beside the database).
    pub fn blob_dir(&self) -> &BlobDir {
        &self.blobs
    }

    /// Lets the writer finish the jobs already sent, then stops it and closes its connection.
    pub async fn close(self) -> Result<()> {
        self.writer.shutdown().await
    }

    /// Queue entries `ids` read in the read pool, in that order (see `queue::claim_due`).
    async fn queued_by_ids(
        &self,
        ids: Vec<crate::model::QueueId>,
    ) -> Result<Vec<crate::model::Queued>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let blobs = self.blobs.clone();
        self.readers
            .run(move |c| queue::by_ids(c, &blobs, &ids))
            .await
    }

    fn writer_stats(&self) -> WriterStats {
        self.writer.stats()
    }

    fn writer_alive(&self) -> bool {
        self.writer.is_alive()
    }

    /// Runs a write job that reports the folders it changed, and publishes them on the change
    /// feed only once the job's batch is committed (fsynced): a woken IDLE session must find
    /// the change when it reads.
    async fn write_publishing<T, F>(&self, weight: usize, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<(T, Vec<FolderChange>)> + Send + 'static,
    {
        let (value, changes) = self.writer.run(weight, work).await?;
        for change in changes {
            self.feed.publish(change);
        }
        Ok(value)
    }
}

/// `blobs/` in the database's directory: where the blob files of the SQLite store at
/// `database` are.
pub fn blob_dir_of(database: &Path) -> PathBuf {
    match database.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("blobs"),
        _ => PathBuf::from("blobs"),
    }
}

/// One change per folder touched by `delivered`, with the highest modseq reached there.
fn changes_of(delivered: &[Delivered]) -> Vec<FolderChange> {
    let mut changes: Vec<FolderChange> = Vec::with_capacity(delivered.len());
    for d in delivered {
        match changes.iter_mut().find(|c| c.folder == d.folder) {
            Some(c) => c.highest_modseq = c.highest_modseq.max(d.modseq),
            None => changes.push(FolderChange {
                mailbox: d.mailbox,
                folder: d.folder,
                highest_modseq: d.modseq,
            }),
        }
    }
    changes
}

/// Seconds since the Unix epoch; 0 if the clock is before it.
fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
