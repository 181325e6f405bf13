//! What every session shares: configuration, store, TLS, limits, metrics.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use mssd_store::{AuditEvent, Store};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::limits::ConnectionLimits;
use super::protocol::Protocol;
use crate::audit;
use crate::config::Config;
use crate::metrics::{Metrics, Snapshot};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

pub struct ServerState {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub limits: Arc<ConnectionLimits>,
    pub smtp: Arc<mssd_smtp::SmtpContext>,
    pub imap: Arc<mssd_imap::ImapContext>,
    pub trust: mssd_trust_list::TrustListHandle,
    pub runner: Arc<mssd_smtp::outbound::QueueRunner>,
    /// The national directory index in force (search, SMTP checks).
    pub directory: mssd_annuaire::SharedDirectory,
    /// The HTTPS listener's TLS (ALPN h2 and http/1.1, no client certificate).
    pub https_tls: TlsAcceptor,
    /// The HTTP routers, set once the state exists (they hold a weak reference to it).
    pub web: std::sync::OnceLock<mssd_web::Routers>,
    /// Our identity and the validator, which SIGHUP reloads in place.
    pub tls: crate::tls_setup::LoadedTls,
    /// Downloads CRLs (`None` with `tls.crl_refresh = "off"`).
    pub crl: Option<Arc<mssd_crl_fetch::CrlFetcher>>,
    /// Asks `tls.ocsp` about peer certificates (`None` without a responder).
    pub ocsp: Option<Arc<mssd_ocsp::OcspChecker>>,
    pub reloads: super::reload_status::ReloadStatus,
}

impl ServerState {
    /// Implicit TLS. A failed handshake (a refused client certificate among other causes)
    /// is a refusal of trust: it is counted and audited.
    pub async fn tls_handshake(
        &self,
        protocol: Protocol,
        acceptor: &TlsAcceptor,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> Option<TlsStream<TcpStream>> {
        let outcome = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
        let error = match outcome {
            Ok(Ok(tls)) => return Some(tls),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "handshake timed out".to_string(),
        };
        self.metrics
            .listener(protocol.name())
            .tls_failures
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(listener = protocol.name(), %peer, %error, "TLS handshake failed");
        // Handshakes cost a client nothing to fail: past a few a minute, count them.
        let detail = serde_json::json!({ "error": error });
        let gate = self.smtp.auth.refusal_audit();
        if let Some(detail) = gate.gate(peer.ip(), "tls.refused", detail) {
            self.audit(AuditEvent {
                at: audit::now_ms(),
                kind: "tls.refused".into(),
                actor: peer.to_string(),
                subject: protocol.name().into(),
                outcome: "refused".into(),
                detail,
            })
            .await;
        }
        None
    }

    /// Appends to the audit trail; a failure is logged, never hidden.
    pub async fn audit(&self, event: AuditEvent) {
        let kind = event.kind.clone();
        if let Err(e) = self.store.audit(event).await {
            tracing::error!(%kind, error = %e, "audit trail write failed");
        }
    }

    /// The last import report of each national file kind, as the importer stored it.
    async fn last_imports(&self) -> Vec<(String, i64, bool)> {
        let mut imports = Vec::new();
        for set in ["mailboxes", "professionals"] {
            let name = format!("annuaire/last-import-{set}.json");
            let Ok(Some(bytes)) = self.store.document(&name).await else {
                continue;
            };
            let Ok(report) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                continue;
            };
            let at = report["finished_at"].as_i64().unwrap_or(0);
            imports.push((
                set.to_string(),
                at,
                report["replaced"].as_bool().unwrap_or(false),
            ));
        }
        imports
    }

    pub async fn render_metrics(&self) -> String {
        let stats = self.store.stats();
        let healthy = self.store.ping().await.is_ok();
        let smtp = &self.smtp.counters;
        let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        self.metrics.render(&Snapshot {
            store_writes: stats.writes,
            store_commits: stats.commits,
            store_healthy: healthy,
            trust: self.trust.status(),
            smtp_accepted: load(&smtp.messages_accepted),
            smtp_bytes: load(&smtp.bytes_accepted),
            smtp_trust_refusals: load(&smtp.refused_trust),
            cda: crate::metrics_cda::CdaFigures::read(&smtp.cda),
            tls: crate::metrics_tls::TlsFigures {
                crls: self
                    .tls
                    .validator
                    .crl_status(rustls::pki_types::UnixTime::now()),
                sources: self.crl.as_ref().map(|f| f.status()).unwrap_or_default(),
                reloads_succeeded: load(&self.reloads.succeeded),
                reloads_failed: load(&self.reloads.failed),
                last_reload_ok: self.reloads.last_ok.load(Ordering::Relaxed),
                last_reload_at: self.reloads.last_at.load(Ordering::Relaxed),
                ocsp: self.ocsp.as_ref().map(|c| {
                    let (followed, revoked) = c.counts();
                    (
                        followed as u64,
                        revoked as u64,
                        load(&c.figures.answers),
                        load(&c.figures.failures),
                    )
                }),
            },
            auth_failures: load(&smtp.auth_failures) + load(&self.imap.counters.auth_failures),
            imap: (
                load(&self.imap.counters.sessions),
                load(&self.imap.counters.logins),
                load(&self.imap.counters.commands),
            ),
            queue: self.store.queue_summary().await.unwrap_or_default(),
            outbound: self.runner.stats().snapshot(),
            directory: {
                let directory = self.directory.get();
                (directory.len() as u64, directory.memory_bytes() as u64)
            },
            imports: self.last_imports().await,
        })
    }
}
