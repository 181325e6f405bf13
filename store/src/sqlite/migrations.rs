//! Versioned schema migrations. `PRAGMA user_version` holds the version; migration `k` (1-based)
//! is `MIGRATIONS[k - 1]` and runs in its own transaction together with the version bump.

use rusqlite::Connection;
use tracing::info;

use super::connection::DbResult;
use crate::error::{Error, Result};

/// Every migration, oldest first. Never edit a published one: append a new script.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_documents.sql"),
    include_str!("migrations/0003_grants.sql"),
    include_str!("migrations/0004_directory.sql"),
    include_str!("migrations/0005_imap.sql"),
    include_str!("migrations/0006_blob_meta.sql"),
    include_str!("migrations/0007_documents_and_citizens.sql"),
    include_str!("migrations/0008_blob_files.sql"),
    include_str!("migrations/0009_audit_chain.sql"),
    include_str!("migrations/0010_queue_lease.sql"),
];

/// The schema version this code writes.
pub fn latest_schema_version() -> u32 {
    version_of_index(MIGRATIONS.len())
}

/// The SQL of every migration, oldest first (migration `k` is element `k - 1`), so tools and
/// tests can build a database at any earlier version.
pub fn migration_scripts() -> &'static [&'static str] {
    MIGRATIONS
}

fn version_of_index(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

pub(crate) fn schema_version(conn: &Connection) -> Result<u32> {
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .db("reading user_version")?;
    u32::try_from(v).map_err(|_| Error::Migration {
        detail: format!("user_version {v} is not a valid schema version"),
    })
}

/// Brings the database to the last of `scripts`; returns the version reached. A database newer
/// than `scripts` is refused: this code cannot know what the newer schema means.
pub(crate) fn migrate(conn: &mut Connection, scripts: &[&str]) -> Result<u32> {
    let latest = version_of_index(scripts.len());
    let current = schema_version(conn)?;
    if current > latest {
        return Err(Error::Migration {
            detail: format!(
                "the database is at schema version {current}, newer than the version {latest} \
                 this mssd knows; run a newer mssd or restore a matching backup"
            ),
        });
    }
    for (index, script) in scripts.iter().enumerate().skip(current as usize) {
        let version = version_of_index(index + 1);
        let failed = |e: rusqlite::Error| Error::Migration {
            detail: format!("migration to version {version}: {e}"),
        };
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(failed)?;
        tx.execute_batch(script).map_err(failed)?;
        tx.pragma_update(None, "user_version", version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        info!(version, "store schema migrated");
    }
    Ok(latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> u32 {
        schema_version(conn).unwrap()
    }

    #[test]
    fn failing_migration_leaves_the_previous_version_intact() {
        let mut conn = Connection::open_in_memory().unwrap();
        let scripts = [
            "CREATE TABLE a (x INTEGER);",
            "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);",
        ];
        let err = migrate(&mut conn, &scripts).unwrap_err();
        assert!(
            matches!(&err, Error::Migration { detail } if detail.contains("version 2")),
            "{err}"
        );
        assert_eq!(version(&conn), 1);
        // Table b was created inside the failed transaction, so it must be gone.
        let b: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b, 0);
    }

    #[test]
    fn migrate_is_idempotent_and_refuses_newer_databases() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(
            migrate(&mut conn, MIGRATIONS).unwrap(),
            latest_schema_version()
        );
        assert_eq!(
            migrate(&mut conn, MIGRATIONS).unwrap(),
            latest_schema_version()
        );
        conn.pragma_update(None, "user_version", latest_schema_version() + 1)
            .unwrap();
        let err = migrate(&mut conn, MIGRATIONS).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
