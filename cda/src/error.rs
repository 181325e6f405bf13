//! The one error type of the crate: what is wrong with an XDM package, precise enough to name
//! in a `554 5.6.0` reply and an audit line, and never holding document content or an INS.

/// Why a message's health documents cannot be read. The texts name the entry or element at
/// fault and the limit crossed; they never quote document content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdaError {
    #[error("the IHE_XDM.zip attachment cannot be decoded: {0}")]
    Attachment(String),
    #[error("IHE_XDM.zip is not a readable zip archive: {0}")]
    Zip(String),
    #[error("IHE_XDM.zip has {found} entries, more than the {limit} allowed")]
    TooManyEntries { found: usize, limit: usize },
    #[error(
        "IHE_XDM.zip entry {name:?} is {size} bytes uncompressed, more than the {limit} allowed"
    )]
    EntryTooLarge { name: String, size: u64, limit: u64 },
    #[error("IHE_XDM.zip expands to more than the {limit} bytes allowed")]
    TotalTooLarge { limit: u64 },
    #[error("IHE_XDM.zip entry {name:?} has a compression ratio over {limit}:1 (a zip bomb?)")]
    RatioTooHigh { name: String, limit: u64 },
    #[error("IHE_XDM.zip entry {name:?} is itself a zip archive; nested archives are never opened")]
    NestedArchive { name: String },
    #[error("IHE_XDM.zip entry name {name:?} is refused: {reason}")]
    UnsafeName { name: String, reason: &'static str },
    #[error("IHE_XDM.zip entry {name:?} uses an unsupported compression method ({method})")]
    UnsupportedMethod { name: String, method: String },
    #[error("IHE_XDM.zip has no IHE_XDM/SUBSETnn/METADATA.XML")]
    MissingMetadata,
    #[error("IHE_XDM.zip holds more than one submission set (several METADATA.XML)")]
    SeveralSubmissionSets,
    #[error("{file}: XML refused: {reason}")]
    Xml { file: String, reason: String },
    #[error("METADATA.XML: {0}")]
    Metadata(String),
    #[error("METADATA.XML lists {uri:?}, which is not in the archive")]
    MissingDocument { uri: String },
    #[error("{uri}: size is {actual} bytes, METADATA.XML declares {declared}")]
    SizeMismatch {
        uri: String,
        declared: u64,
        actual: u64,
    },
    #[error("{uri}: SHA-1 is {actual}, METADATA.XML declares {declared}")]
    HashMismatch {
        uri: String,
        declared: String,
        actual: String,
    },
    #[error("{file}: not a CDA R2 document: {reason}")]
    NotCda { file: String, reason: String },
    #[error("{file}: {reason}")]
    Body { file: String, reason: String },
    #[error("IHE_XDM.zip names several patients; an archive carries the documents of one patient")]
    SeveralPatients,
}

impl CdaError {
    /// A short stable name for metrics and audit lines.
    pub fn kind(&self) -> &'static str {
        match self {
            CdaError::Attachment(_) => "attachment",
            CdaError::Zip(_) => "zip",
            CdaError::TooManyEntries { .. } => "too_many_entries",
            CdaError::EntryTooLarge { .. } => "entry_too_large",
            CdaError::TotalTooLarge { .. } => "total_too_large",
            CdaError::RatioTooHigh { .. } => "ratio_too_high",
            CdaError::NestedArchive { .. } => "nested_archive",
            CdaError::UnsafeName { .. } => "unsafe_name",
            CdaError::UnsupportedMethod { .. } => "unsupported_method",
            CdaError::MissingMetadata => "missing_metadata",
            CdaError::SeveralSubmissionSets => "several_submission_sets",
            CdaError::Xml { .. } => "xml",
            CdaError::Metadata(_) => "metadata",
            CdaError::MissingDocument { .. } => "missing_document",
            CdaError::SizeMismatch { .. } => "size_mismatch",
            CdaError::HashMismatch { .. } => "hash_mismatch",
            CdaError::NotCda { .. } => "not_cda",
            CdaError::Body { .. } => "body",
            CdaError::SeveralPatients => "several_patients",
        }
    }
}

pub type Result<T> = std::result::Result<T, CdaError>;
