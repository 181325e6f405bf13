//! mssd-auth: authentication shared by SMTP submission and IMAP.
//!
//! - [`sasl`]: sans-I/O SASL (PLAIN, LOGIN, EXTERNAL, XOAUTH2, OAUTHBEARER) and the
//!   exchange state machine the protocol layers drive.
//! - [`token`]: Pro Santé Connect access tokens (JWKS file or fetched keys, RS256/ES256,
//!   claim checks).
//! - [`throttle`]: failure counters per IP and per (IP, account).
//! - [`refusal_audit`]: rate limit of audit lines for refusals before authentication.
//! - [`Authenticator`]: the decision on each attempt, against the [`mssd_store::Store`],
//!   throttled and written to the audit trail.

mod audit;
mod authenticator;
mod certificate_login;
mod config;
mod error;
mod outcome;
mod password_cache;
mod password_login;
mod password_verifier;
pub mod refusal_audit;
pub mod sasl;
pub mod throttle;
pub mod token;
mod token_login;

pub use authenticator::Authenticator;
pub use config::{AuthConfig, CitizenOidcSettings, DEFAULT_BEARER_SCOPE, OidcSettings};
pub use error::{Error, Result};
pub use outcome::{AuthContext, AuthFailure, Authenticated, FailureReason};
pub use password_cache::PASSWORD_CACHE_TTL;
pub use password_verifier::{Argon2Verifier, PasswordVerifier};
pub use refusal_audit::RefusalAudit;
pub use sasl::{Credentials, Mechanism, SaslExchange, Step};
pub use throttle::{Throttle, ThrottleConfig};
pub use token::{Jwks, JwksFetcher, KeySource, TokenValidator};
