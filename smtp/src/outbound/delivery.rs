//! Delivering the jobs bound for one list of next hops over as few connections as possible:
//! the first host that answers carries every job in turn (RSET between them). Before each
//! job the peer certificate's subject DN must be listed in the liste blanche for the job's
//! domain; a refusal is audited and defers the job (a list refresh may fix it).

use std::collections::VecDeque;
use std::sync::Arc;

use mssd_core::Address;
use mssd_store::{QueueId, Queued};
use tokio::net::TcpStream;

use super::client::{ClientSettings, SmtpClient};
use super::envelope::QueuedEnvelope;
use super::outcome::{Failure, Outcome};
use super::route::NextHop;
use super::stats::OutboundStats;
use super::transaction::OutboundMessage;
use crate::context::SmtpContext;
use crate::message::headers::{field_value, header_block_len};

/// The recipients of one queued message in one domain.
pub(crate) struct Job {
    pub entry: Arc<Queued>,
    pub envelope: Arc<QueuedEnvelope>,
    pub domain: String,
    pub recipients: Vec<Address>,
}

/// What happened to a job's recipients.
pub(crate) struct JobResult {
    pub entry: QueueId,
    pub outcomes: Vec<(Address, Outcome)>,
}

impl Job {
    fn settle(self, outcomes: Vec<Outcome>) -> JobResult {
        JobResult {
            entry: self.entry.id,
            outcomes: self.recipients.into_iter().zip(outcomes).collect(),
        }
    }

    fn fail_all(self, failure: &Failure) -> JobResult {
        let outcomes = self
            .recipients
            .iter()
            .map(|_| Outcome::from_failure(failure.clone()))
            .collect();
        self.settle(outcomes)
    }
}

pub(crate) struct Deliverer {
    pub ctx: Arc<SmtpContext>,
    pub settings: ClientSettings,
    pub stats: Arc<OutboundStats>,
}

impl Deliverer {
    /// Tries `hops` in order until one accepts a session, then delivers every job over it.
    pub(crate) async fn deliver(&self, hops: &[NextHop], jobs: Vec<Job>) -> Vec<JobResult> {
        let mut remaining: VecDeque<Job> = jobs.into();
        let mut results = Vec::with_capacity(remaining.len());
        let mut last_failure = Failure::temporary((4, 4, 4), "no next hop to try");
        for hop in hops {
            if remaining.is_empty() {
                break;
            }
            let mut client = match self.connect(hop).await {
                Ok(client) => client,
                Err(failure) => {
                    tracing::info!(peer = %hop, error = %failure, "smtp outbound: next hop unusable");
                    last_failure = failure;
                    continue;
                }
            };
            while let Some(job) = remaining.pop_front() {
                if let Some(refusal) = self.check_peer(&client, &job).await {
                    results.push(job.fail_all(&refusal));
                    continue;
                }
                let sent = client
                    .send(&OutboundMessage {
                        sender: job.entry.sender.as_ref(),
                        recipients: &job.recipients,
                        message: &job.entry.message,
                        envelope: &job.envelope,
                    })
                    .await;
                self.audit_delivery(&client, &job, &sent.outcomes).await;
                self.record_accepted(&job, &sent.outcomes).await;
                results.push(job.settle(sent.outcomes));
                if !sent.reusable {
                    last_failure = Failure::temporary(
                        (4, 4, 2),
                        "the connection was lost during an earlier message",
                    )
                    .at(&hop.to_string());
                    break;
                }
            }
            client.quit().await;
        }
        results.extend(remaining.into_iter().map(|job| job.fail_all(&last_failure)));
        results
    }

    /// Records at once, durably, the recipients the peer just accepted, before the next
    /// message goes: a crash later in the round then re-sends only the message in flight on
    /// this connection, not every message of the round. The settling after the round writes
    /// the other outcomes and the reports; a recipient whose record failed here stays pending
    /// (sent again, never lost) unless its whole entry is done.
    async fn record_accepted(&self, job: &Job, outcomes: &[Outcome]) {
        for (address, outcome) in job.recipients.iter().zip(outcomes) {
            if !matches!(outcome, Outcome::Delivered(_)) {
                continue;
            }
            let status = mssd_store::RecipientStatus::Delivered;
            let detail = Some(outcome.detail());
            if let Err(e) = self
                .ctx
                .store
                .set_recipient_status(job.entry.id, address, status, detail)
                .await
            {
                // It stays pending: at worst the message goes twice.
                tracing::error!(queue_id = job.entry.id.0, error = %e, "smtp outbound: recording a delivery failed");
            }
        }
    }

