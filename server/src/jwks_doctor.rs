//! What `mssd doctor` says of an issuer's keys: a file is read; for a URL, the set the server
//! keeps in the store and how its last fetch went, or — when nothing is kept yet (the server
//! never ran) — one fetch with the `[http_client]`, kept nowhere (doctor creates nothing).

use mssd_auth::Jwks;

use crate::config::{Config, JwksLocation};
use crate::jwks_source::{Issuer, MAX_JWKS_BYTES, cached};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Keys are there but the last fetch failed: they are served stale.
    Stale,
    /// No usable key: every token of the issuer is refused.
    Missing,
}

/// The health of `issuer`'s keys at `location` and a line saying why.
pub async fn check(
    config: &Config,
    store: Option<&dyn mssd_store::Store>,
    issuer: Issuer,
    location: &JwksLocation,
) -> (Health, String) {
    let url = match location {
        JwksLocation::File(path) => {
            return match Jwks::load(path) {
                Ok(jwks) => (
                    Health::Ok,
                    format!("{} key(s) in {}", jwks.keys().len(), path.display()),
                ),
                Err(e) => (Health::Missing, format!("{}: {e}", path.display())),
            };
        }
        JwksLocation::Url(url) => url,
    };
    let kept = match store {
        Some(store) => cached(store, issuer, url).await,
        None => None,
    };
    let Some(kept) = kept else {
        return fetch_once(config, issuer, url).await;
    };
    let at = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t).map_or_else(|_| "?".into(), |t| t.to_string())
    };
    let mut text = format!(
        "{} key(s) from {url}, fetched {}",
        kept.jwks.keys().len(),
        at(kept.fetched_at)
    );
    let status = match store {
        Some(store) => store
            .document(issuer.status_document())
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let status: serde_json::Value = status
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    if status["result"] == "failed" && status["url"].as_str() == Some(url) {
        text.push_str(&format!(
            "; last fetch ({}) FAILED, the kept keys are in use: {}",
            at(status["at"].as_i64().unwrap_or(0)),
            status["error"].as_str().unwrap_or("?")
        ));
        return (Health::Stale, text);
    }
    (Health::Ok, text)
}

async fn fetch_once(config: &Config, issuer: Issuer, url: &str) -> (Health, String) {
    let purpose = format!("{}.jwks", issuer.section());
    let options = mssd_http_client::ClientOptions {
        connect_timeout: std::time::Duration::from_secs(5),
        timeout: std::time::Duration::from_secs(15),
        max_redirects: 3,
    };
    let client = match crate::http_setup::public_client(config, options, &purpose) {
        Ok(client) => client,
        Err(e) => return (Health::Missing, e.to_string()),
    };
    let fetched = client
        .get_bounded(url, MAX_JWKS_BYTES)
        .await
        .map_err(|e| e.to_string())
        .and_then(|body| Jwks::from_json(&body).map_err(|e| format!("{url}: {e}")));
    match fetched {
        Ok(jwks) => (
            Health::Ok,
            format!(
                "{} key(s) at {url} (fetched now; the server keeps none yet)",
                jwks.keys().len()
            ),
        ),
        Err(e) => (
            Health::Missing,
            format!("nothing kept and the fetch failed: {e}"),
        ),
    }
}
