//! Opens the configured store (`[store] backend`: SQLite, or PostgreSQL) behind the `Store`
//! trait. Nothing above this file knows which backend it talks to.

use std::sync::Arc;

use mssd_store::{PostgresOptions, PostgresStore, PostgresTls, SqliteOptions, SqliteStore, Store};

use crate::config::{Config, PostgresSettings, StoreBackend};
use crate::error::{Error, Result};

/// The store for a command-line tool.
pub async fn open(config: &Config) -> Result<Arc<dyn Store>> {
    Ok(match &config.store {
        StoreBackend::Sqlite => Arc::new(open_sqlite(config)?),
        StoreBackend::Postgres(settings) => Arc::new(open_postgres(config, settings).await?),
    })
}

/// Every message stored gets its IMAP listing summary, so a folder is listed (FETCH FLAGS
/// ENVELOPE) without reading bodies.
fn open_sqlite(config: &Config) -> Result<SqliteStore> {
    create_private_dir(&config.data_dir)?;
    let mut store = SqliteStore::open(&config.database_path(), SqliteOptions::default())?;
    store.set_listing_summarizer(Arc::new(mssd_imap::summary::Summary::stored_form));
    Ok(store)
}

/// Connects (TLS checked against `[store] anchors` when the URL asks for it), migrates the
/// schema under the database's advisory lock, and refuses a server whose commits would not be
/// durable. Bodies being received are staged under the data dir, which is this node's own.
async fn open_postgres(config: &Config, settings: &PostgresSettings) -> Result<PostgresStore> {
    create_private_dir(&config.data_dir)?;
    let mut options = PostgresOptions::new(settings.pool_size);
    options.staging_dir = config.data_dir.join("staging");
    options.password = match &settings.password_file {
        Some(file) => Some(read_password(file)?),
        None => None,
    };
    if wants_tls(&settings.url) {
        let roots = settings
            .anchors
            .root_store()
            .map_err(|e| Error::Usage(format!("store.anchors: the database's roots: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Usage(format!("TLS to the database: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        options.tls = PostgresTls::Rustls(Arc::new(client));
    }
    let mut store = PostgresStore::connect(&settings.url, options).await?;
    store.set_listing_summarizer(Arc::new(mssd_imap::summary::Summary::stored_form));
    Ok(store)
}

/// Whether the URL's `sslmode` allows TLS (`prefer`, the libpq default, or `require`); with
/// `sslmode=disable` no roots are read.
fn wants_tls(url: &str) -> bool {
    url.parse::<tokio_postgres::Config>()
        .map(|c| c.get_ssl_mode() != tokio_postgres::config::SslMode::Disable)
        .unwrap_or(true)
}

/// The first line of the password file; the file must not be readable by others.
fn read_password(file: &std::path::Path) -> Result<String> {
    use std::os::unix::fs::MetadataExt;
    let what = format!("reading store.password_file {}", file.display());
    let metadata = std::fs::metadata(file).map_err(|source| Error::Io {
        what: what.clone(),
        source,
    })?;
    if metadata.mode() & 0o077 != 0 {
        return Err(Error::Usage(format!(
            "store.password_file {} is readable by others (mode {:o}): chmod 600 it",
            file.display(),
            metadata.mode() & 0o777
        )));
    }
    let text = std::fs::read_to_string(file).map_err(|source| Error::Io { what, source })?;
    let password = text.lines().next().unwrap_or("").to_owned();
    if password.is_empty() {
        return Err(Error::Usage(format!(
            "store.password_file {} is empty",
            file.display()
        )));
    }
    Ok(password)
}

/// The store for `serve`. On SQLite, also clears the blob files a crash left behind (only the
/// server may sweep: a command-line tool could remove a body a running server is receiving).
/// On PostgreSQL bodies are in the database; staged files of this node are swept by the store.
pub async fn open_for_serving(config: &Config) -> Result<Arc<dyn Store>> {
    match &config.store {
        StoreBackend::Sqlite => {
            let store = open_sqlite(config)?;
            let removed = store.sweep_blob_files().await?;
            if removed > 0 {
                tracing::info!(removed, "unused blob files removed at start");
            }
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let released = store.release_queue_leases(now).await?;
            if released > 0 {
                tracing::info!(
                    released,
                    "queue entries claimed before a crash are due again"
                );
            }
            Ok(Arc::new(store))
        }
        StoreBackend::Postgres(settings) => {
            let removed = sweep_staging(&config.data_dir.join("staging"));
            if removed > 0 {
                tracing::info!(removed, "bodies staged before a crash removed at start");
            }
            Ok(Arc::new(open_postgres(config, settings).await?))
        }
    }
}

/// Removes what a crash left in this node's staging directory (bodies being received, never
/// acknowledged). Each node has its own data dir, so no other node stages there.
fn sweep_staging(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
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
