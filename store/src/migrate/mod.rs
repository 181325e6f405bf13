//! `mssd store migrate`: copies an SQLite store into an empty PostgreSQL database, ids as they
//! are (UIDs, UIDVALIDITY, modseqs, queue and audit ids, the audit hash chain), then verifies
//! both sides alike (issue #15).
//!
//! * `plan`: the tables, parents first, and how each column translates;
//! * `source`: the SQLite file read-only, in one read transaction, bodies reassembled from
//!   blob files and checked against their digests;
//! * `target`: the PostgreSQL side — refusal of a database holding other data, the progress
//!   tables that make a run resumable, batched inserts, identity sequences;
//! * `verify`: row counts and digests per table, every body hashed on both sides;
//! * `progress`: the caller's progress hook and the report.
//!
//! The source must not change during the copy: stop the server, or copy from an `mssd
//! backup`. A change is detected (the source's fingerprint is taken again for the
//! verification) and reported as a failed verification.

mod plan;
mod progress;
mod source;
mod target;
mod verify;

use std::path::Path;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::postgres::{PostgresOptions, PostgresStore, PostgresTls};
use crate::store::Store;
use plan::TABLES;
pub use progress::{MigrationProgress, MigrationReport, MigrationStart, NoProgress, TableCheck};
use source::{Cell, Source};
use target::{Start, TableProgress};
use verify::TableDigest;

/// Rows per batch (one transaction on the target each).
const BATCH_ROWS: usize = 1000;
/// Bytes of values per batch, at most (one row bigger than this is a batch of its own).
const BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Batches read ahead of the one being written: the reader and the writer overlap, and memory
/// stays bounded (about `(READ_AHEAD + 2) * BATCH_BYTES`).
const READ_AHEAD: usize = 2;

/// Where to migrate to.
#[derive(Debug, Clone)]
pub struct PostgresTarget {
    /// A libpq URL or key=value string (`sslmode` in it says whether TLS is required).
    pub url: String,
    /// Overrides any password of the URL (read from a file, so it is in no command line).
    pub password: Option<String>,
    pub tls: PostgresTls,
}

/// Copies the SQLite store at `from` into the PostgreSQL database `to` and verifies the copy.
///
/// The target must hold no mssd data, unless it is an interrupted migration of this same
/// source (it is then resumed) or a finished one (it is then only verified again). Returns the
/// report even when verification finds a difference: [`MigrationReport::verified`] says.
pub async fn migrate_sqlite_to_postgres(
    from: &Path,
    to: &PostgresTarget,
    progress: &mut dyn MigrationProgress,
) -> Result<MigrationReport> {
    let from_path = from.to_path_buf();
    let (source, fingerprint, sequences) = blocking(move || {
        let source = Source::open(&from_path)?;
        source.begin()?;
        let fingerprint = source.fingerprint()?;
        let sequences = source.sequences()?;
        Ok((source, fingerprint, sequences))
    })
    .await?;
    let store = connect(to).await?;
    let mut conn = store.conn().await?;
    target::lock(&conn).await?;
    let outcome = run(
        &store,
        &mut conn,
        source,
        (fingerprint, sequences),
        &from.display().to_string(),
        progress,
    )
    .await;
    let unlocked = target::unlock(&conn).await;
    drop(conn);
    store.close();
    let report = outcome?;
    unlocked?;
    Ok(report)
}

/// `host:port/dbname` of a PostgreSQL URL: what may be shown (never its user or password).
pub fn postgres_target_name(url: &str) -> Result<String> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| Error::invalid("postgres url", format!("{e}")))?;
    Ok(crate::postgres::describe(&config))
}

/// Whether the URL's `sslmode` is `require` (TLS or nothing).
pub fn postgres_requires_tls(url: &str) -> Result<bool> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| Error::invalid("postgres url", format!("{e}")))?;
    Ok(config.get_ssl_mode() == tokio_postgres::config::SslMode::Require)
}

async fn connect(to: &PostgresTarget) -> Result<PostgresStore> {
    let mut options = PostgresOptions::new(2);
    options.tls = to.tls.clone();
    options.password = to.password.clone();
    // Nothing is staged: bodies come from the source, straight into rows.
    options.staging_dir = std::env::temp_dir().join("mssd-migrate-staging");
    PostgresStore::connect(&to.url, options).await
}

async fn run(
    store: &PostgresStore,
    conn: &mut target::Conn,
    source: Source,
    (fingerprint, sequences): (source::Fingerprint, Vec<(String, i64)>),
    source_path: &str,
    progress: &mut dyn MigrationProgress,
) -> Result<MigrationReport> {
    let copy_started = Instant::now();
    let (start, plan) = match target::start(conn, &fingerprint.digest, source_path).await? {
        Start::Fresh(plan) => (MigrationStart::Fresh, Some(plan)),
        Start::Resume(plan) => (MigrationStart::Resumed, Some(plan)),
        Start::Finished => (MigrationStart::AlreadyDone, None),
    };
    let (source, copied) = match plan {
        Some(plan) => {
            let copied = copy(conn, source, plan, &fingerprint.rows, progress).await?;
            target::reset_sequences(conn, &sequences).await?;
            copied
        }
        None => (source, (0, 0)),
    };
    let copy_seconds = copy_started.elapsed().as_secs_f64();
    let verify_started = Instant::now();
    let checked = check(store, conn, source, &fingerprint.digest, progress).await?;
    let report = MigrationReport {
        start,
        rows_copied: copied.0,
        bytes_copied: copied.1,
        copy_seconds,
        verify_seconds: verify_started.elapsed().as_secs_f64(),
        tables: checked.tables,
        source_audit: checked.source_audit,
        target_audit: checked.target_audit,
        source_changed: checked.source_changed,
    };
    if report.verified() && start != MigrationStart::AlreadyDone {
        target::mark_finished(conn).await?;
    }
    Ok(report)
}

