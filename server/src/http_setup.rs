//! The client for public HTTPS sources as configured in `[http_client]`: the ANS liste blanche
//! and national directory downloads, issuers' JWKS, and the citizens' provider's token
//! endpoint. These are served with public-PKI certificates, so they are checked against
//! `http_client.anchors` (the system bundle by default), never against `tls.trust_anchors`.
//! MSSanté peers never go through it: they must chain to IGC-Santé (mssd-certs) only.
//!
//! Clients are built only when something is downloaded, so a configuration that fetches
//! nothing (the embedded default) never reads the system CA bundle nor needs a network.

use std::time::Duration;

use mssd_http_client::{ClientOptions, PublicClient};
use mssd_trust_list::{FetchOptions, Fetcher};

use crate::config::Config;
use crate::error::{Error, Result};

/// The public client, its roots read now; `purpose` (a configuration key) prefixes errors.
pub fn public_client(
    config: &Config,
    options: ClientOptions,
    purpose: &str,
) -> Result<PublicClient> {
    let anchors = &config.http_client.anchors;
    PublicClient::new(anchors, options)
        .map_err(|e| Error::Usage(format!("{purpose}: http_client.anchors = {anchors}: {e}")))
}

/// A fetcher for a download source: with the public client when the source (or its checksum)
/// is an https URL, reading files only otherwise.
pub fn fetcher(
    config: &Config,
    options: FetchOptions,
    https: bool,
    purpose: &str,
) -> Result<Fetcher> {
    if !https {
        return Ok(Fetcher::files_only(options));
    }
    let client_options = ClientOptions {
        connect_timeout: options.connect_timeout,
        timeout: options.timeout,
        ..ClientOptions::default()
    };
    let client = public_client(config, client_options, purpose)?;
    Ok(Fetcher::with_client(client, options))
}

/// The client for the citizens' provider's token endpoint: no redirect (an authorization
/// code and a client secret go only where the configuration says), short timeouts (a citizen
/// is waiting on the other side).
pub fn provider_client(config: &Config) -> Result<reqwest::Client> {
    let options = ClientOptions {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
        max_redirects: 0,
    };
    let client = public_client(config, options, "citizen.oidc.token_endpoint")?;
    Ok(client.reqwest().clone())
}
