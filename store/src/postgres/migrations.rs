//! Versioned schema migrations for PostgreSQL, beside the SQLite ones. Table `schema_version`
//! holds one row per applied migration; migration `k` (1-based) is `MIGRATIONS[k - 1]` and runs
//! in its own transaction together with its row. A session advisory lock keeps two mssd
//! processes starting at once from migrating together.

use tracing::info;

use super::PgResult;
use crate::error::{Error, Result};

/// Every migration, oldest first. Never edit a published one: append a new script.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_queue_lease.sql"),
    include_str!("migrations/0003_uid_validity_sequence.sql"),
    include_str!("migrations/0004_blob_lz4.sql"),
];

/// Advisory lock key held while migrating ("mssd" "migr" in ASCII).
const MIGRATION_LOCK: i64 = 0x6d73_7364_6d69_6772;

/// The PostgreSQL schema version this code writes.
pub fn postgres_latest_schema_version() -> u32 {
    u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
}

/// The SQL of every PostgreSQL migration, oldest first.
pub fn postgres_migration_scripts() -> &'static [&'static str] {
    MIGRATIONS
}

const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (\
     version    INTEGER PRIMARY KEY CHECK (version >= 1), \
     applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

/// The version reached so far (0 for an empty database).
pub(crate) async fn schema_version(client: &tokio_postgres::Client) -> Result<u32> {
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .pg("looking for schema_version")?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let v: Option<i32> = client
        .query_one("SELECT max(version) FROM schema_version", &[])
        .await
        .pg("reading schema_version")?
        .get(0);
    u32::try_from(v.unwrap_or(0)).map_err(|_| Error::Migration {
        detail: format!("schema_version holds {v:?}, not a valid version"),
    })
}

/// Brings the database to the last of `scripts`; returns the version reached. A database newer
/// than `scripts` is refused: this code cannot know what the newer schema means.
pub(crate) async fn migrate(client: &mut tokio_postgres::Client, scripts: &[&str]) -> Result<u32> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .pg("taking the migration lock")?;
    let outcome = migrate_locked(client, scripts).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .pg("releasing the migration lock");
    let version = outcome?;
    unlocked?;
    Ok(version)
}

async fn migrate_locked(client: &mut tokio_postgres::Client, scripts: &[&str]) -> Result<u32> {
    let latest = u32::try_from(scripts.len()).unwrap_or(u32::MAX);
    let current = schema_version(client).await?;
    if current > latest {
        return Err(Error::Migration {
            detail: format!(
                "the database is at schema version {current}, newer than the version {latest} \
                 this mssd knows; run a newer mssd or restore a matching backup"
            ),
        });
    }
    for (index, script) in scripts.iter().enumerate().skip(current as usize) {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        let failed = |e: tokio_postgres::Error| Error::Migration {
            detail: format!(
                "migration to version {version}: {}",
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_owned())
            ),
        };
        let tx = client.transaction().await.map_err(failed)?;
        tx.batch_execute(VERSION_TABLE).await.map_err(failed)?;
        tx.batch_execute(script).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        info!(version, "postgres schema migrated");
    }
    Ok(latest)
}
