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
pub async fn first_load(trust: &TrustListHandle, source: &TrustListSource) {
    if !trust.snapshot().is_empty() {
        return;
    }
    match tokio::time::timeout(std::time::Duration::from_secs(30), trust.refresh(source)).await {
        Ok(Ok(report)) => tracing::info!(domains = report.domains, "liste blanche loaded"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "liste blanche: first load failed; nothing is listed yet")
        }
        Err(_) => {
            tracing::warn!("liste blanche: first load timed out; the refresh loop keeps trying")
        }
    }
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
