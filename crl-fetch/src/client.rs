//! The client CRLs are downloaded with. Distribution points are plain http as a rule (a CRL
//! carries its CA's signature, checked before use), so unlike the public-HTTPS client it
//! allows http; an https source is checked against `[http_client] anchors`.

use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, RootCertStore};

use crate::error::{Error, Result};

pub fn crl_client(roots: RootCertStore) -> Result<reqwest::Client> {
    let client_error = |reason: String| Error::Download {
        url: "(client)".into(),
        reason,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| client_error(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("mssd/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| client_error(e.to_string()))
}
