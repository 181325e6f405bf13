//! The one error type of mssd-http-client. Messages name the file or URL at fault.

use std::path::PathBuf;

/// Everything that can go wrong choosing roots, building the client or downloading.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the system CA bundle {path} is missing: install the ca-certificates package, or use \
         the \"webpki\" anchors (Mozilla's roots, built in) or a list of PEM files"
    )]
    SystemBundleMissing { path: PathBuf },

    #[error("cannot read CA file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("CA file {path}: {reason}")]
    BadAnchors { path: PathBuf, reason: String },

    #[error("no CA file given: list at least one PEM file, or use \"system\" or \"webpki\"")]
    NoAnchorFile,

    #[error("invalid URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },

    #[error("cannot build the HTTPS client: {0}")]
    Client(String),

    #[error("download of {url} failed: {detail}")]
    Download { url: String, detail: String },

    #[error("{url} is larger than the limit of {limit} bytes")]
    TooLarge { url: String, limit: u64 },
}

/// Result of every fallible operation of this crate.
pub type Result<T> = std::result::Result<T, Error>;
