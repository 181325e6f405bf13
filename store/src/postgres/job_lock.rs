//! Jobs run by one node at a time: a session advisory lock per job, held on a connection taken
//! out of the pool for as long as the guard lives.
//!
//! The connection leaves the pool for good (`Object::take`): a session lock survives the
//! return of its connection to the pool, so a pooled connection would keep the job locked for
//! whoever borrows it next, and the unlock could run on another session than the lock. The
//! guard unlocks explicitly, then closes the connection; were the unlock lost (a dropped
//! guard outside a runtime, a broken connection), closing the session releases the lock too.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tracing::warn;

use super::{PgResult, PostgresStore};
use crate::error::Result;
use crate::exclusive_job::{ExclusiveJob, JobHold, check_job_name};

/// First key of every job lock ("mssd" in ASCII). Locks of the two-integer form never meet
/// those of the single-bigint form (the migration and audit locks) in PostgreSQL's lock space.
const JOB_LOCK_NAMESPACE: i32 = 0x6d73_7364;

/// The second key: stable across builds and machines (nodes of different versions must agree),
/// hence SHA-256 rather than the standard library's seeded hasher.
fn job_key(job: &str) -> i32 {
    let digest = Sha256::digest(job.as_bytes());
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

pub(crate) async fn try_exclusive(
    store: &PostgresStore,
    job: &str,
) -> Result<Option<ExclusiveJob>> {
    check_job_name(job)?;
    let key = job_key(job);
    let client = deadpool_postgres::Object::take(store.conn().await?);
    let locked: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock($1, $2)",
            &[&JOB_LOCK_NAMESPACE, &key],
        )
        .await
        .pg("taking a job lock")?
        .get(0);
    if !locked {
        // Dropping `client` closes that connection; the pool opens another when needed.
        return Ok(None);
    }
    let hold = PgJobHold {
        client: Some(client),
        key,
    };
    Ok(Some(ExclusiveJob::new(job, Box::new(hold))))
}

struct PgJobHold {
    client: Option<deadpool_postgres::ClientWrapper>,
    key: i32,
}

async fn unlock(client: deadpool_postgres::ClientWrapper, key: i32) {
    if let Err(e) = client
        .execute(
            "SELECT pg_advisory_unlock($1, $2)",
            &[&JOB_LOCK_NAMESPACE, &key],
        )
        .await
    {
        // Closing the connection (dropping `client`) releases it all the same.
        warn!(error = %e, "postgres: releasing a job lock failed; closing its connection");
    }
}

#[async_trait]
impl JobHold for PgJobHold {
    async fn release(mut self: Box<Self>) {
        if let Some(client) = self.client.take() {
            unlock(client, self.key).await;
        }
    }
}

impl Drop for PgJobHold {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        // Without a runtime the connection task is gone with it: the session, hence the lock,
        // ends as the socket closes.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(unlock(client, self.key));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::job_key;

    #[test]
    fn job_keys_are_stable_and_distinct() {
        // A changed key would let nodes of two versions run a job together.
        assert_eq!(job_key("trust-list"), -433_344_492);
        assert_ne!(job_key("trust-list"), job_key("annuaire-import"));
    }
}
