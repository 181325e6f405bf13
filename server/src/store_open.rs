//! Opens the configured store (SQLite today) behind the `Store` trait.

use std::sync::Arc;

use mssd_store::{SqliteOptions, SqliteStore, Store};

use crate::config::Config;
use crate::error::{Error, Result};

pub fn open(config: &Config) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(open_sqlite(config)?))
}

/// Every message stored gets its IMAP listing summary, so a folder is listed (FETCH FLAGS
/// ENVELOPE) without reading bodies.
fn open_sqlite(config: &Config) -> Result<SqliteStore> {
    create_private_dir(&config.data_dir)?;
    let mut store = SqliteStore::open(&config.database_path(), SqliteOptions::default())?;
    store.set_listing_summarizer(Arc::new(mssd_imap::summary::Summary::stored_form));
    Ok(store)
}

/// The store for `serve`: opened, then cleared of the blob files a crash left behind (only the
/// server may sweep: a command-line tool could remove a body a running server is receiving).
pub async fn open_for_serving(config: &Config) -> Result<Arc<dyn Store>> {
    let store = open_sqlite(config)?;
    let removed = store.sweep_blob_files().await?;
    if removed > 0 {
        tracing::info!(removed, "unused blob files removed at start");
    }
    Ok(Arc::new(store))
}

/// The data dir holds keys and health data: owner-only access.
pub fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| Error::Io {
            what: format!("creating data directory {}", dir.display()),
            source,
        })
}
