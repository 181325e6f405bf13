//! The one error type of mssd-annuaire.

use std::path::PathBuf;

use crate::extraction::ImportReport;

/// Result of every annuaire operation.
pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("reading {path}: {detail}")]
    Io { path: PathBuf, detail: String },
    /// The zip archive is unreadable or holds no extraction file.
    #[error("zip archive {path}: {detail}")]
    Zip { path: PathBuf, detail: String },
    /// The content goes past a cap (a zip bomb, or not an extraction file).
    #[error(
        "{path} holds more than {limit} {what}: refused (an extraction file is far smaller; \
         a zip expanding this much is not one)"
    )]
    TooLarge {
        path: PathBuf,
        what: String,
        limit: u64,
    },
    /// The file has no header line at all.
    #[error("{path} is empty: an extraction file starts with a header line")]
    EmptyFile { path: PathBuf },
    /// The header is neither extraction file's.
    #[error(
        "unrecognised header: expected Extraction_Correspondance_MSSante (a column \
         'Adresse BAL') or PS_LibreAcces_Personne_activite (a column \
         'Identification nationale PP'); the first columns are {first_columns:?}"
    )]
    UnknownHeader { first_columns: Vec<String> },
    /// Columns the import needs are absent from the header.
    #[error("{file} header lacks the required column(s) {missing:?}")]
    MissingColumns {
        file: &'static str,
        missing: Vec<&'static str>,
    },
    /// A line is ISO-8859-1 / Windows-1252: converting it ourselves could mangle names.
    #[error(
        "line {line}: file is Latin-1 / Windows-1252, convert it to UTF-8 \
         (iconv -f latin1 -t utf8)"
    )]
    Latin1 { line: u64 },
    /// The import was read entirely but its application was refused (the report says why);
    /// the directory in force is unchanged.
    #[error("import refused, the directory in force is unchanged: {reason}")]
    Refused {
        reason: String,
        report: Box<ImportReport>,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] mssd_store::Error),
    /// The LDAP configuration is unusable (src/ldap/).
    #[error("LDAP configuration: {0}")]
    LdapConfig(String),
    /// An LDAP operation against the configured server failed.
    #[error("LDAP {operation} on {url} failed: {reason}")]
    Ldap {
        url: String,
        operation: String,
        reason: String,
    },
    /// The LDAP directory mirror could not be read or written.
    #[error("LDAP mirror: {0}")]
    LdapMirror(String),
    /// LDAP provisioning refused to apply a plan (e.g. too many suspensions at once).
    #[error("LDAP provisioning refused: {0}")]
    LdapProvisionRefused(String),
    /// The reading thread stopped without saying why.
    #[error("the extraction reader stopped unexpectedly: {0}")]
    Reader(String),
}
