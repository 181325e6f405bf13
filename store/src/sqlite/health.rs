//! What `mssd doctor` and the health endpoint report about the database.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::connection::DbResult;
use super::convert::u64_from_i64;
use super::migrations::{latest_schema_version, schema_version};
use crate::error::Result;
use crate::model::StoreHealth;

/// quick_check lists at most this many problems; more would not help an operator.
const QUICK_CHECK_MAX_LINES: usize = 10;

pub(crate) fn health(conn: &Connection, path: &Path) -> Result<StoreHealth> {
    let problems: Vec<String> = conn
        .prepare(&format!("PRAGMA quick_check({QUICK_CHECK_MAX_LINES})"))
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .db("running quick_check")?;
    let quick_check_ok = problems.len() == 1 && problems[0] == "ok";
    Ok(StoreHealth {
        schema_version: schema_version(conn)?,
        latest_schema_version: latest_schema_version(),
        quick_check_ok,
        quick_check: problems.join("\n"),
        mailboxes: count(conn, "mailboxes")?,
        messages: count(conn, "messages")?,
        queue: count(conn, "queue")?,
        audit: count(conn, "audit")?,
        database_path: path.to_path_buf(),
        database_bytes: file_size(path) + file_size(&wal_path(path)),
    })
}

fn count(conn: &Connection, table: &str) -> Result<u64> {
    let n: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .db(&format!("counting rows of {table}"))?;
    u64_from_i64(n, table, "count")
}

fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Size of a file, 0 when it does not exist (no WAL right after a checkpoint).
fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
