//! What the SMTP sessions need to know about the operator, with RFC 5321 defaults.

use std::sync::Arc;
use std::time::Duration;

use mssd_core::Address;

/// What the national directory knows, as SMTP needs it: implemented by the server over the
/// Annuaire Santé index, so that this crate does not depend on the directory code.
pub trait KnownRecipients: Send + Sync + std::fmt::Debug {
    /// `None` when the directory is empty (never imported): no verdict can be given.
    fn knows(&self, address: &Address) -> Option<bool>;
}

/// What submission does with a recipient at a listed domain unknown to the national directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownRecipientPolicy {
    #[default]
    Off,
    /// Accept, telling the sender in the RCPT reply, and audit it.
    Warn,
    /// Refuse with `550 5.1.1`.
    Refuse,
}

/// The citizens' domain of the trust space (Mon espace santé).
pub const NATIONAL_CITIZEN_DOMAIN: &str = "patient.mssante.fr";

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Our host name: greeting, EHLO, Received, Message-ID.
    pub hostname: String,
    /// Our mail domains (normalised A-labels).
    pub domains: Vec<String>,
    /// The citizen domain, when we host citizen mailboxes.
    pub citizen_domain: Option<String>,
    /// SIZE advertised and enforced while streaming.
    pub max_message_size: usize,
    /// RFC 5321 §4.5.3.1.8 asks for at least 100.
    pub max_recipients: usize,
    /// Commands in one session without an accepted message before we close it.
    pub max_commands: usize,
    /// Failed commands in one session before we close it.
    pub max_errors: usize,
    /// RFC 5321 §4.5.3.2: 5 minutes for commands, 3 for a data block, 10 after the final dot.
    pub command_timeout: Duration,
    pub data_timeout: Duration,
    /// From connection to authentication (AUTH on submission, a validated peer certificate
    /// on the MTA port), whatever the client sends meanwhile.
    pub login_timeout: Duration,
    /// The national directory, for the unknown-recipient policy.
    pub directory: Option<Arc<dyn KnownRecipients>>,
    pub unknown_recipient: UnknownRecipientPolicy,
    /// Health documents: INS OIDs, header and malformed policies, archive limits, routes.
    pub cda: Arc<mssd_cda::CdaPolicy>,
    /// Citizen mailboxes: provisioning and first contacts.
    pub citizen: Arc<mssd_citizen::CitizenPolicy>,
}

impl SmtpConfig {
    pub fn new(
        hostname: String,
        domains: Vec<String>,
        citizen_domain: Option<String>,
    ) -> SmtpConfig {
        SmtpConfig {
            hostname,
            domains,
            citizen_domain,
            max_message_size: 50 * 1024 * 1024,
            max_recipients: 1000,
            max_commands: 10_000,
            max_errors: 20,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(180),
            login_timeout: Duration::from_secs(120),
            directory: None,
            unknown_recipient: UnknownRecipientPolicy::Off,
            cda: Arc::default(),
            citizen: Arc::default(),
        }
    }

    /// Whether `domain` holds citizens' mailboxes: ours, or the national one.
    pub fn is_citizen_domain(&self, domain: &str) -> bool {
        self.citizen_domain.as_deref() == Some(domain) || domain == NATIONAL_CITIZEN_DOMAIN
    }

    /// Whether mail for `domain` is ours to deliver locally.
    pub fn is_local_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d == domain) || self.citizen_domain.as_deref() == Some(domain)
    }
}
