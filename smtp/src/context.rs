//! What every SMTP session shares: configuration, store, liste blanche, authentication, TLS.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mssd_certs::ChainValidator;
use mssd_store::{AuditEvent, Store};
use tokio_rustls::TlsAcceptor;

use crate::config::SmtpConfig;

pub struct SmtpContext {
    pub config: SmtpConfig,
    pub store: Arc<dyn Store>,
    pub trust: mssd_trust_list::TrustListHandle,
    pub auth: Arc<mssd_auth::Authenticator>,
    /// Server TLS with `ClientAuth::Deferred`: the session validates peers itself so that it
    /// can refuse with a reply code that names the failed check.
    pub tls: TlsAcceptor,
    pub validator: Arc<ChainValidator>,
    pub counters: SmtpCounters,
    /// Woken when a message is queued, so the outbound runner need not wait for its poll.
    pub queue_notify: Arc<tokio::sync::Notify>,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct SmtpCounters {
    pub messages_accepted: AtomicU64,
    pub bytes_accepted: AtomicU64,
    pub refused_trust: AtomicU64,
    pub auth_failures: AtomicU64,
    pub cda: crate::cda_counters::CdaCounters,
    sequence: AtomicU64,
}

impl SmtpCounters {
    /// A process-unique message identifier: time in ms and a counter, in hex.
    pub fn next_id(&self) -> String {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        format!("{:011x}{:05x}", now_ms(), n & 0xf_ffff)
    }
}

impl SmtpContext {
    /// Appends to the audit trail; a failure is logged, never hidden.
    pub async fn audit(
        &self,
        kind: &str,
        actor: String,
        subject: String,
        outcome: &str,
        detail: serde_json::Value,
    ) {
        let event = AuditEvent {
            at: now_ms() as i64,
            kind: kind.into(),
            actor,
            subject,
            outcome: outcome.into(),
            detail,
        };
        if let Err(e) = self.store.audit(event).await {
            tracing::error!(kind, error = %e, "audit trail write failed");
        }
    }
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
