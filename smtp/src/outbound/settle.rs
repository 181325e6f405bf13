//! After an attempt: expire what is too old, report to the sender (DSN) what it asked to
//! know, record each recipient's status, then remove the entry once every recipient is
//! final or schedule its next attempt.
//!
//! Order matters for "never lose": the DSN is stored before the statuses that make it due,
//! and the entry leaves the queue last. A crash in between repeats a step (a duplicate
//! delivery or DSN), never skips one.

use std::sync::Arc;

use mssd_core::Address;
use mssd_store::{Queued, RecipientStatus};

use super::bounce::{report_domain, send_report};
use super::envelope::QueuedEnvelope;
use super::outcome::{Failure, Handoff, Outcome, status_text};
use super::runner::{QueueRunner, RunReport};
use super::stats::OutboundStats;
use crate::dsn::{self, Action, RecipientReport};
use crate::error::Result;

impl QueueRunner {
    pub(super) async fn settle(
        &self,
        entry: &Arc<Queued>,
        envelope: &QueuedEnvelope,
        mut results: Vec<(Address, Outcome)>,
        now: i64,
        report: &mut RunReport,
    ) -> Result<()> {
        // A pending recipient left without an outcome (a task that died) is retried.
        for r in entry
            .recipients
            .iter()
            .filter(|r| r.status == RecipientStatus::Pending)
        {
            if !results.iter().any(|(a, _)| a == &r.address) {
                let failure = Failure::temporary((4, 3, 0), "delivery was not attempted");
                results.push((r.address.clone(), Outcome::Deferred(failure)));
            }
        }
        let expiry = i64::try_from(self.config.expiry.as_secs()).unwrap_or(i64::MAX);
        let expires_at = entry.created_at.saturating_add(expiry);
        if now >= expires_at {
            for (_, outcome) in results.iter_mut() {
                if let Outcome::Deferred(last) = outcome {
                    *outcome = Outcome::Failed(expired(last, self.config.expiry));
                }
            }
        }

        self.report_to_sender(entry, envelope, &results, now, report)
            .await?;

        let mut pending_error = None;
        for (address, outcome) in &results {
            let status = match outcome {
                // Recorded by the deliverer as the peer accepted it (delivery.rs).
                Outcome::Delivered(_) => None,
                Outcome::Failed(_) => Some(RecipientStatus::Failed),
                Outcome::Deferred(_) => {
                    pending_error.get_or_insert_with(|| outcome.detail());
                    Some(RecipientStatus::Pending)
                }
            };
            if let Some(status) = status {
                self.ctx
                    .store
                    .set_recipient_status(entry.id, address, status, Some(outcome.detail()))
                    .await?;
            }
            tracing::info!(
                queue_id = entry.id.0,
                recipient = %address.redacted(),
                result = outcome.label(),
                "smtp outbound recipient"
            );
        }
        let count = |label: &str| results.iter().filter(|(_, o)| o.label() == label).count();
        let (delivered, deferred, failed) =
            (count("delivered"), count("deferred"), count("failed"));
        OutboundStats::add(&self.stats.delivered, delivered);
        OutboundStats::add(&self.stats.deferred, deferred);
        OutboundStats::add(&self.stats.failed, failed);
        report.delivered += delivered;
        report.deferred += deferred;
        report.failed += failed;

        match pending_error {
            None => {
                self.ctx.store.dequeue(entry.id).await?;
                report.completed += 1;
            }
            Some(error) => {
                let next =
                    self.schedule
                        .next_attempt(entry.attempts.saturating_add(1), now, expires_at);
                self.ctx
                    .store
                    .record_attempt(entry.id, Some(next), Some(error))
                    .await?;
            }
        }
        Ok(())
    }

    /// One DSN for the recipients of this attempt whose sender asked to know; none for a
    /// message with the null sender (a DSN itself).
    async fn report_to_sender(
        &self,
        entry: &Queued,
        envelope: &QueuedEnvelope,
        results: &[(Address, Outcome)],
        now: i64,
        report: &mut RunReport,
    ) -> Result<()> {
        let Some(sender) = &entry.sender else {
            return Ok(());
        };
        let recipients: Vec<RecipientReport> = results
            .iter()
            .filter_map(|(address, outcome)| self.recipient_report(envelope, address, outcome, now))
            .collect();
        if recipients.is_empty() {
            return Ok(());
        }
        let id = self.ctx.counters.next_id();
        let bytes = dsn::build(&dsn::Report {
            reporting_mta: &self.ctx.config.hostname,
            from_domain: report_domain(&self.ctx, sender),
            to: sender,
            envelope_id: envelope.env_id.as_deref(),
            arrival_date: entry.created_at,
            date: now,
            id: &id,
            recipients,
            original: &entry.message,
            return_full: envelope.ret_full,
        });
        let route = send_report(&self.ctx, &id, sender, bytes, now).await?;
        tracing::info!(queue_id = entry.id.0, dsn = %id, ?route, "smtp outbound: delivery status notification sent");
        OutboundStats::add(&self.stats.reports, 1);
        report.reports += 1;
        Ok(())
    }

