//! The audit record and the log line of every authentication attempt.

use std::time::{SystemTime, UNIX_EPOCH};

use mssd_core::redact::redact_ins_runs;
use mssd_store::{AuditEvent, Store};
use serde_json::{Value, json};

use crate::outcome::{AuthContext, AuthFailure, Authenticated, FailureReason};
use crate::refusal_audit::RefusalAudit;
use crate::sasl::Mechanism;

pub(crate) const KIND_SUCCESS: &str = "auth.success";
pub(crate) const KIND_FAILURE: &str = "auth.failure";
pub(crate) const KIND_THROTTLED: &str = "auth.throttled";

/// The facts of one attempt that do not depend on its outcome.
pub(crate) struct AttemptRecord<'a> {
    pub(crate) mechanism: Mechanism,
    pub(crate) ctx: &'a AuthContext,
    /// The account the client named, if any.
    pub(crate) account: Option<&'a str>,
}

/// Writes the audit event and the log line. A success that cannot be audited is refused
/// (fail closed: no untraced access); a failure that cannot be audited is still a failure.
/// Failures go through `refusals`: past a few a minute from one source, they are counted
/// rather than written (and logged at debug level only).
pub(crate) async fn record_attempt(
    store: &dyn Store,
    refusals: &RefusalAudit,
    record: &AttemptRecord<'_>,
    outcome: Result<Authenticated, AuthFailure>,
) -> Result<Authenticated, AuthFailure> {
    let mut event = audit_event(record, &outcome);
    if outcome.is_err() {
        let detail = std::mem::take(&mut event.detail);
        match refusals.gate(record.ctx.peer.ip(), &event.kind, detail) {
            Some(detail) => event.detail = detail,
            None => {
                tracing::debug!(peer = %record.ctx.peer, kind = %event.kind, "audit line rate-limited");
                return outcome;
            }
        }
    }
    log_attempt(record, &outcome);
    match (store.audit(event).await, outcome) {
        (Ok(()), outcome) => outcome,
        (Err(e), Ok(authenticated)) => {
            tracing::error!(
                protocol = record.ctx.protocol,
                peer = %record.ctx.peer,
                mailbox = %authenticated.mailbox.address.redacted(),
                error = %e,
                "authentication refused: the audit trail cannot be written"
            );
            Err(AuthFailure::new(
                FailureReason::TemporaryFailure,
                format!("audit trail write failed: {e}"),
            ))
        }
        (Err(e), Err(failure)) => {
            tracing::error!(error = %e, "cannot write the audit record of a failed authentication");
            Err(failure)
        }
    }
}

fn audit_event(
    record: &AttemptRecord<'_>,
    outcome: &Result<Authenticated, AuthFailure>,
) -> AuditEvent {
    let certificate_dn: Value = record
        .ctx
        .client_certificate
        .as_ref()
        .map_or(Value::Null, |c| Value::String(c.subject.canonical()));
    let mut detail = json!({
        "mechanism": record.mechanism.as_str(),
        "protocol": record.ctx.protocol,
        "certificate_dn": certificate_dn,
    });
    let (kind, subject, outcome_name) = match outcome {
        Ok(authenticated) => {
            detail["identity"] = Value::String(authenticated.identity.audit_label());
            (
                KIND_SUCCESS,
                authenticated.mailbox.address.to_string(),
                "success",
            )
        }
        Err(failure) => {
            detail["reason"] = Value::String(failure.reason.as_str().to_owned());
            detail["detail"] = Value::String(failure.detail.clone());
            let kind = match failure.reason {
                FailureReason::Throttled { retry_after } => {
                    detail["retry_after_secs"] = json!(retry_after.as_secs().max(1));
                    KIND_THROTTLED
                }
                _ => KIND_FAILURE,
            };
            (
                kind,
                record.account.unwrap_or_default().to_owned(),
                "failure",
            )
        }
    };
    AuditEvent {
        at: unix_millis(),
        kind: kind.to_owned(),
        actor: record.ctx.peer.ip().to_string(),
        subject,
        outcome: outcome_name.to_owned(),
        detail,
    }
}

/// Logs carry no password, no token, and INS-like runs redacted.
fn log_attempt(record: &AttemptRecord<'_>, outcome: &Result<Authenticated, AuthFailure>) {
    let ctx = record.ctx;
    match outcome {
        Ok(authenticated) => tracing::info!(
            protocol = ctx.protocol,
            peer = %ctx.peer,
            mechanism = record.mechanism.as_str(),
            mailbox = %authenticated.mailbox.address.redacted(),
            "authenticated"
        ),
        Err(failure) => tracing::warn!(
            protocol = ctx.protocol,
            peer = %ctx.peer,
            mechanism = record.mechanism.as_str(),
            account = %redact_ins_runs(record.account.unwrap_or_default()),
            reason = failure.reason.as_str(),
            detail = %redact_ins_runs(&failure.detail),
            "authentication failed"
        ),
    }
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
