//! The server crate's one error type. Messages say what to fix; they are shown to operators.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration {origin}: {message}")]
    Config { origin: String, message: String },

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("certificates: {0}")]
    Certs(#[from] mssd_certs::Error),

    #[error("store: {0}")]
    Store(#[from] mssd_store::Error),

    #[error("{0}")]
    Core(#[from] mssd_core::Error),

    #[error("listener {name} on {addr}: {source}")]
    Bind {
        name: &'static str,
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },

    /// A command refused for a reason the operator can fix; the text says how.
    #[error("{0}")]
    Usage(String),

    #[error("backup: {0}")]
    Backup(#[from] mssd_backup::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
