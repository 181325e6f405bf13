//! New-message notifications for citizen mailboxes (`[citizen] notify_url`): the outbox rows
//! written with each delivery are POSTed as JSON — the notification id (for the receiver to
//! drop a repeat), the mailbox id and counts; never an address, an INS or any health data —
//! and removed once the receiver answers 2xx. A failure reschedules the row on
//! `notify_retry` (the last delay repeats); delivery never waits for any of this.

use std::sync::Arc;
use std::time::Duration;

use mssd_store::{Notification, Store};
use rustls::{ClientConfig, RootCertStore};
use tokio::sync::watch;

use crate::config::NotifyConfig;
use crate::error::{Error, Result};

/// How often the outbox is read when idle.
const POLL: Duration = Duration::from_millis(500);
const BATCH: usize = 100;

pub struct Notifier {
    store: Arc<dyn Store>,
    config: NotifyConfig,
    client: reqwest::Client,
}

impl Notifier {
    /// An https `notify_url` must present a certificate chaining to `anchors` (ours).
    pub fn new(
        store: Arc<dyn Store>,
        config: NotifyConfig,
        anchors: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Notifier> {
        let mut roots = RootCertStore::empty();
        for anchor in anchors {
            roots.add(anchor.clone()).map_err(|e| {
                Error::Usage(format!(
                    "citizen.notify_url: a trust anchor is unusable: {e}"
                ))
            })?;
        }
        let tls =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Usage(format!("citizen.notify_url: TLS: {e}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mssd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                Error::Usage(format!(
                    "citizen.notify_url: cannot build the HTTP client: {e}"
                ))
            })?;
        Ok(Notifier {
            store,
            config,
            client,
        })
    }

    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(url = %self.config.url, "citizen notifications: sender started");
        loop {
            let sent_any = self.round().await;
            if *stop.borrow() {
                return;
            }
            if !sent_any {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }

    /// Sends what is due, on one node at a time (nodes sharing a PostgreSQL store would
    /// otherwise post the same notification twice); whether anything was sent. The job lock
    /// is taken only when something is due, and the outbox read again under it.
    async fn round(&self) -> bool {
        match self.store.notifications_due(unix_now(), 1).await {
            Ok(due) if due.is_empty() => return false,
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "citizen notifications: reading the outbox failed");
                return false;
            }
        }
        crate::exclusive_jobs::run_scheduled(
            self.store.as_ref(),
            crate::exclusive_jobs::CITIZEN_NOTIFY,
            self.send_due(),
        )
        .await
        .unwrap_or(false)
    }

    /// Sends what is due (the job lock held); whether anything was due.
    async fn send_due(&self) -> bool {
        let now = unix_now();
        let due = match self.store.notifications_due(now, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "citizen notifications: reading the outbox failed");
                return false;
            }
        };
        for n in &due {
            let outcome = match self.post(n).await {
                Ok(()) => self.store.notification_sent(n.id).await,
                Err(reason) => {
                    let delay =
                        self.config.retry[(n.attempts as usize).min(self.config.retry.len() - 1)];
                    tracing::warn!(id = n.id, attempts = n.attempts + 1, %reason, "citizen notifications: attempt failed, retrying in {delay:?}");
                    self.store
                        .notification_failed(n.id, now + delay.as_secs().max(1) as i64, reason)
                        .await
                }
            };
            if let Err(e) = outcome {
                tracing::error!(error = %e, "citizen notifications: updating the outbox failed");
            }
        }
        !due.is_empty()
    }

    async fn post(&self, n: &Notification) -> std::result::Result<(), String> {
        let body = serde_json::json!({
            "id": n.id,
            "mailbox_id": n.mailbox.0,
            "new_messages": n.new_messages,
            "created_at": n.created_at,
        });
        let response = self
            .client
            .post(&self.config.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("POST failed: {e}"))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", response.status()))
        }
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
