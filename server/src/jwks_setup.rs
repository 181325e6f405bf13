//! Issuers' keys at start and while serving. A JWKS file is read once. A JWKS URL is
//! fetched with the `[http_client]` and kept in the store; at start the kept set is used at
//! once (and fetched again in the background), else it is fetched before listening. If that
//! first fetch fails, the server starts anyway with no key for that issuer — its tokens are
//! refused, loudly logged — and keeps retrying every minute: refusing to start would also take
//! passwords, certificates and inbound mail down with the issuer. While serving, the set is
//! fetched every `jwks_refresh`, on a token naming an unknown key (rate-limited, in
//! mssd-auth), and after a failure every minute; a failure keeps the last good set.

use std::sync::{Arc, Weak};
use std::time::Duration;

use mssd_auth::{Authenticator, Jwks, JwksFetcher, KeySource, TokenValidator};
use mssd_http_client::ClientOptions;
use mssd_store::Store;

use crate::config::{Config, JwksLocation};
use crate::error::{Error, Result};
use crate::jwks_source::{HttpJwks, Issuer, cached};

/// After a failed fetch, the next one comes this soon (or at `jwks_refresh` if shorter).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);
/// The first fetch at start, when nothing is kept, delays listening this long at most.
const FIRST_FETCH_TIMEOUT: Duration = Duration::from_secs(20);
/// A JWKS answer is small: the issuer has a few seconds, and an on-demand refresh holds a
/// login waiting.
const CLIENT_OPTIONS: ClientOptions = ClientOptions {
    connect_timeout: Duration::from_secs(5),
    timeout: Duration::from_secs(15),
    max_redirects: 3,
};

/// An issuer's keys for the authenticator, and the refresh to schedule once it exists.
pub struct IssuerKeys {
    pub jwks: Jwks,
    pub source: Option<KeySource>,
    pub refresh: Option<Refresh>,
}

/// A refresh loop to start: first after `first_in`, then every `every`.
pub struct Refresh {
    issuer: Issuer,
    every: Duration,
    first_in: Duration,
}

/// The keys of `issuer` as configured at `location`.
pub async fn load(
    config: &Config,
    store: &Arc<dyn Store>,
    issuer: Issuer,
    location: &JwksLocation,
    every: Duration,
) -> Result<IssuerKeys> {
    let url = match location {
        JwksLocation::File(path) => {
            let jwks = Jwks::load(path)
                .map_err(|e| Error::Usage(format!("{}.jwks: {e}", issuer.section())))?;
            return Ok(IssuerKeys {
                jwks,
                source: None,
                refresh: None,
            });
        }
        JwksLocation::Url(url) => url,
    };
    let purpose = format!("{}.jwks", issuer.section());
    let client = crate::http_setup::public_client(config, CLIENT_OPTIONS, &purpose)?;
    let fetcher = Arc::new(HttpJwks::new(issuer, url.clone(), client, store.clone()));
    let source = Some(KeySource::new(fetcher.clone()));
    if let Some(kept) = cached(store.as_ref(), issuer, url).await {
        tracing::info!(issuer = issuer.section(), %url, fetched_at = kept.fetched_at, keys = kept.jwks.keys().len(), "JWKS: the set kept in the store is in use; fetching it again now");
        return Ok(IssuerKeys {
            jwks: kept.jwks,
            source,
            refresh: Some(Refresh {
                issuer,
                every,
                first_in: Duration::ZERO,
            }),
        });
    }
    let first = tokio::time::timeout(FIRST_FETCH_TIMEOUT, fetcher.fetch())
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {FIRST_FETCH_TIMEOUT:?}")));
    let (jwks, first_in) = match first {
        Ok(jwks) => {
            tracing::info!(issuer = issuer.section(), %url, keys = jwks.keys().len(), "JWKS fetched");
            (jwks, every)
        }
        Err(error) => {
            tracing::error!(issuer = issuer.section(), %url, %error, "JWKS could not be fetched and none is kept: every token of this issuer is refused until it can be; retrying every minute");
            (Jwks::empty(), RETRY_AFTER_FAILURE.min(every))
        }
    };
    Ok(IssuerKeys {
        jwks,
        source,
        refresh: Some(Refresh {
            issuer,
            every,
            first_in,
        }),
    })
}

/// Starts the refresh loops. They hold the authenticator weakly and end with it.
pub fn spawn_refreshes(auth: &Arc<Authenticator>, refreshes: Vec<Refresh>) {
    for refresh in refreshes {
        tokio::spawn(refresh_loop(Arc::downgrade(auth), refresh));
    }
}

async fn refresh_loop(auth: Weak<Authenticator>, refresh: Refresh) {
    let mut delay = refresh.first_in;
    loop {
        tokio::time::sleep(delay).await;
        let Some(auth) = auth.upgrade() else {
            return;
        };
        let Some(validator) = validator(&auth, refresh.issuer) else {
            return;
        };
        // The validator logs the outcome; a failure keeps the keys in use.
        delay = match validator.refresh_now().await {
            Ok(_) => refresh.every,
            Err(_) => {
                if validator.jwks().keys().is_empty() {
                    tracing::error!(
                        issuer = refresh.issuer.section(),
                        "still no JWKS: every token of this issuer is refused"
                    );
                }
                RETRY_AFTER_FAILURE.min(refresh.every)
            }
        };
    }
}

fn validator(auth: &Authenticator, issuer: Issuer) -> Option<&TokenValidator> {
    match issuer {
        Issuer::Professional => auth.token_validator(),
        Issuer::Citizen => auth.citizen_token_validator(),
    }
}
