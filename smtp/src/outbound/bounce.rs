//! Sending a DSN to the original sender: into the sender's INBOX when the sender is one of
//! our mailboxes (always the case for submission), else onto the queue with the null
//! reverse-path, so that no DSN is ever sent about it (RFC 3461 §6.2).

use mssd_core::Address;
use mssd_store::{Delivery, NewQueued, QueuedRecipient, RecipientStatus};

use crate::context::SmtpContext;

/// Where the report went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportRoute {
    /// Into the sender's INBOX.
    Local,
    /// Onto the outbound queue.
    Queued,
    /// The sender's domain is ours but the mailbox no longer exists: dropped, audited.
    NoMailbox,
}

pub(crate) async fn send_report(
    ctx: &SmtpContext,
    id: &str,
    to: &Address,
    report: Vec<u8>,
    now: i64,
) -> mssd_store::Result<ReportRoute> {
    if ctx.config.is_local_domain(to.domain()) {
        let Some(mailbox) = ctx.store.mailbox(to).await? else {
            tracing::warn!(to = %to.redacted(), "smtp outbound: DSN for a mailbox that no longer exists, dropped");
            let detail =
                serde_json::json!({ "id": id, "to": to.to_string(), "reason": "no such mailbox" });
            ctx.audit(
                "smtp.outbound.dsn",
                "mssd".into(),
                id.to_string(),
                "dropped",
                detail,
            )
            .await;
            return Ok(ReportRoute::NoMailbox);
        };
        ctx.store
            .deliver(Delivery {
                recipients: vec![mailbox.id],
                message: report.into(),
                internal_date: now,
                documents: Vec::new(),
            })
            .await?;
        return Ok(ReportRoute::Local);
    }
    ctx.store
        .enqueue(NewQueued {
            sender: None,
            recipients: vec![QueuedRecipient {
                address: to.clone(),
                status: RecipientStatus::Pending,
                detail: None,
            }],
            message: report.into(),
            next_attempt: now,
            envelope: serde_json::json!({ "id": id, "dsn": true }),
        })
        .await?;
    ctx.queue_notify.notify_one();
    Ok(ReportRoute::Queued)
}

/// The domain of `MAILER-DAEMON@…`: the sender's when it is ours, else our first domain.
pub(crate) fn report_domain<'a>(ctx: &'a SmtpContext, sender: &'a Address) -> &'a str {
    if ctx.config.is_local_domain(sender.domain()) {
        return sender.domain();
    }
    ctx.config
        .domains
        .first()
        .map_or(ctx.config.hostname.as_str(), String::as_str)
}
