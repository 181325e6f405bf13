//! Helpers shared by the integration tests.
#![allow(dead_code, unused_macros)]

pub mod postgres;

use std::path::{Path, PathBuf};

use mssd_core::{Address, MailboxKind};
use mssd_store::{NewMailbox, SqliteOptions, SqliteStore};

pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub store: SqliteStore,
}

impl TestDb {
    pub fn path(&self) -> PathBuf {
        db_path(self.dir.path())
    }

    /// A raw read-write connection, to look at or tamper with what the store wrote.
    pub fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.path()).unwrap()
    }

    pub fn count(&self, table: &str) -> i64 {
        self.raw()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }
}

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("mssd.db")
}

pub fn open_temp() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(dir.path()), SqliteOptions::default()).unwrap();
    TestDb { dir, store }
}

pub fn addr(s: &str) -> Address {
    Address::parse(s).unwrap()
}

pub fn new_mailbox(address: &str) -> NewMailbox {
    NewMailbox {
        address: addr(address),
        kind: MailboxKind::Per,
        display_name: Some("Dr Test".to_owned()),
        owner_id_nat: None,
        password_hash: None,
        certificate_dn: None,
        quota_bytes: None,
    }
}

pub fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// The folder of `mailbox` named `name`.
pub async fn folder_named(
    store: &dyn mssd_store::Store,
    mailbox: mssd_store::MailboxId,
    name: &str,
) -> mssd_store::Folder {
    store
        .folders(mailbox)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no folder {name}"))
}

/// Creates the mailbox `address` as `new_mailbox` describes it.
pub async fn add_mailbox(store: &dyn mssd_store::Store, address: &str) -> mssd_store::Mailbox {
    store.create_mailbox(new_mailbox(address)).await.unwrap()
}

/// A store of either backend, for the contract tests: one test body, run once per backend
/// (see [`contract_tests`]).
pub struct Db {
    pub store: std::sync::Arc<dyn mssd_store::Store>,
    pub backend: Backend,
}

pub enum Backend {
    Sqlite { dir: tempfile::TempDir },
    Postgres { url: String },
}

impl Db {
    pub fn sqlite() -> Db {
        Db::sqlite_with(None)
    }

    /// A SQLite store computing listing summaries with `summarizer`.
    pub fn sqlite_with(summarizer: Option<mssd_store::ListingSummarizer>) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&db_path(dir.path()), SqliteOptions::default()).unwrap();
        if let Some(summarizer) = summarizer {
            store.set_listing_summarizer(summarizer);
        }
        Db {
            store: std::sync::Arc::new(store),
            backend: Backend::Sqlite { dir },
        }
    }

    /// A store on a fresh database of the test cluster; `None` when PostgreSQL is not
    /// installed (the test is then skipped).
    pub async fn postgres() -> Option<Db> {
        Db::postgres_with(None).await
    }

    /// A PostgreSQL store computing listing summaries with `summarizer`.
    pub async fn postgres_with(summarizer: Option<mssd_store::ListingSummarizer>) -> Option<Db> {
        let url = postgres::fresh_database().await?;
        let mut options = mssd_store::PostgresOptions::new(4);
        options.staging_dir = postgres::staging_dir();
        let mut store = mssd_store::PostgresStore::connect(&url, options)
            .await
            .unwrap();
        if let Some(summarizer) = summarizer {
            store.set_listing_summarizer(summarizer);
        }
        Some(Db {
            store: std::sync::Arc::new(store),
            backend: Backend::Postgres { url },
        })
    }

    /// A second store on the same database, as another node (PostgreSQL) or another process
    /// such as the CLI (SQLite) would open it.
    pub async fn another_node(&self) -> std::sync::Arc<dyn mssd_store::Store> {
        match &self.backend {
            Backend::Sqlite { dir } => std::sync::Arc::new(
                SqliteStore::open(&db_path(dir.path()), SqliteOptions::default()).unwrap(),
            ),
            Backend::Postgres { url } => {
                let mut options = mssd_store::PostgresOptions::new(4);
                options.staging_dir = postgres::staging_dir();
                std::sync::Arc::new(
                    mssd_store::PostgresStore::connect(url, options)
                        .await
                        .unwrap(),
                )
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres { .. })
    }

    /// One integer computed by `sql` (parameters written `$1`, `$2`: both backends read them).
    pub async fn scalar(&self, sql: &str, params: &[i64]) -> i64 {
        match &self.backend {
            Backend::Sqlite { dir } => {
                let conn = rusqlite::Connection::open(db_path(dir.path())).unwrap();
                conn.query_row(sql, rusqlite::params_from_iter(params), |r| r.get(0))
                    .unwrap()
            }
            Backend::Postgres { url } => {
                let client = postgres::connect(url).await;
                let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                let row = client.query_one(sql, &params).await.unwrap();
                // count(*) and sum() come back as BIGINT or NUMERIC: read them as text.
                match row.try_get::<_, i64>(0) {
                    Ok(v) => v,
                    Err(_) => row.get::<_, Option<i32>>(0).map_or(0, i64::from),
                }
            }
        }
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT count(*) FROM {table}"), &[])
            .await
    }
}

/// Runs each named `async fn(Db)` of the calling file as two tests, `sqlite::<name>` and
/// `postgres::<name>` (skipped, with a message, when PostgreSQL is not installed).
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    super::$name(crate::common::Db::sqlite()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let Some(db) = crate::common::Db::postgres().await else {
                        return;
                    };
                    super::$name(db).await
                }
            )*
        }
    };
}
