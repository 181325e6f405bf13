//! The one error type of mssd-bench.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("certificate material: {0}")]
    Certs(#[from] mssd_certs::Error),
    #[error("store: {0}")]
    Store(#[from] mssd_store::Error),
    #[error("TLS setup: {0}")]
    Tls(#[from] rustls::Error),
    #[error("invalid TLS server name {0:?}")]
    ServerName(String),
    #[error("{step}: expected a {expected} reply, got {reply:?}")]
    UnexpectedReply {
        step: &'static str,
        expected: &'static str,
        reply: String,
    },
    #[error("no certificate in {0}")]
    NoCertificate(PathBuf),
    #[error("server closed the connection during {0}")]
    Closed(&'static str),
    #[error("malformed SMTP reply line {0:?}")]
    MalformedReply(String),
    #[error("`{command}` failed with {status}: {stderr}")]
    Command {
        command: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error(
        "no mssd binary at {0}: build it first with `cargo build --release -p mssd` (or give another one with --mssd PATH)"
    )]
    MissingBinary(PathBuf),
    #[error("mssd serve did not print its ready line: {0}")]
    ServerStart(String),
    #[error("mssd serve has no {0} listener")]
    NoListener(&'static str),
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("mailbox {address} not found in {db}")]
    NoMailbox { address: String, db: PathBuf },
    #[error("invalid address {0:?}")]
    Address(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Wraps an I/O error with what was being done.
pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}
