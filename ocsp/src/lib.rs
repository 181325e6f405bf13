//! mssd-ocsp: OCSP (RFC 6960) for the certificates peers present, where `[tls] ocsp` names
//! a responder.
//!
//! The chain validator never waits for the network (it runs inside TLS handshakes): it
//! reads the answers this checker recorded in its [`mssd_certs::OcspBook`] and lists the
//! certificates it has no fresh answer for; the checker asks the responder about them at
//! once, and again before each answer's cache time runs out. A "revoked" answer refuses
//! the certificate from then on; "good" and "unknown" leave the decision to the CRLs; a
//! responder that cannot be reached leaves the last answer in force until it expires.

mod checker;
mod error;
mod wire;

pub use checker::{OcspChecker, OcspFigures};
pub use error::{Error, Result};
pub use wire::{read_response, request_for};
