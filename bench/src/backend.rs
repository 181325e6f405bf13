//! The two store backends the `backend-bench` compares: a SQLite file in a temporary folder,
//! and a database on a PostgreSQL cluster the bench starts itself (`mssd_pg_test`, the
//! throwaway cluster of the tests: loopback, trust authentication, `fsync=on`,
//! `synchronous_commit=on`). Each measure gets a fresh store, opened through the library (for
//! the Store API measures) or named in the server's `[store]` section.

use std::sync::Arc;

use mssd_store::{PostgresOptions, PostgresStore, SqliteOptions, SqliteStore, Store};

use crate::error::{Error, Result, io};

/// Connections of a PostgreSQL store opened by the bench (the server's `pool_size` too).
pub const POOL_SIZE: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const BOTH: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A store for one measure, and what must outlive it.
pub struct BenchStore {
    pub store: Arc<dyn Store>,
    /// The SQLite folder (removed when dropped).
    _dir: Option<tempfile::TempDir>,
}

/// A new, empty database on the bench's cluster; an error when PostgreSQL is not installed.
pub async fn fresh_postgres_url() -> Result<String> {
    mssd_pg_test::fresh_database().await.ok_or_else(|| {
        Error::Metrics(
            "PostgreSQL server binaries not found: install the Debian package `postgresql` \
             or set MSSD_PG_BIN"
                .into(),
        )
    })
}

/// An empty store of `backend`.
pub async fn open_fresh(backend: Backend) -> Result<BenchStore> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::Builder::new()
                .prefix("mssd-backend-bench-")
                .tempdir()
                .map_err(io("creating a temporary folder"))?;
            let store =
                SqliteStore::open(&dir.path().join("mssd.sqlite3"), SqliteOptions::default())?;
            Ok(BenchStore {
                store: Arc::new(store),
                _dir: Some(dir),
            })
        }
        Backend::Postgres => {
            let url = fresh_postgres_url().await?;
            Ok(BenchStore {
                store: Arc::new(open_postgres(&url).await?),
                _dir: None,
            })
        }
    }
}

/// The store at `url`, staging under the cluster's folder.
pub async fn open_postgres(url: &str) -> Result<PostgresStore> {
    let mut options = PostgresOptions::new(POOL_SIZE);
    options.staging_dir = mssd_pg_test::staging_dir();
    Ok(PostgresStore::connect(url, options).await?)
}

/// The server's `[store]` section for a database at `url`.
pub fn store_section(url: &str) -> String {
    format!("\n[store]\nbackend = \"postgres\"\nurl = \"{url}\"\npool_size = {POOL_SIZE}\n")
}

/// The cluster's settings that matter for these figures, as one line.
pub async fn cluster_settings() -> Result<String> {
    let url = fresh_postgres_url().await?;
    let client = mssd_pg_test::connect(&url).await;
    let mut parts = Vec::new();
    for name in [
        "server_version",
        "shared_buffers",
        "wal_buffers",
        "synchronous_commit",
        "fsync",
        "commit_delay",
        "max_wal_size",
        "effective_cache_size",
    ] {
        let row = client
            .query_one(&format!("SHOW {name}"), &[])
            .await
            .map_err(|e| Error::Metrics(format!("SHOW {name}: {e}")))?;
        let value: String = row.get(0);
        parts.push(format!("{name}={value}"));
    }
    Ok(parts.join(" "))
}
