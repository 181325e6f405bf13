//! Helpers shared by the integration tests.
#![allow(dead_code)]

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
pub async fn add_mailbox(store: &SqliteStore, address: &str) -> mssd_store::Mailbox {
    use mssd_store::Store;
    store.create_mailbox(new_mailbox(address)).await.unwrap()
}
