//! A consistent copy of the database taken while the server writes (`mssd backup`): `VACUUM
//! INTO` reads the whole database in one read transaction (WAL lets the writer go on) and
//! writes a compact copy; then the blob files that copy's rows name are listed, for the
//! caller to copy beside it.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::connection::{DbResult, open_reader};
use crate::error::{Error, Result};

/// What a copy holds beyond its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The blob files the copy's rows reference.
    pub blob_files: Vec<String>,
    pub schema_version: u32,
}

/// Copies the database at `db` to `to` (which must not exist).
pub fn sqlite_snapshot(db: &Path, to: &Path) -> Result<Snapshot> {
    if to.exists() {
        return Err(Error::invalid(
            "snapshot",
            format!("{} already exists", to.display()),
        ));
    }
    let target = to
        .to_str()
        .ok_or_else(|| Error::invalid("snapshot", format!("{} is not UTF-8", to.display())))?;
    let source = open_reader(db)?;
    source
        .execute("VACUUM INTO ?1", [target])
        .db("copying the database (VACUUM INTO)")?;
    drop(source);
    let conn = Connection::open_with_flags(to, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .db("opening the copied database")?;
    let schema_version = super::migrations::schema_version(&conn)?;
    drop(conn);
    Ok(Snapshot {
        blob_files: referenced_blob_files(to)?,
        schema_version,
    })
}

/// The blob file names the rows of the database at `db` reference (opened read-only).
pub fn referenced_blob_files(db: &Path) -> Result<Vec<String>> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .db("opening the copied database")?;
    let mut stmt = conn
        .prepare("SELECT file FROM blobs WHERE file IS NOT NULL ORDER BY file")
        .db("listing blob files")?;
    let files = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
        .db("listing blob files")?;
    Ok(files)
}

/// `PRAGMA quick_check` on the database at `db`, opened read-only: "ok" or the problems.
pub fn sqlite_quick_check(db: &Path) -> Result<String> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .db("opening the database to check")?;
    let lines = conn
        .prepare("PRAGMA quick_check")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .db("checking the database")?;
    Ok(lines.join("; "))
}
