//! The liste blanche as configured: the handle restored from the store (so a restart without
//! network still enforces the last good list) and the source the refresh loop reads.

use std::path::Path;
use std::sync::Arc;

use mssd_store::Store;
use mssd_trust_list::{
    Checksum, FetchOptions, Location, RefreshPolicy, TrustListHandle, TrustListSource,
};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::exclusive_jobs;

pub async fn restore(config: &Config, store: Arc<dyn Store>) -> Result<TrustListHandle> {
    TrustListHandle::restore(store, policy(config)?)
        .await
        .map_err(trust_error)
}

pub fn policy(config: &Config) -> Result<RefreshPolicy> {
    RefreshPolicy::new(config.trust_list.max_removal_share).map_err(trust_error)
}

/// The configured source, or `text` given on the command line: a file (relative to the data
/// dir) or an https URL checked against the `[http_client]` anchors (ANS serves the list with
/// a public-PKI certificate), whose roots are read only when a URL is involved.
pub fn source(config: &Config, text: Option<&str>) -> Result<Option<TrustListSource>> {
    let Some(text) = text.or(config.trust_list.source.as_deref()) else {
        return Ok(None);
    };
    let resolved = resolve(config, text);
    let list = Location::parse(&resolved).map_err(trust_error)?;
    let checksum = config
        .trust_list
        .sha256
        .as_deref()
        .map(|c| Checksum::parse(&resolve(config, c)))
        .transpose()
        .map_err(trust_error)?;
    let https = matches!(list, Location::Https(_))
        || matches!(checksum, Some(Checksum::At(Location::Https(_))));
    let fetcher =
        crate::http_setup::fetcher(config, FetchOptions::default(), https, "liste blanche")?;
    Ok(Some(TrustListSource::new(list, checksum, fetcher)))
}

/// With nothing restored from the store, one refresh before listening (bounded in time), so
/// a first start does not turn operators away while the loop's first fetch is under way.
/// Skipped while another node refreshes: its list reaches this one through the store.
pub async fn first_load(trust: &TrustListHandle, source: &TrustListSource, store: &dyn Store) {
    if !trust.snapshot().is_empty() {
        return;
    }
    let load = tokio::time::timeout(std::time::Duration::from_secs(30), trust.refresh(source));
    match exclusive_jobs::run_scheduled(store, exclusive_jobs::TRUST_LIST_REFRESH, load).await {
        None => {}
        Some(Ok(Ok(report))) => tracing::info!(domains = report.domains, "liste blanche loaded"),
        Some(Ok(Err(e))) => {
            tracing::warn!(error = %e, "liste blanche: first load failed; nothing is listed yet")
        }
        Some(Err(_)) => {
            tracing::warn!("liste blanche: first load timed out; the refresh loop keeps trying")
        }
    }
}

/// Refreshes `trust` from `source` now, then every `interval` (`[trust_list] refresh`), each
/// time unless another node is refreshing: an accepted list is saved to the store, whence
/// `serve::store_watch` puts it in force on every node. Outcomes are logged and recorded in
/// the status by the handle.
pub fn spawn_refresh_loop(
    trust: TrustListHandle,
    source: TrustListSource,
    interval: std::time::Duration,
    store: Arc<dyn Store>,
) -> tokio::task::JoinHandle<()> {
    let interval = interval.max(mssd_trust_list::MIN_REFRESH_INTERVAL);
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let refresh = trust.refresh(&source);
            let outcome = exclusive_jobs::run_scheduled(
                store.as_ref(),
                exclusive_jobs::TRUST_LIST_REFRESH,
                refresh,
            )
            .await
            .map(|done| done.map(|report| report.outcome));
            tracing::debug!(?outcome, "liste blanche refresh finished");
        }
    })
}

/// URLs and hex digests as given; relative paths against the data dir.
fn resolve(config: &Config, text: &str) -> String {
    let looks_like_path = !text.contains("://") && (text.contains('/') || text.contains('.'));
    if looks_like_path && Path::new(text).is_relative() {
        config.data_dir.join(text).display().to_string()
    } else {
        text.to_string()
    }
}

fn trust_error(e: mssd_trust_list::Error) -> Error {
    Error::Usage(format!("liste blanche: {e}"))
}
