//! What the command line changes in the store reaches the running server within seconds:
//! the liste blanche saved by `mssd trust-list load` and the national directory imported by
//! `mssd annuaire import` are put in force here. Mailbox changes (`mailbox add|suspend|grant
//! |revoke`) need no watch: logins and deliveries read mailboxes and grants from the store.

use std::sync::Arc;
use std::time::Duration;

use mssd_annuaire::SharedDirectory;
use mssd_store::{DirectorySetStatus, Store};
use mssd_trust_list::TrustListHandle;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// How often the store is looked at: two cheap reads (a digest, the directory's status).
const INTERVAL: Duration = Duration::from_secs(2);

pub fn spawn(
    trust: TrustListHandle,
    directory: SharedDirectory,
    store: Arc<dyn Store>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut in_force = fingerprint(store.as_ref()).await;
        let mut ticker = tokio::time::interval(INTERVAL);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.changed() => return,
            }
            if let Err(e) = trust.follow_store().await {
                tracing::debug!(error = %e, "liste blanche: following the store failed");
            }
            let now = fingerprint(store.as_ref()).await;
            if now.is_some() && now != in_force {
                match directory.reload(store.as_ref()).await {
                    Ok(entries) => {
                        tracing::info!(
                            entries,
                            "national directory imported by another process put in force"
                        );
                        in_force = now;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "national directory reload failed; the index in force stays")
                    }
                }
            }
        }
    })
}

/// The generations in force, which an import changes.
async fn fingerprint(store: &dyn Store) -> Option<Vec<DirectorySetStatus>> {
    match store.directory_status().await {
        Ok(status) => Some(status),
        Err(e) => {
            tracing::warn!(error = %e, "reading the national directory's status failed");
            None
        }
    }
}
