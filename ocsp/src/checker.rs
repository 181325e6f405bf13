//! The asking loop: the certificates the validator listed, at once when one shows up, and
//! again before each answer's cache time runs out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mssd_certs::{ChainValidator, OcspAnswer, OcspBook, OcspQuestion};
use tokio::sync::{Notify, watch};

use crate::error::{Error, Result};
use crate::wire::{read_response, request_for};

/// The largest response read. Responses are a few KB.
const MAX_RESPONSE: usize = 256 * 1024;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct OcspFigures {
    pub answers: AtomicU64,
    pub failures: AtomicU64,
}

pub struct OcspChecker {
    book: Arc<OcspBook>,
    responder: String,
    client: reqwest::Client,
    cache_for: Duration,
    wake: Arc<Notify>,
    pub figures: OcspFigures,
    /// Certificates whose last request failed, and when to ask again: a responder that is
    /// down is not asked again at every handshake.
    retry_at: std::sync::Mutex<std::collections::HashMap<Vec<u8>, u64>>,
}

/// How long after a failed request a certificate is asked about again.
const RETRY_AFTER_FAILURE: u64 = 60;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl OcspChecker {
    /// Turns OCSP on in `validator`. `client` must bound its time; `cache_for` is how long
    /// an answer is used.
    pub fn new(
        validator: &ChainValidator,
        responder: String,
        client: reqwest::Client,
        cache_for: Duration,
    ) -> Arc<OcspChecker> {
        let book = validator.enable_ocsp();
        let wake = Arc::new(Notify::new());
        let waker = wake.clone();
        book.on_question(Box::new(move || waker.notify_one()));
        Arc::new(OcspChecker {
            book,
            responder,
            client,
            cache_for,
            wake,
            figures: OcspFigures::default(),
            retry_at: Default::default(),
        })
    }

    /// (certificates followed, revoked now).
    pub fn counts(&self) -> (usize, usize) {
        self.book.counts(now())
    }

    /// Asks about one certificate.
    pub async fn ask(&self, question: &OcspQuestion) -> Result<OcspAnswer> {
        let request = request_for(question.certificate.as_ref(), question.issuer.as_ref())?;
        let failed = |reason: String| Error::Responder {
            url: self.responder.clone(),
            reason,
        };
        let mut response = self
            .client
            .post(&self.responder)
            .header("Content-Type", "application/ocsp-request")
            .body(request)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status().as_u16())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            if body.len() + chunk.len() > MAX_RESPONSE {
                return Err(failed(format!("response larger than {MAX_RESPONSE} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        read_response(
            &body,
            question.certificate.as_ref(),
            question.issuer.as_ref(),
        )
    }

    /// One round over the certificates without a fresh answer; returns how many answered.
    pub async fn round(&self) -> usize {
        // Asked again when a fifth of the cache time is left, so a busy peer never waits.
        let margin = self.cache_for.as_secs() / 5;
        let mut answered = 0;
        let started = now();
        for question in self.book.questions(started, margin) {
            {
                let mut retry_at = self.retry_at.lock().unwrap_or_else(|p| p.into_inner());
                retry_at.retain(|_, at| *at > started);
                if retry_at.contains_key(question.certificate.as_ref()) {
                    continue;
                }
            }
            match self.ask(&question).await {
                Ok(answer) => {
                    answered += 1;
                    self.figures.answers.fetch_add(1, Ordering::Relaxed);
                    if answer == OcspAnswer::Revoked {
                        tracing::warn!(responder = %self.responder, "OCSP: a peer certificate is revoked; refused from now on");
                    }
                    self.book.record(
                        &question.certificate,
                        answer,
                        now() + self.cache_for.as_secs(),
                    );
                }
                Err(e) => {
                    self.figures.failures.fetch_add(1, Ordering::Relaxed);
                    self.retry_at
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(question.certificate.to_vec(), now() + RETRY_AFTER_FAILURE);
                    tracing::warn!(error = %e, "OCSP: no answer; the last one stays until it expires, the CRLs decide");
                }
            }
        }
        answered
    }

    /// Asks whenever the validator lists a certificate, and every fifth of the cache time,
    /// until `stop` turns true.
    pub fn spawn(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let every = (self.cache_for / 5).max(Duration::from_secs(1));
        tokio::spawn(async move {
            loop {
                // A round of slow requests must not hold the server's shutdown.
                tokio::select! {
                    _ = self.round() => {}
                    _ = stop.changed() => return,
                }
                tokio::select! {
                    _ = self.wake.notified() => {}
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
