//! Errors of outbound delivery that are not a delivery outcome: configuration, the store,
//! an unknown queue entry. A peer refusing or being down is an [`super::Failure`], recorded
//! on the queue entry, never an `Error`.
//!
//! The smtp crate has no `error.rs` yet: this is its only error type until it moves there.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("[relay] route for {domain}: {reason}")]
    BadRoute { domain: String, reason: String },
    #[error("outbound configuration: {0}")]
    BadConfig(String),
    #[error("queue entry {0} does not exist")]
    NoSuchEntry(i64),
    #[error("store: {0}")]
    Store(#[from] mssd_store::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
