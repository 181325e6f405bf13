//! What can go wrong downloading or saving a CRL.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{url}: {reason}")]
    Download { url: String, reason: String },
    #[error("{url}: answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: larger than {max} bytes")]
    TooLarge { url: String, max: usize },
    #[error("{url}: {source}")]
    Crl {
        url: String,
        source: mssd_certs::Error,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;
