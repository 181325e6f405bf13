//! What an authentication attempt is given and what it yields.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use mssd_certs::CertInfo;
use mssd_core::Identity;
use mssd_store::Mailbox;

use crate::sasl::Mechanism;

/// The session facts an attempt depends on.
#[derive(Clone, Debug)]
pub struct AuthContext {
    /// "submission" or "imap", for the audit trail.
    pub protocol: &'static str,
    pub peer: SocketAddr,
    /// TLS is active on the connection (implicit TLS or after STARTTLS).
    pub tls: bool,
    /// The validated TLS client certificate, if the client presented one.
    pub client_certificate: Option<CertInfo>,
}

/// A successful authentication.
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub mailbox: Mailbox,
    pub identity: Identity,
    pub mechanism: Mechanism,
}

/// What the client may be told. Unknown accounts and wrong passwords are the same
/// category, so nothing reveals whether an account exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// Wrong or unknown credentials (SMTP 535 5.7.8, IMAP NO [AUTHENTICATIONFAILED]).
    InvalidCredentials,
    /// Too many failures from this IP or for this account (SMTP 454 4.7.0, IMAP NO
    /// [UNAVAILABLE]).
    Throttled { retry_after: Duration },
    /// Right credentials, but the mailbox is suspended (SMTP 535 5.7.8, IMAP NO
    /// [AUTHORIZATIONFAILED] / [CONTACTADMIN]).
    MailboxSuspended,
    /// The mechanism is not offered here, or not for this kind of mailbox (SMTP 504 /
    /// 535, IMAP NO [CANNOT]).
    MechanismNotAllowed,
    /// The bearer token was refused (send `AuthFailure::bearer_challenge` first).
    TokenRejected,
    /// No TLS on the connection (SMTP 538 5.7.11, IMAP NO [PRIVACYREQUIRED]).
    TlsRequired,
    /// The store or the password verifier failed (SMTP 454 4.7.0, IMAP NO [UNAVAILABLE]).
    TemporaryFailure,
}

impl FailureReason {
    /// Stable name for the audit trail and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            FailureReason::InvalidCredentials => "invalid_credentials",
            FailureReason::Throttled { .. } => "throttled",
            FailureReason::MailboxSuspended => "mailbox_suspended",
            FailureReason::MechanismNotAllowed => "mechanism_not_allowed",
            FailureReason::TokenRejected => "token_rejected",
            FailureReason::TlsRequired => "tls_required",
            FailureReason::TemporaryFailure => "temporary_failure",
        }
    }

    /// Text safe to send to the client.
    pub fn client_message(&self) -> &'static str {
        match self {
            FailureReason::InvalidCredentials | FailureReason::TokenRejected => {
                "authentication failed"
            }
            FailureReason::Throttled { .. } => "too many failed attempts, try again later",
            FailureReason::MailboxSuspended => "mailbox suspended, contact your administrator",
            FailureReason::MechanismNotAllowed => "authentication mechanism not allowed",
            FailureReason::TlsRequired => "TLS is required to authenticate",
            FailureReason::TemporaryFailure => "temporary authentication failure, try again",
        }
    }

    /// Attempts that count towards the throttle: the client's fault, not ours.
    pub(crate) fn counts_as_failure(&self) -> bool {
        !matches!(
            self,
            FailureReason::Throttled { .. }
                | FailureReason::TemporaryFailure
                | FailureReason::TlsRequired
        )
    }
}

/// A failed attempt: the client category, the detailed reason for logs and the audit
/// trail, and for XOAUTH2 / OAUTHBEARER the JSON error to send as the final challenge.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthFailure {
    pub reason: FailureReason,
    /// For operators only; never sent to the client. Holds no password, token or INS.
    pub detail: String,
    pub(crate) bearer_challenge: Option<String>,
}

impl AuthFailure {
    pub(crate) fn new(reason: FailureReason, detail: impl Into<String>) -> AuthFailure {
        AuthFailure {
            reason,
            detail: detail.into(),
            bearer_challenge: None,
        }
    }

    /// For XOAUTH2 / OAUTHBEARER: the JSON error (RFC 7628 3.2.2) to send as a challenge
    /// (see `SaslExchange::reject_bearer`) before the failure reply. `None` for the other
    /// mechanisms.
    pub fn bearer_challenge(&self) -> Option<&str> {
        self.bearer_challenge.as_deref()
    }
}

impl fmt::Debug for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthFailure")
            .field("reason", &self.reason)
            .field("detail", &mssd_core::redact::redact_ins_runs(&self.detail))
            .field("bearer_challenge", &self.bearer_challenge)
            .finish()
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.reason.as_str(),
            mssd_core::redact::redact_ins_runs(&self.detail)
        )
    }
}
