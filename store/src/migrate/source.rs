//! The SQLite side: the database opened read-only, read in batches by key inside one read
//! transaction (a consistent snapshot for the whole copy), message bodies reassembled from
//! their blob files and checked against their recorded digest.

use std::path::{Path, PathBuf};

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};
use sha2::{Digest, Sha256};

use super::plan::{TABLES, TableSpec};
use crate::blob_files::blob_file_path;
use crate::error::{Error, Result};
use crate::model::AuditVerification;
use crate::sqlite::connection::{DbResult, open_reader};
use crate::sqlite::{blob_dir_of, latest_schema_version};

/// One value read from SQLite.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    fn of(value: ValueRef<'_>) -> Cell {
        match value {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            // No column of the schema is REAL; keep the value rather than fail on it.
            ValueRef::Real(f) => Cell::Text(f.to_string()),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => Value::Integer(*i),
            Cell::Text(t) => Value::Text(t.clone()),
            Cell::Bytes(b) => Value::Blob(b.clone()),
        }
    }

    /// Bytes this value holds (for the batch budget and the progress bar).
    pub(crate) fn weight(&self) -> usize {
        match self {
            Cell::Text(t) => t.len(),
            Cell::Bytes(b) => b.len(),
            Cell::Null | Cell::Int(_) => 8,
        }
    }
}

/// What identifies the source's state: its schema version, per-table row counts, the highest
/// ids and modseqs, the audit chain's head. Equal fingerprints mean the same data for every
/// practical purpose (a running server changes one of them with any write); the digests of
/// the verification are the exact comparison.
#[derive(Debug, Clone)]
pub(crate) struct Fingerprint {
    pub digest: String,
    /// Rows of each table of the plan, in plan order.
    pub rows: Vec<u64>,
}

/// The SQLite database being migrated.
pub(crate) struct Source {
    conn: Connection,
    blob_dir: PathBuf,
}

impl Source {
    /// Opens `path` read-only; a database at another schema version than this mssd's is
    /// refused (opening it with this mssd once brings an older one up to date).
    pub(crate) fn open(path: &Path) -> Result<Source> {
        if !path.is_file() {
            return Err(Error::BackendMigration(format!(
                "no SQLite database at {}",
                path.display()
            )));
        }
        let conn = open_reader(path)?;
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .db("reading the source's schema version")?;
        let latest = latest_schema_version();
        if version != latest {
            return Err(Error::BackendMigration(format!(
                "the source database is at schema version {version}, this mssd copies version \
                 {latest}: {}",
                if version < latest {
                    "open it once with this mssd (e.g. `mssd doctor`) to migrate it, then retry"
                } else {
                    "use the mssd release that wrote it"
                }
            )));
        }
        Ok(Source {
            conn,
            blob_dir: blob_dir_of(path),
        })
    }

    /// Starts the read transaction every following read shares (one snapshot).
    pub(crate) fn begin(&self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .db("starting the source's read transaction")
    }

