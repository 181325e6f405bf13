//! The PostgreSQL side: the state of the target (empty, a migration of this source under way
//! or finished, or something else), batches inserted with their ids as they are, the progress
//! row updated in the same transaction (so an interrupted run resumes exactly after the last
//! committed batch), and the identity sequences set past the copied ids.

use std::collections::HashMap;

use tokio_postgres::types::ToSql;

use super::plan::{Kind, TABLES, TableSpec};
use super::source::Cell;
use crate::error::{Error, Result};
use crate::postgres::{PgResult, now_unix};

/// A pooled connection held for the whole migration.
pub(crate) type Conn = deadpool_postgres::Object;

/// Advisory lock held by the migrating session ("mssd" "copy"): two runs never interleave.
const MIGRATION_RUN_LOCK: i64 = 0x6d73_7364_636f_7079;

const PROGRESS_TABLES: &str = "\
CREATE TABLE mssd_store_migration (
    source      TEXT   NOT NULL,   -- fingerprint of the SQLite source
    source_path TEXT   NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT             -- set once copied and verified
);
CREATE TABLE mssd_store_migration_tables (
    table_name  TEXT    PRIMARY KEY,
    last_key    TEXT,              -- JSON array: the key of the last row copied
    rows_copied BIGINT  NOT NULL DEFAULT 0,
    done        BOOLEAN NOT NULL DEFAULT FALSE
);";

/// Where a table's copy stands.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableProgress {
    pub last_key: Option<Vec<Cell>>,
    pub rows_copied: u64,
    pub done: bool,
}

/// What the target holds at the start.
pub(crate) enum Start {
    /// Empty: a new migration was recorded.
    Fresh(Vec<TableProgress>),
    /// A migration of the same source, interrupted: carry on.
    Resume(Vec<TableProgress>),
    /// A migration of the same source, finished and verified.
    Finished,
}

/// Takes the run lock (refusing if another run holds it).
pub(crate) async fn lock(conn: &Conn) -> Result<()> {
    let locked: bool = conn
        .query_one("SELECT pg_try_advisory_lock($1)", &[&MIGRATION_RUN_LOCK])
        .await
        .pg("taking the migration lock")?
        .get(0);
    if !locked {
        return Err(Error::BackendMigration(
            "another `mssd store migrate` is writing to this database; wait for it to end".into(),
        ));
    }
    Ok(())
}

pub(crate) async fn unlock(conn: &Conn) -> Result<()> {
    conn.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_RUN_LOCK])
        .await
        .pg("releasing the migration lock")?;
    Ok(())
}

/// Decides between a new migration, a resumed one, a finished one and a refusal.
pub(crate) async fn start(conn: &mut Conn, fingerprint: &str, source_path: &str) -> Result<Start> {
    let recorded = conn
        .query_one(
            "SELECT to_regclass('mssd_store_migration') IS NOT NULL",
            &[],
        )
        .await
        .pg("looking for an earlier migration")?
        .get::<_, bool>(0);
    if recorded {
        return resume(conn, fingerprint).await;
    }
    let mut holding = Vec::new();
    for spec in TABLES {
        let any: bool = conn
            .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {})", spec.name), &[])
            .await
            .pg("checking that the target is empty")?
            .get(0);
        if any {
            holding.push(spec.name);
        }
    }
    if !holding.is_empty() {
        return Err(Error::BackendMigration(format!(
            "the target database already holds mssd data (tables {}); migrate into a new, \
             empty database (CREATE DATABASE …)",
            holding.join(", ")
        )));
    }
    let tx = conn.transaction().await.pg("recording the migration")?;
    tx.batch_execute(PROGRESS_TABLES)
        .await
        .pg("creating the migration progress tables")?;
    tx.execute(
        "INSERT INTO mssd_store_migration (source, source_path, started_at) VALUES ($1, $2, $3)",
        &[&fingerprint, &source_path, &now_unix()],
    )
    .await
    .pg("recording the migration")?;
    for spec in TABLES {
        tx.execute(
            "INSERT INTO mssd_store_migration_tables (table_name) VALUES ($1)",
            &[&spec.name],
        )
        .await
        .pg("recording the migration")?;
    }
    tx.commit().await.pg("recording the migration")?;
    Ok(Start::Fresh(vec![TableProgress::default(); TABLES.len()]))
}

