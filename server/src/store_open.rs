//! Opens the configured store (SQLite today) behind the `Store` trait.

use std::sync::Arc;

use mssd_store::{SqliteOptions, SqliteStore, Store};

use crate::config::Config;
use crate::error::{Error, Result};

pub fn open(config: &Config) -> Result<Arc<dyn Store>> {
    create_private_dir(&config.data_dir)?;
    let store = SqliteStore::open(&config.database_path(), SqliteOptions::default())?;
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
