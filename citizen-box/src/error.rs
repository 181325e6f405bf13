//! The crate's one error type.

/// Why a citizen address or setting is refused. Never holds an INS in clear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CitizenError {
    /// The local part of a citizen address is not a valid matricule INS; `check` names the
    /// failed check (length, characters, key), without the value.
    #[error("{address} is not a citizen address: the local part must be a matricule INS ({check})")]
    NotAnIns { address: String, check: String },
    #[error("{address} is not at the citizen domain {domain}")]
    OtherDomain { address: String, domain: String },
}
