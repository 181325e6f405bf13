//! What can go wrong asking a responder.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("OCSP request: {0}")]
    Request(String),
    #[error("OCSP responder {url}: {reason}")]
    Responder { url: String, reason: String },
    #[error("OCSP response refused: {0}")]
    Response(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<openssl::error::ErrorStack> for Error {
    fn from(e: openssl::error::ErrorStack) -> Self {
        Error::Response(e.to_string())
    }
}