async fn resume(conn: &Conn, fingerprint: &str) -> Result<Start> {
    let row = conn
        .query_one("SELECT source, finished_at FROM mssd_store_migration", &[])
        .await
        .pg("reading the earlier migration")?;
    let (source, finished): (String, Option<i64>) = (row.get(0), row.get(1));
    if source != fingerprint {
        return Err(Error::BackendMigration(
            "the target holds a migration from another source, or from this one before it \
             changed (was a server writing to it?); stop the server, then migrate into a new, \
             empty database"
                .into(),
        ));
    }
    if finished.is_some() {
        return Ok(Start::Finished);
    }
    let rows = conn
        .query(
            "SELECT table_name, last_key, rows_copied, done FROM mssd_store_migration_tables",
            &[],
        )
        .await
        .pg("reading the migration progress")?;
    let mut by_name: HashMap<String, TableProgress> = HashMap::new();
    for row in rows {
        let last_key: Option<String> = row.get(1);
        let last_key = last_key.map(|k| key_of_json(&k)).transpose()?;
        let rows_copied: i64 = row.get(2);
        by_name.insert(
            row.get(0),
            TableProgress {
                last_key,
                rows_copied: u64::try_from(rows_copied).unwrap_or(0),
                done: row.get(3),
            },
        );
    }
    Ok(Start::Resume(
        TABLES
            .iter()
            .map(|t| by_name.remove(t.name).unwrap_or_default())
            .collect(),
    ))
}

/// Inserts `rows` of `spec` and records the last one's key, in one transaction.
pub(crate) async fn insert_batch(
    conn: &mut Conn,
    spec: &TableSpec,
    rows: Vec<Vec<Cell>>,
) -> Result<()> {
    let Some(last) = rows.last() else {
        return Ok(());
    };
    let key = key_json(spec.key.iter().map(|&i| &last[i]));
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let columns = columnar(spec, rows)?;
    let params: Vec<&(dyn ToSql + Sync)> = columns.iter().map(Array::as_param).collect();
    let tx = conn.transaction().await.pg("starting a batch")?;
    let stmt = tx
        .prepare_cached(&insert_sql(spec))
        .await
        .pg("preparing a batch insert")?;
    tx.execute(&stmt, &params)
        .await
        .map_err(|e| crate::postgres::pg_error(&format!("copying rows of {}", spec.name), &e))?;
    tx.execute(
        "UPDATE mssd_store_migration_tables SET last_key = $1, rows_copied = rows_copied + $2 \
         WHERE table_name = $3",
        &[&key, &count, &spec.name],
    )
    .await
    .pg("recording the migration progress")?;
    tx.commit().await.pg("committing a batch")?;
    Ok(())
}

pub(crate) async fn table_done(conn: &Conn, spec: &TableSpec) -> Result<()> {
    conn.execute(
        "UPDATE mssd_store_migration_tables SET done = TRUE WHERE table_name = $1",
        &[&spec.name],
    )
    .await
    .pg("recording the migration progress")?;
    Ok(())
}

/// Sets every identity sequence past the highest id copied and past the last id SQLite handed
/// out (`sqlite_sequence`), so no id is ever reused.
pub(crate) async fn reset_sequences(conn: &Conn, handed_out: &[(String, i64)]) -> Result<()> {
    for spec in TABLES {
        let Some(column) = spec.identity else {
            continue;
        };
        let max: i64 = conn
            .query_one(
                &format!("SELECT coalesce(max({column}), 0)::int8 FROM {}", spec.name),
                &[],
            )
            .await
            .pg("reading the highest id")?
            .get(0);
        let sqlite_seq = handed_out
            .iter()
            .find(|(name, _)| name == spec.name)
            .map_or(0, |(_, seq)| *seq);
        let last = max.max(sqlite_seq);
        let (value, is_called) = if last >= 1 { (last, true) } else { (1, false) };
        conn.execute(
            "SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)",
            &[&spec.name, &column, &value, &is_called],
        )
        .await
        .pg("setting an identity sequence")?;
    }
    // UIDVALIDITY values come from a sequence on PostgreSQL (migration 0003); SQLite's last one
    // is the copied `meta` row: the sequence continues past it.
    conn.execute(
        "SELECT setval('mssd_uid_validity', GREATEST( \
             (SELECT last_value FROM mssd_uid_validity), \
             COALESCE((SELECT value FROM meta WHERE key = 'last_uid_validity'), 1)))",
        &[],
    )
    .await
    .pg("setting the UIDVALIDITY sequence")?;
    Ok(())
}

pub(crate) async fn mark_finished(conn: &Conn) -> Result<()> {
    conn.execute(
        "UPDATE mssd_store_migration SET finished_at = $1",
        &[&now_unix()],
    )
    .await
    .pg("recording the end of the migration")?;
    Ok(())
}

