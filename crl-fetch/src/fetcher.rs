//! The download loop: every source, every `tls.crl_refresh`, bounded in size and time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mssd_certs::{ChainValidator, CrlOffer};
use rustls_pki_types::CertificateRevocationListDer;
use rustls_pki_types::pem::PemObject;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::cache::CrlCache;
use crate::error::{Error, Result};

/// The largest CRL downloaded. IGC-Santé's largest CRLs are a few MB.
const MAX_CRL: usize = 32 * 1024 * 1024;

/// What the last downloads of one source gave, for `/metrics` and the logs.
#[derive(Clone, Debug, Default)]
pub struct SourceStatus {
    pub url: String,
    pub last_attempt: Option<OffsetDateTime>,
    /// The last download that gave a usable CRL (installed, or not newer than ours).
    pub last_success: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub failures: u64,
}

pub struct CrlFetcher {
    validator: Arc<ChainValidator>,
    client: reqwest::Client,
    cache: CrlCache,
    sources: Mutex<BTreeMap<String, SourceStatus>>,
}

impl CrlFetcher {
    /// `client` must bound connection and total time; CRLs are signed, so plain http (what
    /// distribution points name) is fine: a CRL nobody we trust signed is refused.
    pub fn new(validator: Arc<ChainValidator>, client: reqwest::Client, cache: CrlCache) -> Self {
        CrlFetcher {
            validator,
            client,
            cache,
            sources: Mutex::new(BTreeMap::new()),
        }
    }

    /// One round over every source; returns how many CRLs went into force.
    pub async fn refresh(&self) -> usize {
        // Saved CRLs whose signer a chain validated since the last round go into force.
        let mut installed = self.cache.restore_into(&self.validator);
        for url in self.validator.crl_sources() {
            let outcome = self.refresh_one(&url).await;
            let now = OffsetDateTime::now_utc();
            let mut sources = self.sources();
            let status = sources.entry(url.clone()).or_insert_with(|| SourceStatus {
                url: url.clone(),
                ..Default::default()
            });
            status.last_attempt = Some(now);
            match outcome {
                Ok(offer) => {
                    status.last_success = Some(now);
                    status.last_error = None;
                    if let CrlOffer::Installed(crl) = offer {
                        installed += 1;
                        tracing::info!(%url, issuer = %crl.issuer, revoked = crl.revoked_count, next_update = %crl.next_update, "CRL installed");
                    }
                }
                Err(e) => {
                    status.failures += 1;
                    status.last_error = Some(e.to_string());
                    tracing::warn!(%url, error = %e, "CRL download failed: the last good CRL stays in force");
                }
            }
        }
        installed
    }

    async fn refresh_one(&self, url: &str) -> Result<CrlOffer> {
        let bytes = self.download(url).await?;
        let der = if bytes.starts_with(b"-----BEGIN") {
            CertificateRevocationListDer::from_pem_slice(&bytes).map_err(|e| Error::Download {
                url: url.to_string(),
                reason: format!("not a PEM CRL: {e}"),
            })?
        } else {
            CertificateRevocationListDer::from(bytes)
        };
        let offer = self
            .validator
            .offer_crl(&der, url)
            .map_err(|source| Error::Crl {
                url: url.to_string(),
                source,
            })?;
        if matches!(offer, CrlOffer::Installed(_)) {
            // In force already: a failed save only costs the next start a download.
            if let Err(e) = self.cache.save(url, der.as_ref()) {
                tracing::warn!(%url, error = %e, "CRL installed but not saved");
            }
        }
        Ok(offer)
    }

    async fn download(&self, url: &str) -> Result<Vec<u8>> {
        let failed = |e: reqwest::Error| Error::Download {
            url: url.to_string(),
            reason: error_chain(&e),
        };
        let mut response = self.client.get(url).send().await.map_err(failed)?;
        if !response.status().is_success() {
            return Err(Error::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_CRL {
                return Err(Error::TooLarge {
                    url: url.to_string(),
                    max: MAX_CRL,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Each source tried so far.
    pub fn status(&self) -> Vec<SourceStatus> {
        self.sources().values().cloned().collect()
    }

    fn sources(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, SourceStatus>> {
        self.sources
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Downloads now, then every `every`, until `stop` turns true.
    pub fn spawn(
        self: Arc<Self>,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                // Slow downloads must not hold the server's shutdown.
                tokio::select! {
                    _ = self.refresh() => {}
                    _ = stop.changed() => return,
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => return,
                }
                if *stop.borrow() {
                    return;
                }
            }
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
