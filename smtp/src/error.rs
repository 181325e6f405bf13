//! The smtp crate's error type. Sessions never return errors (what goes wrong is a reply
//! and an audit line); these are the failures of outbound delivery that are not a delivery
//! outcome: configuration, the store, an unknown queue entry. A peer refusing or being down
//! is an [`crate::outbound::Failure`], recorded on the queue entry, never an `Error`.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("[relay] route for {domain}: {reason}")]
    BadRoute { domain: String, reason: String },
    #[error("outbound configuration: {0}")]
    BadConfig(String),
    #[error("queue entry {0} does not exist")]
    NoSuchEntry(i64),
    #[error(
        "queue entry {0} is being attempted by another runner; it is retried when that attempt ends"
    )]
    EntryHeld(i64),
    #[error("store: {0}")]
    Store(#[from] mssd_store::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