    async fn connect(&self, hop: &NextHop) -> Result<SmtpClient<TcpStream>, Failure> {
        let label = hop.to_string();
        let connect = TcpStream::connect((hop.host.as_str(), hop.port));
        let tcp = match tokio::time::timeout(self.settings.timeouts.connect, connect).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                return Err(Failure::temporary(
                    (4, 4, 1),
                    format!("cannot connect to {label}: {e}"),
                )
                .at(&label));
            }
            Err(_) => {
                return Err(Failure::temporary(
                    (4, 4, 1),
                    format!("no answer from {label} (connect timed out)"),
                )
                .at(&label));
            }
        };
        let started = SmtpClient::start(tcp, &hop.host, &label, &self.settings).await;
        if let Err(failure) = &started
            && failure.status.1 == 7
        {
            // STARTTLS missing or TLS refused: a trust failure, audited like a DN refusal.
            OutboundStats::add(&self.stats.refused_peers, 1);
            let detail = serde_json::json!({ "peer": label, "dn": null, "domain": null, "reason": failure.reason });
            self.ctx
                .audit(
                    "smtp.outbound.refused",
                    label.clone(),
                    hop.host.clone(),
                    "refused",
                    detail,
                )
                .await;
        }
        started
    }

    /// None when the peer may receive mail for the job's domain; else the refusal, audited.
    async fn check_peer(&self, client: &SmtpClient<TcpStream>, job: &Job) -> Option<Failure> {
        let dn = client.peer_dn();
        if self.ctx.trust.dn_allowed(&job.domain, dn) {
            return None;
        }
        OutboundStats::add(&self.stats.refused_peers, 1);
        let reason = format!(
            "the peer's certificate subject {dn} is not listed for {} in the MSSanté liste blanche",
            job.domain
        );
        tracing::warn!(peer = client.peer(), domain = %job.domain, dn = %dn, "smtp outbound: peer refused, DN not listed");
        let detail = serde_json::json!({
            "peer": client.peer(),
            "dn": dn.to_string(),
            "domain": job.domain,
            "reason": reason,
            "queue_id": job.entry.id.0,
            "id": job.envelope.id,
        });
        self.ctx
            .audit(
                "smtp.outbound.refused",
                client.peer().to_string(),
                job.domain.clone(),
                "refused",
                detail,
            )
            .await;
        Some(Failure::temporary((4, 7, 1), reason).at(client.peer()))
    }

    /// One audit line per message and peer: envelope, TLS, peer DN, result per recipient.
    async fn audit_delivery(
        &self,
        client: &SmtpClient<TcpStream>,
        job: &Job,
        outcomes: &[Outcome],
    ) {
        let message = &job.entry.message;
        let message_id = field_value(&message[..header_block_len(message)], "Message-ID");
        let tls = client.peer_tls();
        let recipients: Vec<serde_json::Value> = job
            .recipients
            .iter()
            .zip(outcomes)
            .map(|(r, o)| serde_json::json!({ "address": r.to_string(), "result": o.label(), "detail": o.detail() }))
            .collect();
        let delivered = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Delivered(_)))
            .count();
        let outcome = match delivered {
            0 => "not_delivered",
            n if n == outcomes.len() => "delivered",
            _ => "partial",
        };
        let detail = serde_json::json!({
            "queue_id": job.entry.id.0,
            "id": job.envelope.id,
            "message_id": message_id,
            "sender": job.entry.sender.as_ref().map_or_else(|| "<>".to_string(), |s| s.to_string()),
            "recipients": recipients,
            "size": message.len(),
            "tls": format!("{} {}", tls.version, tls.cipher),
            "peer_dn": tls.subject.to_string(),
        });
        let subject = job
            .envelope
            .id
            .clone()
            .unwrap_or_else(|| job.entry.id.0.to_string());
        self.ctx
            .audit(
                "smtp.outbound.delivery",
                client.peer().to_string(),
                subject,
                outcome,
                detail,
            )
            .await;
    }
}