    /// Ends the read transaction (a later read sees the database as it is now).
    pub(crate) fn end(&self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("COMMIT")
                .db("ending the source's read transaction")?;
        }
        Ok(())
    }

    pub(crate) fn fingerprint(&self) -> Result<Fingerprint> {
        let mut hasher = Sha256::new();
        hasher.update(format!("schema {}\n", latest_schema_version()));
        let mut rows = Vec::with_capacity(TABLES.len());
        for spec in TABLES {
            let count: i64 = self
                .conn
                .query_row(&format!("SELECT count(*) FROM {}", spec.from), [], |r| {
                    r.get(0)
                })
                .db("counting the source's rows")?;
            hasher.update(format!("{} {count}\n", spec.name));
            rows.push(u64::try_from(count).unwrap_or(0));
        }
        for sql in [
            "SELECT coalesce(sum(highest_modseq), 0) || ' ' || coalesce(sum(uid_next), 0) FROM folders",
            "SELECT coalesce(max(id), 0) || ' ' || coalesce(sum(size), 0) FROM blobs",
            "SELECT coalesce(sum(modseq), 0) || ' ' || coalesce(sum(length(flags)), 0) FROM messages",
            "SELECT coalesce(max(id), 0) || ' ' || coalesce(sum(attempts), 0) FROM queue",
            "SELECT coalesce(max(audit_id), 0) || ' ' || coalesce(max(link), '') FROM audit_chain \
             WHERE audit_id = (SELECT max(audit_id) FROM audit_chain)",
            "SELECT coalesce(max(id), 0) FROM audit",
            "SELECT coalesce(group_concat(key || '=' || value, ','), '') FROM meta",
            "SELECT coalesce(group_concat(name || '=' || seq, ','), '') FROM sqlite_sequence",
            "SELECT coalesce(sum(updated_at), 0) || ' ' || coalesce(group_concat(sha256), '') \
             FROM documents",
            "SELECT coalesce(group_concat(id || state, ','), '') FROM directory_generations",
        ] {
            let value: String = self
                .conn
                .query_row(&format!("SELECT CAST(({sql}) AS TEXT)"), [], |r| r.get(0))
                .db("fingerprinting the source")?;
            hasher.update(value.as_bytes());
            hasher.update(b"\n");
        }
        Ok(Fingerprint {
            digest: hex::encode(hasher.finalize()),
            rows,
        })
    }

    /// The last id SQLite handed out in each AUTOINCREMENT table (ids deleted since are never
    /// reused: the PostgreSQL sequences must start past them too).
    pub(crate) fn sequences(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, seq FROM sqlite_sequence")
            .db("reading sqlite_sequence")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .db("reading sqlite_sequence")
    }

    /// Up to `max_rows` rows of `spec` after the key `after` (from the start when `None`),
    /// stopping early once `max_bytes` are read. Blob rows come whole and checked.
    pub(crate) fn read_batch(
        &self,
        spec: &TableSpec,
        after: Option<&[Cell]>,
        max_rows: usize,
        max_bytes: usize,
    ) -> Result<Vec<Vec<Cell>>> {
        let key = spec.source_key();
        let (filter, params): (String, Vec<Value>) = match after {
            None => (String::new(), Vec::new()),
            Some(last) => {
                let marks = vec!["?"; last.len()].join(", ");
                (
                    format!("WHERE ({key}) > ({marks})"),
                    last.iter().map(Cell::to_value).collect(),
                )
            }
        };
        let sql = format!(
            "{} {filter} ORDER BY {key} LIMIT {max_rows}",
            select_of(spec)
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .db("preparing a read of the source")?;
        let mut rows = stmt
            .query(params_from_iter(params))
            .db("reading the source")?;
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        while let Some(row) = rows.next().db("reading the source")? {
            let mut cells = Vec::with_capacity(spec.columns.len() + 1);
            for i in 0..spec.columns.len() + usize::from(spec.blob_files) {
                cells.push(Cell::of(row.get_ref(i).db("reading a source value")?));
            }
            if spec.blob_files {
                self.whole_blob(&mut cells)?;
            }
            bytes += cells.iter().map(Cell::weight).sum::<usize>();
            batch.push(cells);
            if bytes >= max_bytes {
                break;
            }
        }
        Ok(batch)
    }

    /// Calls `each` with every row of `spec` in key order (the verification pass).
    pub(crate) fn each_row(
        &self,
        spec: &TableSpec,
        mut each: impl FnMut(Vec<Cell>) -> Result<()>,
    ) -> Result<()> {
        let sql = format!("{} ORDER BY {}", select_of(spec), spec.source_key());
        let mut stmt = self
            .conn
            .prepare(&sql)
            .db("preparing a read of the source")?;
        let mut rows = stmt.query([]).db("reading the source")?;
        while let Some(row) = rows.next().db("reading the source")? {
            let mut cells = Vec::with_capacity(spec.columns.len() + 1);
            for i in 0..spec.columns.len() + usize::from(spec.blob_files) {
                cells.push(Cell::of(row.get_ref(i).db("reading a source value")?));
            }
            if spec.blob_files {
                self.whole_blob(&mut cells)?;
            }
            each(cells)?;
        }
        Ok(())
    }

    pub(crate) fn audit_verify(&self) -> Result<AuditVerification> {
        crate::sqlite::audit::verify(&self.conn)
    }

    /// A blob row `(id, sha256, size, bytes, file)` becomes `(id, sha256, size, whole
    /// message)`, after checking the size and the digest SQLite recorded (for a body in a
    /// file: the SHA-256 of the head followed by the body's SHA-256, as `MessageBytes` makes
    /// it).
    fn whole_blob(&self, cells: &mut Vec<Cell>) -> Result<()> {
        let file = cells.pop();
        let (Some(Cell::Int(id)), Some(Cell::Text(sha256)), Some(Cell::Int(size))) =
            (cells.first(), cells.get(1), cells.get(2))
        else {
            return Err(Error::corrupt(
                "blobs",
                "a row lacks its id, digest or size",
            ));
        };
        let (id, size, sha256) = (*id, *size, sha256.clone());
        let Some(Cell::Bytes(head)) = cells.get_mut(3) else {
            return Err(Error::corrupt(
                "blobs",
                format!("blob {id}: bytes is not a BLOB"),
            ));
        };
        let digest = match file {
            None | Some(Cell::Null) => hex::encode(Sha256::digest(&head[..])),
            Some(Cell::Text(name)) => {
                let path = blob_file_path(&self.blob_dir, &name)?;
                let body = std::fs::read(&path).map_err(|e| Error::Io {
                    path: path.display().to_string(),
                    detail: format!("reading the body of blob {id}: {e}"),
                })?;
                let mut hasher = Sha256::new();
                hasher.update(&head[..]);
                hasher.update(Sha256::digest(&body));
                head.extend_from_slice(&body);
                hex::encode(hasher.finalize())
            }
            Some(_) => {
                return Err(Error::corrupt(
                    "blobs",
                    format!("blob {id}: file is not text"),
                ));
            }
        };
        if i64::try_from(head.len()).ok() != Some(size) {
            return Err(Error::corrupt(
                "blobs",
                format!("blob {id} holds {} bytes, its row says {size}", head.len()),
            ));
        }
        if digest != sha256 {
            return Err(Error::corrupt(
                "blobs",
                format!("blob {id}: its bytes do not match its recorded SHA-256"),
            ));
        }
        Ok(())
    }
}

/// `SELECT <columns> FROM <from>` (with the blob file name last for `blobs`).
fn select_of(spec: &TableSpec) -> String {
    let mut columns: Vec<&str> = spec.columns.iter().map(|c| c.source).collect();
    if spec.blob_files {
        columns.push("file");
    }
    format!("SELECT {} FROM {}", columns.join(", "), spec.from)
}
