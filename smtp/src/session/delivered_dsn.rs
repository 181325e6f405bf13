//! The "delivered" DSN (RFC 3461 §5.2.3, the MSSanté accusé de réception) for recipients we
//! deliver to ourselves with NOTIFY=SUCCESS, from another operator or from local submission:
//! the final MTA reports delivery. Built before the message is committed (it may quote the
//! whole message), written durably before the 250.

use mssd_core::Address;

use super::Session;
use super::state::Transaction;
use crate::dsn::{self, Action, RecipientReport};
use crate::outbound::bounce::{report_domain, send_report};

/// A report ready to send once the message is committed.
pub(super) struct PendingReport {
    id: String,
    to: Address,
    bytes: Vec<u8>,
}

impl Session<'_> {
    /// The report for the local recipients of `tx` that asked NOTIFY=SUCCESS, if any (never
    /// for the null reverse-path: no DSN about a DSN).
    pub(super) fn delivered_report(&self, tx: &Transaction, now: i64) -> Option<PendingReport> {
        let recipients: Vec<RecipientReport> = tx
            .recipients
            .iter()
            .filter(|r| r.mailbox.is_some() && r.notify & smtp_proto::RCPT_NOTIFY_SUCCESS != 0)
            .map(|r| RecipientReport {
                final_recipient: r.address.clone(),
                original_recipient: r.orcpt.clone(),
                action: Action::Delivered,
                status: (2, 0, 0),
                remote_mta: None,
                smtp_reply: None,
                reason: None,
                last_attempt: Some(now),
            })
            .collect();
        self.pending_report(tx, recipients, now)
    }

    /// A failure report for recipients refused after DATA (a `MASQUE_PS` document to a
    /// professional) when the message went on to others. Never for the null reverse-path.
    pub(super) fn refused_report(
        &self,
        tx: &Transaction,
        refused: &[(super::state::Recipient, crate::reply::Reply)],
        now: i64,
    ) -> Option<PendingReport> {
        let recipients = refused
            .iter()
            .filter(|(r, _)| r.notify & smtp_proto::RCPT_NOTIFY_NEVER == 0)
            .map(|(r, reply)| RecipientReport {
                final_recipient: r.address.clone(),
                original_recipient: r.orcpt.clone(),
                action: Action::Failed,
                status: reply.status.unwrap_or((5, 0, 0)),
                remote_mta: None,
                smtp_reply: Some(reply.summary()),
                reason: None,
                last_attempt: Some(now),
            })
            .collect();
        self.pending_report(tx, recipients, now)
    }

    fn pending_report(
        &self,
        tx: &Transaction,
        recipients: Vec<RecipientReport>,
        now: i64,
    ) -> Option<PendingReport> {
        let sender = tx.sender.as_ref()?;
        if recipients.is_empty() {
            return None;
        }
        let id = self.ctx.counters.next_id();
        let bytes = dsn::build(&dsn::Report {
            reporting_mta: &self.ctx.config.hostname,
            from_domain: report_domain(self.ctx, sender),
            to: sender,
            envelope_id: tx.env_id.as_deref(),
            arrival_date: now,
            date: now,
            id: &id,
            recipients,
            original: &tx.body,
            // A body in a file is not read back for a report: its header block is returned
            // even with RET=FULL (RFC 3461 §4.3 lets an MTA return less).
            return_full: tx.mail_flags & smtp_proto::MAIL_RET_FULL != 0 && !tx.body_in_file,
        });
        Some(PendingReport {
            id,
            to: sender.clone(),
            bytes,
        })
    }

    /// Writes the report (into the sender's INBOX, or onto the queue) once the message is
    /// committed. A failure is logged and audited: the message itself is accepted.
    pub(super) async fn send_delivered_report(&self, report: PendingReport, now: i64) {
        match send_report(self.ctx, &report.id, &report.to, report.bytes, now).await {
            Ok(route) => {
                tracing::info!(dsn = %report.id, ?route, "smtp: delivered DSN sent");
            }
            Err(e) => {
                tracing::error!(dsn = %report.id, error = %e, "smtp: the delivered DSN could not be stored");
                let detail = serde_json::json!({ "id": report.id, "error": e.to_string() });
                self.ctx
                    .audit(
                        "smtp.dsn",
                        "mssd".into(),
                        report.id.clone(),
                        "failed",
                        detail,
                    )
                    .await;
            }
        }
    }
}
