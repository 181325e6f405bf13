//! OCSP answers for the chain validator, kept in memory. Validation is synchronous (it runs
//! inside TLS handshakes), so it never waits for a responder: it reads the answers an
//! asynchronous checker wrote here (the `mssd-ocsp` crate), and puts every certificate it
//! has no fresh answer for on the checker's list. A certificate revoked by an answer is
//! refused until that answer expires; an answer is valid for the checker's cache time.

use std::collections::HashMap;
use std::sync::Mutex;

use rustls_pki_types::CertificateDer;

/// Certificates followed at once. Past it, the oldest asked is forgotten.
const MAX_TRACKED: usize = 4096;

/// What a responder said of one certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspAnswer {
    Good,
    Revoked,
    /// The responder does not know the certificate: the CRLs decide.
    Unknown,
}

#[derive(Clone, Debug)]
struct Entry {
    issuer: CertificateDer<'static>,
    answer: Option<(OcspAnswer, u64)>,
    asked_at: u64,
}

/// Certificates to ask about and the answers received, keyed by the certificate's DER.
#[derive(Default)]
pub struct OcspBook {
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
    wake: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
}

impl std::fmt::Debug for OcspBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspBook")
            .field("tracked", &self.lock().len())
            .finish()
    }
}

/// A certificate the checker should ask about, with its issuer.
#[derive(Clone, Debug)]
pub struct OcspQuestion {
    pub certificate: CertificateDer<'static>,
    pub issuer: CertificateDer<'static>,
}

impl OcspBook {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Called when a certificate without a fresh answer shows up (the checker's wake-up).
    pub fn on_question(&self, wake: Box<dyn Fn() + Send + Sync>) {
        *self.wake.lock().unwrap_or_else(|p| p.into_inner()) = Some(wake);
    }

    /// The fresh answer about `certificate` at `now` (Unix seconds); puts it on the list when
    /// there is none.
    pub(crate) fn answer_or_ask(
        &self,
        certificate: &CertificateDer<'_>,
        issuer: &CertificateDer<'_>,
        now: u64,
    ) -> Option<OcspAnswer> {
        let mut entries = self.lock();
        if let Some(entry) = entries.get(certificate.as_ref())
            && let Some((answer, until)) = entry.answer
            && until > now
        {
            return Some(answer);
        }
        if let Some(entry) = entries.get_mut(certificate.as_ref()) {
            // The issuer comes from the verified path: the latest is the one to ask about.
            if entry.issuer.as_ref() != issuer.as_ref() {
                entry.issuer = issuer.clone().into_owned();
            }
        } else {
            if entries.len() >= MAX_TRACKED
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.asked_at)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
            entries.insert(
                certificate.as_ref().to_vec(),
                Entry {
                    issuer: issuer.clone().into_owned(),
                    answer: None,
                    asked_at: now,
                },
            );
        }
        drop(entries);
        if let Some(wake) = self.wake.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            wake();
        }
        None
    }

    /// Every certificate without an answer valid at `now + margin`.
    pub fn questions(&self, now: u64, margin: u64) -> Vec<OcspQuestion> {
        self.lock()
            .iter()
            .filter(|(_, e)| e.answer.is_none_or(|(_, until)| until <= now + margin))
            .map(|(certificate, e)| OcspQuestion {
                certificate: CertificateDer::from(certificate.clone()),
                issuer: e.issuer.clone(),
            })
            .collect()
    }

    /// Records `answer` about `certificate`, valid until `until` (Unix seconds).
    pub fn record(&self, certificate: &CertificateDer<'_>, answer: OcspAnswer, until: u64) {
        if let Some(entry) = self.lock().get_mut(certificate.as_ref()) {
            entry.answer = Some((answer, until));
        }
    }

    /// (certificates followed, of which revoked now).
    pub fn counts(&self, now: u64) -> (usize, usize) {
        let entries = self.lock();
        let revoked = entries
            .values()
            .filter(|e| matches!(e.answer, Some((OcspAnswer::Revoked, until)) if until > now))
            .count();
        (entries.len(), revoked)
    }
}
