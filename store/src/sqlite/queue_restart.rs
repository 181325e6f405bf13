//! Leases left by a server that died: on SQLite one server runs the queue, so when it starts
//! again every lease in the queue is one of its own, from a round that never settled. Those
//! entries are made due now instead of waiting out the lease (`[queue] lease`, 15 minutes by
//! default): after a crash, queued mail leaves at once, as it did before leases. A peer that
//! had accepted the message in flight at the crash gets it again (at most that one: outcomes
//! are recorded as each recipient is accepted).
//!
//! PostgreSQL nodes share the queue, so a node cannot tell its own leases from a live node's:
//! there, a dead node's entries wait for the lease to end (docs/postgres.md).

use rusqlite::params;

use super::connection::DbResult;
use super::{SMALL_JOB, SqliteStore};
use crate::error::Result;

impl SqliteStore {
    /// Makes every leased entry due at `now`; how many there were. Only `serve`, at start,
    /// before its queue runner, may call it.
    pub async fn release_queue_leases(&self, now: i64) -> Result<usize> {
        self.writer
            .run(SMALL_JOB, move |c| {
                c.prepare_cached(
                    "UPDATE queue SET next_attempt = ?1, lease_until = NULL \
                     WHERE lease_until IS NOT NULL",
                )
                .and_then(|mut stmt| stmt.execute(params![now]))
                .db("releasing the leases of a previous run")
            })
            .await
    }
}
