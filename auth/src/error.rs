//! The one error type of mssd-auth.
//!
//! SASL parsing, JWKS loading and token validation errors are all variants of [`Error`].
//! Messages say precisely what is wrong, but never carry a password, a token or an INS:
//! values echoed here are bounded and redacted first.

/// Everything that can go wrong while parsing SASL messages, loading keys or checking tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    // --- SASL ---
    #[error("malformed {mechanism} response: {reason}")]
    SaslMalformed {
        mechanism: &'static str,
        reason: String,
    },

    #[error("unknown SASL mechanism {name:?}")]
    UnknownMechanism { name: String },

    #[error("the SASL exchange is already finished; no further response is expected")]
    SaslFinished,

    #[error("the bearer token was rejected and the client acknowledged the error")]
    SaslTokenRejected,

    // --- JWKS ---
    #[error("invalid JWKS: {reason}")]
    JwksInvalid { reason: String },

    #[error("cannot read JWKS file {path}: {reason}")]
    JwksIo { path: String, reason: String },

    // --- tokens ---
    #[error("malformed token: {reason}")]
    TokenMalformed { reason: String },

    #[error("token algorithm {alg:?} is not accepted (only RS256 and ES256)")]
    TokenUnsupportedAlg { alg: String },

    #[error("token key id {kid:?} is not in the JWKS")]
    TokenUnknownKid { kid: String },

    #[error("no signing key of the issuer is loaded (its JWKS could not be fetched yet)")]
    TokenNoKeys,

    #[error("token signature does not verify with the JWKS key")]
    TokenBadSignature,

    #[error("token expired at {exp} (now {now}, leeway {leeway_secs} s)")]
    TokenExpired {
        exp: i64,
        now: i64,
        leeway_secs: i64,
    },

    #[error("token claim {claim} is {value}, in the future (now {now}, leeway {leeway_secs} s)")]
    TokenNotYetValid {
        claim: &'static str,
        value: i64,
        now: i64,
        leeway_secs: i64,
    },

    #[error("token issuer {found:?} is not the configured issuer {expected:?}")]
    TokenWrongIssuer { expected: String, found: String },

    #[error("token audience {found:?} does not contain the configured audience {expected:?}")]
    TokenWrongAudience {
        expected: String,
        found: Vec<String>,
    },

    #[error("token was issued to {found:?} (azp), not to the configured audience {expected:?}")]
    TokenWrongAuthorizedParty { expected: String, found: String },

    #[error("token carries no identity claim (SubjectNameID or preferred_username)")]
    TokenNoIdentity,

    #[error("token identity claim {claim} is not an idNat_PS: {reason}")]
    TokenBadIdentity { claim: &'static str, reason: String },

    // --- password verification ---
    #[error("password verification failed to run: {reason}")]
    PasswordVerifier { reason: String },
}

/// The result type of mssd-auth.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// True for the errors that mean "this bearer token is not acceptable".
    pub fn is_token_rejection(&self) -> bool {
        matches!(
            self,
            Error::TokenMalformed { .. }
                | Error::TokenUnsupportedAlg { .. }
                | Error::TokenUnknownKid { .. }
                | Error::TokenNoKeys
                | Error::TokenBadSignature
                | Error::TokenExpired { .. }
                | Error::TokenNotYetValid { .. }
                | Error::TokenWrongIssuer { .. }
                | Error::TokenWrongAudience { .. }
                | Error::TokenWrongAuthorizedParty { .. }
                | Error::TokenNoIdentity
                | Error::TokenBadIdentity { .. }
        )
    }

    pub(crate) fn sasl(mechanism: &'static str, reason: impl Into<String>) -> Self {
        Error::SaslMalformed {
            mechanism,
            reason: reason.into(),
        }
    }

    pub(crate) fn malformed_token(reason: impl Into<String>) -> Self {
        Error::TokenMalformed {
            reason: reason.into(),
        }
    }

    pub(crate) fn jwks(reason: impl Into<String>) -> Self {
        Error::JwksInvalid {
            reason: reason.into(),
        }
    }
}
