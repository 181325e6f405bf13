use std::path::PathBuf;

/// Why a backup, verification or restore failed; each says what to look at.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {what}: {source}")]
    Io {
        path: PathBuf,
        what: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] mssd_store::Error),
    #[error("{0}")]
    Refused(String),
    /// The backup does not match its manifest, or its database is damaged.
    #[error("backup {dir} is not intact: {problem}")]
    Damaged { dir: PathBuf, problem: String },
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io(
    path: &std::path::Path,
    what: &'static str,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { path, what, source }
}
