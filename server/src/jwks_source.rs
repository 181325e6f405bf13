//! An issuer's JWKS fetched from its https URL with the `[http_client]`, and kept in the
//! store: the last good set (so a restart while the issuer is down still has keys) and how
//! the last fetch went (for `mssd doctor`).

use std::sync::Arc;

use mssd_auth::{Jwks, JwksFetcher};
use mssd_http_client::PublicClient;
use mssd_store::Store;
use serde_json::json;

/// A JWKS is a few KiB; Pro Santé Connect's holds two or three keys.
pub const MAX_JWKS_BYTES: u64 = 1024 * 1024;

/// Which issuer a set belongs to: each has its own documents in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Issuer {
    /// `[auth.oidc]`: Pro Santé Connect.
    Professional,
    /// `[citizen.oidc]`: the citizens' provider.
    Citizen,
}

impl Issuer {
    /// The configuration section, for messages.
    pub fn section(self) -> &'static str {
        match self {
            Issuer::Professional => "auth.oidc",
            Issuer::Citizen => "citizen.oidc",
        }
    }

    /// The last good set: `{"url", "fetched_at", "jwks"}`.
    pub fn cache_document(self) -> &'static str {
        match self {
            Issuer::Professional => "oidc/jwks-cache.json",
            Issuer::Citizen => "oidc/citizen-jwks-cache.json",
        }
    }

    /// The last attempt: `{"url", "at", "result": "ok"|"failed", "keys"|"error"}`.
    pub fn status_document(self) -> &'static str {
        match self {
            Issuer::Professional => "oidc/jwks-status.json",
            Issuer::Citizen => "oidc/citizen-jwks-status.json",
        }
    }
}

/// A set read back from the store.
#[derive(Debug)]
pub struct CachedJwks {
    pub jwks: Jwks,
    /// Unix seconds.
    pub fetched_at: i64,
}

/// The set kept for `issuer`, if it was fetched from `url` (a set of another URL, from before
/// a configuration change, is not this issuer's) and still parses.
pub async fn cached(store: &dyn Store, issuer: Issuer, url: &str) -> Option<CachedJwks> {
    let bytes = store.document(issuer.cache_document()).await.ok()??;
    let doc: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    if doc["url"].as_str() != Some(url) {
        return None;
    }
    let jwks = Jwks::from_json(doc["jwks"].to_string().as_bytes()).ok()?;
    Some(CachedJwks {
        jwks,
        fetched_at: doc["fetched_at"].as_i64().unwrap_or(0),
    })
}

/// Downloads the set, checks it parses into usable keys, and records the outcome.
pub struct HttpJwks {
    issuer: Issuer,
    url: String,
    client: PublicClient,
    store: Arc<dyn Store>,
}

impl HttpJwks {
    pub fn new(issuer: Issuer, url: String, client: PublicClient, store: Arc<dyn Store>) -> Self {
        HttpJwks {
            issuer,
            url,
            client,
            store,
        }
    }

    async fn download(&self) -> Result<(Jwks, serde_json::Value), String> {
        let body = self
            .client
            .get_bounded(&self.url, MAX_JWKS_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        let jwks = Jwks::from_json(&body).map_err(|e| format!("{}: {e}", self.url))?;
        // Parsed once more as plain JSON to keep it as served (keys we skip included).
        let raw = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok((jwks, raw))
    }

    async fn record(&self, name: &str, doc: serde_json::Value) {
        if let Err(e) = self
            .store
            .put_document(name, doc.to_string().into_bytes())
            .await
        {
            tracing::warn!(issuer = self.issuer.section(), document = name, error = %e, "could not record the JWKS in the store");
        }
    }
}

#[async_trait::async_trait]
impl JwksFetcher for HttpJwks {
    async fn fetch(&self) -> Result<Jwks, String> {
        let at = time::OffsetDateTime::now_utc().unix_timestamp();
        match self.download().await {
            Ok((jwks, raw)) => {
                let cache = json!({ "url": self.url, "fetched_at": at, "jwks": raw });
                self.record(self.issuer.cache_document(), cache).await;
                let status =
                    json!({ "url": self.url, "at": at, "result": "ok", "keys": jwks.keys().len() });
                self.record(self.issuer.status_document(), status).await;
                Ok(jwks)
            }
            Err(error) => {
                let status =
                    json!({ "url": self.url, "at": at, "result": "failed", "error": error });
                self.record(self.issuer.status_document(), status).await;
                Err(error)
            }
        }
    }
}
