//! Jobs one node at a time runs on a shared store: the liste blanche refresh, the national
//! directory import, the LDAP sync and the citizen notifications. Two nodes running one
//! together would download, write or post the same thing twice, and their writes could
//! interleave; one node's result reaches the others through the store (`serve::store_watch`
//! for the list and the directory; the LDAP mirror, mailboxes, grants and the notification
//! outbox are read from the store where they are used).

use std::future::Future;

use mssd_store::{ExclusiveJob, Store};

use crate::error::{Error, Result};

pub const TRUST_LIST_REFRESH: &str = "trust-list-refresh";
pub const ANNUAIRE_IMPORT: &str = "annuaire-import";
pub const LDAP_SYNC: &str = "ldap-sync";
/// Posting citizen notifications (`[citizen] notify_url`): each once, from one node.
pub const CITIZEN_NOTIFY: &str = "citizen-notify";

/// Runs `work` unless another node (or a CLI command) runs `job` now: then, or when the lock
/// cannot be taken, `None` and a log line — the scheduled run is skipped, the next one tries
/// again.
pub async fn run_scheduled<T>(
    store: &dyn Store,
    job: &str,
    work: impl Future<Output = T>,
) -> Option<T> {
    let held = match store.try_exclusive(job).await {
        Ok(Some(held)) => held,
        Ok(None) => {
            tracing::info!(job, "skipped: run by another node");
            return None;
        }
        Err(e) => {
            tracing::warn!(job, error = %e, "skipped: could not take the job lock");
            return None;
        }
    };
    let outcome = work.await;
    held.release().await;
    Some(outcome)
}

/// For a command run by hand: the job's lock, or an error saying who holds it.
pub async fn hold_for_command(store: &dyn Store, job: &str) -> Result<ExclusiveJob> {
    store.try_exclusive(job).await?.ok_or_else(|| {
        Error::Usage(format!(
            "{job} is running in another mssd process (the server, or another node sharing \
             the database); try again once it has finished"
        ))
    })
}