/// `INSERT INTO t (…) SELECT … FROM UNNEST($1::…[], …)`: one statement, one round trip per
/// batch, whatever its size.
fn insert_sql(spec: &TableSpec) -> String {
    let names: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
    let mut arrays = Vec::new();
    let mut values = Vec::new();
    for (i, c) in spec.columns.iter().enumerate() {
        let n = i + 1;
        let array_type = match c.kind {
            Kind::Int => "int8",
            Kind::Text | Kind::Json | Kind::Flags => "text",
            Kind::Bytes => "bytea",
            Kind::Bool => "bool",
        };
        arrays.push(format!("${n}::{array_type}[]"));
        values.push(match c.kind {
            Kind::Json => format!("u.c{n}::jsonb"),
            Kind::Flags => format!("ARRAY(SELECT jsonb_array_elements_text(u.c{n}::jsonb))"),
            _ => format!("u.c{n}"),
        });
    }
    let aliases: Vec<String> = (1..=spec.columns.len()).map(|n| format!("c{n}")).collect();
    let overriding = if spec.identity.is_some() {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    format!(
        "INSERT INTO {} ({}){overriding} SELECT {} FROM UNNEST({}) AS u({})",
        spec.name,
        names.join(", "),
        values.join(", "),
        arrays.join(", "),
        aliases.join(", ")
    )
}

/// One column of a batch, as the array parameter of its type.
enum Array {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Bytes(Vec<Option<Vec<u8>>>),
    Bool(Vec<Option<bool>>),
}

impl Array {
    fn as_param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Array::Int(v) => v,
            Array::Text(v) => v,
            Array::Bytes(v) => v,
            Array::Bool(v) => v,
        }
    }
}

fn columnar(spec: &TableSpec, rows: Vec<Vec<Cell>>) -> Result<Vec<Array>> {
    let mut columns: Vec<Array> = spec
        .columns
        .iter()
        .map(|c| match c.kind {
            Kind::Int => Array::Int(Vec::with_capacity(rows.len())),
            Kind::Text | Kind::Json | Kind::Flags => Array::Text(Vec::with_capacity(rows.len())),
            Kind::Bytes => Array::Bytes(Vec::with_capacity(rows.len())),
            Kind::Bool => Array::Bool(Vec::with_capacity(rows.len())),
        })
        .collect();
    for row in rows {
        for (i, cell) in row.into_iter().enumerate().take(columns.len()) {
            let mismatch = |cell: &Cell| {
                Error::corrupt(
                    spec.name,
                    format!(
                        "column {} holds {cell:?}, not the type the schema says",
                        spec.columns[i].name
                    ),
                )
            };
            match (&mut columns[i], cell) {
                (Array::Int(v), Cell::Null) => v.push(None),
                (Array::Int(v), Cell::Int(n)) => v.push(Some(n)),
                (Array::Text(v), Cell::Null) => v.push(None),
                (Array::Text(v), Cell::Text(t)) => v.push(Some(t)),
                (Array::Bytes(v), Cell::Null) => v.push(None),
                (Array::Bytes(v), Cell::Bytes(b)) => v.push(Some(b)),
                (Array::Bytes(v), Cell::Text(t)) => v.push(Some(t.into_bytes())),
                (Array::Bool(v), Cell::Null) => v.push(None),
                (Array::Bool(v), Cell::Int(n)) => v.push(Some(n != 0)),
                (_, cell) => return Err(mismatch(&cell)),
            }
        }
    }
    Ok(columns)
}

/// A key as the progress table keeps it: a JSON array of integers and strings.
fn key_json<'a>(cells: impl Iterator<Item = &'a Cell>) -> String {
    let values: Vec<serde_json::Value> = cells
        .map(|c| match c {
            Cell::Int(i) => serde_json::Value::from(*i),
            Cell::Text(t) => serde_json::Value::from(t.clone()),
            Cell::Null | Cell::Bytes(_) => serde_json::Value::Null,
        })
        .collect();
    serde_json::Value::Array(values).to_string()
}

fn key_of_json(text: &str) -> Result<Vec<Cell>> {
    let bad = || Error::corrupt("mssd_store_migration_tables", "a last_key is not a key");
    let serde_json::Value::Array(values) = serde_json::from_str(text).map_err(|_| bad())? else {
        return Err(bad());
    };
    values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::Number(n) => n.as_i64().map(Cell::Int).ok_or_else(bad),
            serde_json::Value::String(s) => Ok(Cell::Text(s)),
            _ => Err(bad()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_json() {
        let key = vec![Cell::Int(7), Cell::Text("a\"b".into())];
        assert_eq!(key_of_json(&key_json(key.iter())).unwrap(), key);
    }

    #[test]
    fn insert_translates_types() {
        let messages = TABLES.iter().find(|t| t.name == "messages").unwrap();
        let sql = insert_sql(messages);
        assert!(
            sql.contains("ARRAY(SELECT jsonb_array_elements_text(u.c8::jsonb))"),
            "{sql}"
        );
        assert!(sql.contains("$9::bool[]"), "{sql}");
        assert!(!sql.contains("OVERRIDING"), "{sql}");
        let queue = TABLES.iter().find(|t| t.name == "queue").unwrap();
        assert!(insert_sql(queue).contains("OVERRIDING SYSTEM VALUE"));
    }
}
