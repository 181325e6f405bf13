//! Reading an operator's store from a test (the server may be running: SQLite WAL allows a
//! second reader process).

use std::path::Path;

use mssd_store::{SqliteStore, Store};

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// The messages of `address`'s folder `folder`, as stored bytes, in UID order.
pub fn messages(data_dir: &Path, address: &str, folder: &str) -> Vec<Vec<u8>> {
    block_on(async {
        let store = SqliteStore::open(&data_dir.join("mssd.sqlite3"), Default::default()).unwrap();
        let address = mssd_core::Address::parse(address).unwrap();
        let mailbox = store
            .mailbox(&address)
            .await
            .unwrap()
            .expect("mailbox exists");
        let folders = store.folders(mailbox.id).await.unwrap();
        let folder = folders.iter().find(|f| f.name == folder).expect("folder");
        let mut out = Vec::new();
        for meta in store.messages(folder.id).await.unwrap() {
            out.push(
                store
                    .message_body(folder.id, meta.uid)
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        out
    })
}

/// Audit records as (kind, outcome, detail).
pub fn audit(data_dir: &Path) -> Vec<(String, String, serde_json::Value)> {
    block_on(async {
        let store = SqliteStore::open(&data_dir.join("mssd.sqlite3"), Default::default()).unwrap();
        store
            .audit_log(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.event.kind, r.event.outcome, r.event.detail))
            .collect()
    })
}

/// Entries of the outbound queue as (recipients, attempts).
pub fn queue(data_dir: &Path) -> Vec<(Vec<String>, u32)> {
    block_on(async {
        let store = SqliteStore::open(&data_dir.join("mssd.sqlite3"), Default::default()).unwrap();
        store
            .queue()
            .await
            .unwrap()
            .into_iter()
            .map(|q| {
                (
                    q.recipients.iter().map(|r| r.address.to_string()).collect(),
                    q.attempts,
                )
            })
            .collect()
    })
}

/// The INBOX of `address` once it holds `count` messages, or after 30 s (then what it holds).
pub fn wait_for_messages(data_dir: &Path, address: &str, count: usize) -> Vec<Vec<u8>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found = messages(data_dir, address, "INBOX");
        if found.len() >= count || std::time::Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Runs `sql` on the operator's database directly, as someone holding the file could (the
/// server may be running): what the audit chain must find out.
pub fn tamper(data_dir: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(data_dir.join("mssd.sqlite3")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn.execute_batch(sql).unwrap();
}