/// What the reader thread hands the writer.
enum Item {
    Started {
        table: usize,
        already: u64,
    },
    Batch {
        table: usize,
        rows: Vec<Vec<Cell>>,
        bytes: u64,
    },
    Finished {
        table: usize,
    },
    Failed(Error),
}

/// Copies every table not done yet; returns the source and the rows and bytes copied.
async fn copy(
    conn: &mut target::Conn,
    source: Source,
    plan: Vec<TableProgress>,
    totals: &[u64],
    progress: &mut dyn MigrationProgress,
) -> Result<(Source, (u64, u64))> {
    let (sender, mut batches) = mpsc::channel(READ_AHEAD);
    let reader = tokio::task::spawn_blocking(move || read_all(source, plan, &sender));
    let (mut rows_copied, mut bytes_copied) = (0u64, 0u64);
    while let Some(item) = batches.recv().await {
        match item {
            Item::Started { table, already } => {
                progress.table_started(TABLES[table].name, totals[table], already);
            }
            Item::Batch { table, rows, bytes } => {
                let count = rows.len() as u64;
                target::insert_batch(conn, &TABLES[table], rows).await?;
                rows_copied += count;
                bytes_copied += bytes;
                progress.rows_copied(TABLES[table].name, count, bytes)?;
            }
            Item::Finished { table } => {
                target::table_done(conn, &TABLES[table]).await?;
                progress.table_finished(TABLES[table].name);
            }
            Item::Failed(e) => return Err(e),
        }
    }
    let source = reader
        .await
        .map_err(|e| Error::BackendMigration(format!("the source reader failed: {e}")))?;
    Ok((source, (rows_copied, bytes_copied)))
}

/// The reader thread: every table not done, from where the last run stopped.
fn read_all(source: Source, plan: Vec<TableProgress>, sender: &mpsc::Sender<Item>) -> Source {
    for (table, (spec, done)) in TABLES.iter().zip(plan).enumerate() {
        if done.done {
            continue;
        }
        let started = Item::Started {
            table,
            already: done.rows_copied,
        };
        if sender.blocking_send(started).is_err() {
            return source;
        }
        let mut after = done.last_key;
        loop {
            let rows = match source.read_batch(spec, after.as_deref(), BATCH_ROWS, BATCH_BYTES) {
                Ok(rows) if rows.is_empty() => break,
                Ok(rows) => rows,
                Err(e) => {
                    let _ = sender.blocking_send(Item::Failed(e));
                    return source;
                }
            };
            after = rows
                .last()
                .map(|last| spec.key.iter().map(|&i| last[i].clone()).collect());
            let bytes = rows.iter().flatten().map(Cell::weight).sum::<usize>() as u64;
            if sender
                .blocking_send(Item::Batch { table, rows, bytes })
                .is_err()
            {
                return source;
            }
        }
        if sender.blocking_send(Item::Finished { table }).is_err() {
            return source;
        }
    }
    source
}

struct Checked {
    tables: Vec<TableCheck>,
    source_audit: crate::model::AuditVerification,
    target_audit: crate::model::AuditVerification,
    source_changed: bool,
}

/// Both sides read again, at the same time: the source in a new snapshot (which must still
/// have the fingerprint the copy began with), the target as committed.
async fn check(
    store: &PostgresStore,
    conn: &mut target::Conn,
    source: Source,
    fingerprint: &str,
    progress: &mut dyn MigrationProgress,
) -> Result<Checked> {
    let fingerprint = fingerprint.to_owned();
    let source_side = tokio::task::spawn_blocking(move || {
        source.end()?;
        source.begin()?;
        let changed = source.fingerprint()?.digest != fingerprint;
        let digests = TABLES
            .iter()
            .map(|spec| verify::source_digest(&source, spec))
            .collect::<Result<Vec<TableDigest>>>()?;
        let audit = source.audit_verify()?;
        source.end()?;
        Ok::<_, Error>((changed, digests, audit))
    });
    let mut target_digests = Vec::with_capacity(TABLES.len());
    for spec in TABLES {
        progress.verifying(spec.name);
        target_digests.push(verify::target_digest(conn, spec).await?);
    }
    let target_audit = store.audit_verify().await?;
    let (source_changed, source_digests, source_audit) = source_side
        .await
        .map_err(|e| Error::BackendMigration(format!("verifying the source failed: {e}")))??;
    let tables = TABLES
        .iter()
        .zip(source_digests.into_iter().zip(target_digests))
        .map(|(spec, (s, t))| TableCheck {
            table: spec.name.to_owned(),
            source_rows: s.rows,
            target_rows: t.rows,
            source_digest: s.digest,
            target_digest: t.digest,
        })
        .collect();
    Ok(Checked {
        tables,
        source_audit,
        target_audit,
        source_changed,
    })
}

/// Runs blocking SQLite work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::BackendMigration(format!("a blocking task failed: {e}")))?
}
