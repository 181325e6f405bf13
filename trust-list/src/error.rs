//! The one error type of mssd-trust-list. Every refusal of a new list is one of these, and the
//! text says what was wrong and where, so the operator can act on the log line alone.

use std::fmt;
use std::path::PathBuf;

/// Result of every fallible operation of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Where in the XML input something was found: 1-based line and column, 0-based byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
    pub offset: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {} (byte {})",
            self.line, self.column, self.offset
        )
    }
}

/// Everything that can make a list unusable or refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not an XML liste blanche at {position}: {detail}")]
    NotXml { position: Position, detail: String },
    #[error(
        "truncated liste blanche: the input ends at {position} while <{open_element}> is still \
         open (no closing tag)"
    )]
    Truncated {
        position: Position,
        open_element: String,
    },
    #[error("malformed XML at {position}: {detail}")]
    Malformed { position: Position, detail: String },
    #[error(
        "wrong root element at {position}: found {found}, expected <ListeBlancheMSSante> in \
         namespace {}",
        crate::NAMESPACE
    )]
    WrongRoot { position: Position, found: String },
    #[error("the list has no <DateDeGeneration>: it cannot be ordered against the list in force")]
    MissingGenerationDate,
    #[error("bad <{element}> at {position}: {value:?} is not an RFC 3339 date-time ({detail})")]
    BadDate {
        position: Position,
        element: &'static str,
        value: String,
        detail: String,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{location} is larger than the limit of {limit} bytes")]
    TooLarge { location: String, limit: u64 },
    #[error("download of {url} failed: {detail}")]
    Download { url: String, detail: String },
    #[error("invalid source {input:?}: {reason}")]
    BadSource { input: String, reason: String },
    #[error("invalid SHA-256 checksum from {origin}: {reason}")]
    BadChecksum { origin: String, reason: String },
    #[error(
        "checksum mismatch: the downloaded list has SHA-256 {actual}, {origin} expects {expected}"
    )]
    ChecksumMismatch {
        origin: String,
        expected: String,
        actual: String,
    },
    #[error("the list holds no domain ({skipped} entries skipped as invalid)")]
    Empty { skipped: usize },
    #[error(
        "the list is older than the one in force: generated {offered}, the current one {current}"
    )]
    Older { offered: String, current: String },
    #[error(
        "the list would remove {removed} of the {current} domains in force ({:.1} %), more than \
         the {:.1} % allowed at once (load it with force if this is intended)",
        share_percent(*removed, *current),
        max_share * 100.0
    )]
    TooManyRemovals {
        removed: usize,
        current: usize,
        max_share: f64,
    },
    #[error("invalid trust-list configuration: {0}")]
    Config(String),
    #[error("no HTTPS client configured: {url} cannot be verified, so it is not fetched")]
    NoTrustAnchor { url: String },
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    #[error("trust anchors: {0}")]
    Certs(#[from] mssd_certs::Error),
    #[error("store: {0}")]
    Store(#[from] mssd_store::Error),
    #[error("background parse task failed: {0}")]
    Task(String),
}

impl Error {
    /// A short stable label for the kind of refusal, for metrics and `mssd doctor`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotXml { .. } | Error::Malformed { .. } | Error::WrongRoot { .. } => "parse",
            Error::MissingGenerationDate | Error::BadDate { .. } => "parse",
            Error::Truncated { .. } => "truncated",
            Error::Io { .. }
            | Error::TooLarge { .. }
            | Error::Download { .. }
            | Error::NoTrustAnchor { .. } => "download",
            Error::BadChecksum { .. } | Error::ChecksumMismatch { .. } => "checksum",
            Error::Empty { .. } => "empty",
            Error::Older { .. } => "older",
            Error::TooManyRemovals { .. } => "removal_share",
            Error::BadSource { .. } | Error::Config(_) | Error::Tls(_) | Error::Certs(_) => {
                "config"
            }
            Error::Store(_) => "store",
            Error::Task(_) => "internal",
        }
    }
}

fn share_percent(removed: usize, current: usize) -> f64 {
    if current == 0 {
        return 0.0;
    }
    removed as f64 * 100.0 / current as f64
}
