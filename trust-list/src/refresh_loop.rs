//! The background task refreshing the list on an interval.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tracing::debug;

use crate::handle::TrustListHandle;
use crate::source::TrustListSource;

/// Shortest interval accepted; a smaller one is raised to it (a tight loop would hammer ANS).
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Refreshes `handle` from `source` now, then every `interval`, until the task is aborted.
/// Accepted lists are saved to the store the handle was restored from (see
/// [`TrustListHandle::restore`]); refusals are logged and recorded in the status by the handle.
pub fn spawn_refresh_loop(
    handle: TrustListHandle,
    source: TrustListSource,
    interval: Duration,
) -> JoinHandle<()> {
    let interval = interval.max(MIN_REFRESH_INTERVAL);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            // The outcome is already logged and recorded in the status.
            let outcome = handle.refresh(&source).await.map(|report| report.outcome);
            debug!(?outcome, "liste blanche refresh finished");
        }
    })
}
