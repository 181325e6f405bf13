//! The one error type of mssd-imap.

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] mssd_store::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
