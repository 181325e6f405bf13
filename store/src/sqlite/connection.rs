//! Opening SQLite connections with the settings durability depends on.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// How long a connection waits for a lock held by another before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Maps rusqlite errors into ours, saying what we were doing.
pub(crate) trait DbResult<T> {
    fn db(self, doing: &str) -> Result<T>;
}

impl<T> DbResult<T> for rusqlite::Result<T> {
    fn db(self, doing: &str) -> Result<T> {
        self.map_err(|e| Error::Sqlite(format!("{doing}: {e}")))
    }
}

/// True when `e` is a UNIQUE or PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
    const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;
    matches!(
        e.sqlite_extended_error_code(),
        Some(SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY)
    )
}

/// The single read-write connection: WAL, and FULL sync so every commit fsyncs the WAL.
pub(crate) fn open_writer(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .db("opening the database for writing")?;
    conn.busy_timeout(BUSY_TIMEOUT).db("setting busy_timeout")?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .db("setting journal_mode=WAL")?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Sqlite(format!(
            "setting journal_mode=WAL: SQLite kept journal_mode={mode}"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .db("setting synchronous=FULL")?;
    let synchronous: i64 = conn
        .pragma_query_value(None, "synchronous", |row| row.get(0))
        .db("reading synchronous")?;
    // 2 = FULL; anything less would acknowledge writes before the WAL is on disk.
    if synchronous < 2 {
        return Err(Error::Sqlite(format!(
            "setting synchronous=FULL: SQLite kept synchronous={synchronous}"
        )));
    }
    conn.pragma_update(None, "foreign_keys", "ON")
        .db("setting foreign_keys=ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// How much of the database file readers map (SQLite reads the rest with pread).
const READER_MMAP_BYTES: i64 = 1 << 30;

/// A read-only connection; WAL lets it read beside the writer.
pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .db("opening a read-only connection")?;
    conn.busy_timeout(BUSY_TIMEOUT).db("setting busy_timeout")?;
    // Message bodies are read through a memory map instead of a pread per 4 KiB page: the
    // copies and system calls were the largest cost of IMAP FETCH. Pages stay the kernel's
    // page cache (shared, reclaimable), not heap.
    let _: i64 = conn
        .pragma_update_and_check(None, "mmap_size", READER_MMAP_BYTES, |row| row.get(0))
        .db("setting mmap_size")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Fsyncs the directory holding `path`, so the creation of the database, WAL and shm files
/// survives a power loss.
pub(crate) fn sync_parent_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let io_err = |e: std::io::Error| Error::Io {
        path: dir.display().to_string(),
        detail: format!("fsync of the database directory: {e}"),
    };
    std::fs::File::open(dir)
        .map_err(io_err)?
        .sync_all()
        .map_err(io_err)
}
