//! The one error type of mssd-store.
//!
//! Messages never carry a mailbox address: a citizen address contains an INS, and errors end up
//! in logs.

use crate::ids::MailboxId;

/// Result of every store operation.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in the store. `Clone` because one commit failure is answered to
/// every job of the batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound { what: String },
    /// A unique key is already taken.
    #[error("{what} already exists")]
    AlreadyExists { what: String },
    /// The caller passed a value the store refuses to record.
    #[error("invalid {what}: {reason}")]
    Invalid { what: String, reason: String },
    /// SQLite failed; the text says which operation and SQLite's own detail.
    #[error("sqlite error while {0}")]
    Sqlite(String),
    /// PostgreSQL failed; the text says which operation and the server's own message.
    #[error("postgresql error while {0}")]
    Postgres(String),
    /// The writer thread has stopped, so no write can be made durable.
    #[error("the store writer thread has stopped; the write was not recorded")]
    WriterGone,
    /// A stored value cannot be read back into its type.
    #[error("corrupt data in {table}: {detail}")]
    Corrupt { table: String, detail: String },
    /// The schema could not be brought to the version this code expects.
    #[error("schema migration failed: {detail}")]
    Migration { detail: String },
    /// A write would take a mailbox over its quota; nothing was written.
    #[error("quota exceeded: {used} of {limit} bytes used, {needed} more needed")]
    QuotaExceeded {
        mailbox: MailboxId,
        used: u64,
        limit: u64,
        needed: u64,
    },
    /// `mssd store migrate` cannot go on; the text says why and what to do.
    #[error("store migration: {0}")]
    BackendMigration(String),
    /// A file system operation on the database files failed.
    #[error("i/o error on {path}: {detail}")]
    Io { path: String, detail: String },
}

impl Error {
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    pub(crate) fn corrupt(table: &str, detail: impl Into<String>) -> Self {
        Error::Corrupt {
            table: table.to_owned(),
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid(what: &str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what: what.to_owned(),
            reason: reason.into(),
        }
    }
}