    fn recipient_report(
        &self,
        envelope: &QueuedEnvelope,
        address: &Address,
        outcome: &Outcome,
        now: i64,
    ) -> Option<RecipientReport> {
        let base = |action, status, remote_mta: Option<String>| RecipientReport {
            final_recipient: address.clone(),
            original_recipient: envelope.original_recipient(address).map(str::to_string),
            action,
            status,
            remote_mta,
            smtp_reply: None,
            reason: None,
            last_attempt: Some(now),
        };
        match outcome {
            Outcome::Delivered(Handoff {
                remote_mta,
                reply,
                peer_has_dsn,
            }) => {
                // RFC 3461 §5.2.2: a peer with DSN got NOTIFY and reports delivery itself;
                // only a peer without DSN leaves us to say "relayed".
                if !envelope.wants_success_dsn(address) || *peer_has_dsn {
                    return None;
                }
                let action = Action::Relayed;
                let status = success_status(reply);
                Some(RecipientReport {
                    smtp_reply: Some(reply.clone()),
                    ..base(action, status, Some(remote_mta.clone()))
                })
            }
            Outcome::Failed(failure) if envelope.wants_failure_dsn(address) => {
                Some(RecipientReport {
                    smtp_reply: failure.reply.clone(),
                    reason: Some(failure.reason.clone()),
                    ..base(Action::Failed, failure.status, failure.remote_mta.clone())
                })
            }
            Outcome::Failed(_) | Outcome::Deferred(_) => None,
        }
    }
}

/// The enhanced status of the peer's `250 2.x.y` reply, else 2.0.0.
fn success_status(reply: &str) -> (u8, u16, u16) {
    let mut words = reply.split_ascii_whitespace().skip(1);
    let parsed = words.next().and_then(|code| {
        let mut parts = code.split('.').map(|p| p.parse::<u16>().ok());
        match (parts.next()??, parts.next()??, parts.next()??, parts.next()) {
            (2, subject, detail, None) => Some((2u8, subject, detail)),
            _ => None,
        }
    });
    parsed.unwrap_or((2, 0, 0))
}

/// The final failure of a recipient still deferred at expiry: RFC 3463 4.4.7, "delivery
/// time expired", with the last error kept.
fn expired(last: &Failure, expiry: std::time::Duration) -> Failure {
    Failure {
        permanent: true,
        status: (4, 4, 7),
        reply: last.reply.clone(),
        reason: format!(
            "delivery time expired: not delivered within {}; last error: {} {}",
            human_duration(expiry),
            status_text(last.status),
            last.reason
        ),
        remote_mta: last.remote_mta.clone(),
    }
}

fn human_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{} day(s)", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{} hour(s)", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} minute(s)", s / 60),
        s => format!("{s} second(s)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_statuses() {
        let cases: &[(&str, (u8, u16, u16))] = &[
            ("250 2.0.0 OK, stored as x", (2, 0, 0)),
            ("250 2.6.0 queued", (2, 6, 0)),
            ("250 OK", (2, 0, 0)),
            ("250 5.1.1 odd", (2, 0, 0)),
            ("250 2.1", (2, 0, 0)),
            ("", (2, 0, 0)),
        ];
        for (reply, status) in cases {
            assert_eq!(success_status(reply), *status, "{reply:?}");
        }
    }

    #[test]
    fn expiry_failures() {
        let last = Failure::temporary((4, 4, 1), "cannot connect to mx:25: refused").at("mx:25");
        let cases: &[(u64, &str)] = &[
            (5 * 86_400, "5 day(s)"),
            (7200, "2 hour(s)"),
            (120, "2 minute(s)"),
            (90, "90 second(s)"),
        ];
        for &(secs, text) in cases {
            let failure = expired(&last, std::time::Duration::from_secs(secs));
            assert!(failure.permanent);
            assert_eq!(failure.status, (4, 4, 7));
            assert_eq!(failure.remote_mta.as_deref(), Some("mx:25"));
            assert_eq!(
                failure.reason,
                format!(
                    "delivery time expired: not delivered within {text}; last error: 4.4.1 cannot connect to mx:25: refused"
                )
            );
        }
    }
}
