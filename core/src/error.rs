//! The one error type of mssd-core.
//!
//! Messages say precisely what is wrong. They never carry a full INS: any value that
//! may contain one goes through [`crate::redact`] before it is stored here.

/// Everything that can go wrong while parsing or checking a domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid mail address {input:?}: {reason}")]
    InvalidAddress { input: String, reason: String },

    #[error("invalid domain {input:?}: {reason}")]
    InvalidDomain { input: String, reason: String },

    #[error("invalid mailbox kind {input:?}: expected one of PER, ORG, APP, CAB, CITIZEN")]
    InvalidMailboxKind { input: String },

    #[error("invalid RPPS {input:?}: {reason}")]
    InvalidRpps { input: String, reason: String },

    #[error("invalid ADELI {input:?}: {reason}")]
    InvalidAdeli { input: String, reason: String },

    #[error("invalid FINESS {input:?}: {reason}")]
    InvalidFiness { input: String, reason: String },

    #[error("invalid SIREN {input:?}: {reason}")]
    InvalidSiren { input: String, reason: String },

    #[error("invalid SIRET {input:?}: {reason}")]
    InvalidSiret { input: String, reason: String },

    #[error("invalid idNat_PS {input:?}: {reason}")]
    InvalidIdNatPs { input: String, reason: String },

    #[error("invalid idNat_Struct {input:?}: {reason}")]
    InvalidIdNatStruct { input: String, reason: String },

    /// `redacted_input` keeps at most the first 5 characters of what was given.
    #[error("invalid INS {redacted_input:?}: {reason}")]
    InvalidIns {
        redacted_input: String,
        reason: String,
    },

    #[error("password hashing failed: {reason}")]
    PasswordHash { reason: String },
}

/// The result type of mssd-core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The reason alone, to nest one parse error inside another without repeating the
    /// input (an idNat_PS error that comes from its RPPS part, for example).
    pub(crate) fn into_reason(self) -> String {
        match self {
            Error::InvalidAddress { reason, .. }
            | Error::InvalidDomain { reason, .. }
            | Error::InvalidRpps { reason, .. }
            | Error::InvalidAdeli { reason, .. }
            | Error::InvalidFiness { reason, .. }
            | Error::InvalidSiren { reason, .. }
            | Error::InvalidSiret { reason, .. }
            | Error::InvalidIdNatPs { reason, .. }
            | Error::InvalidIdNatStruct { reason, .. }
            | Error::InvalidIns { reason, .. }
            | Error::PasswordHash { reason } => reason,
            other @ Error::InvalidMailboxKind { .. } => other.to_string(),
        }
    }
}
