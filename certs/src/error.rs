//! The one error type of mssd-certs.

use std::path::PathBuf;

use time::OffsetDateTime;

/// Everything that can go wrong while loading, validating or generating certificates.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: malformed PEM: {reason}")]
    Pem { path: PathBuf, reason: String },
    #[error("no certificate found in {path}")]
    NoCertificateInPem { path: PathBuf },
    #[error("no private key (PKCS#8, PKCS#1 or SEC1) found in {path}")]
    NoPrivateKey { path: PathBuf },
    #[error("no CRL found in {path}")]
    NoCrlInFile { path: PathBuf },
    #[error("invalid distinguished name {input:?}: {reason}")]
    BadDn { input: String, reason: String },
    #[error("certificate is not issued by a configured trust anchor")]
    UntrustedIssuer,
    #[error("certificate expired on {not_after}")]
    Expired { not_after: OffsetDateTime },
    #[error("certificate is not valid before {not_before}")]
    NotYetValid { not_before: OffsetDateTime },
    #[error("certificate is revoked by its CA's CRL")]
    Revoked,
    #[error("certificate is revoked (answer of the OCSP responder)")]
    RevokedByOcsp,
    #[error(
        "revocation status unknown: the configured CRL of the issuer does not cover this certificate"
    )]
    RevocationStatusUnknown,
    #[error(
        "the CRL of an issuer in the chain is stale (next update was due {next_update}) and tls.stale_crl = \"refuse\""
    )]
    StaleCrl { next_update: OffsetDateTime },
    #[error("certificate lacks the {needed} extended key usage")]
    WrongUsage { needed: &'static str },
    #[error("certificate policies {found:?} include none of the accepted policies")]
    PolicyNotAccepted { found: Vec<String> },
    #[error("invalid certificate: {0}")]
    BadCertificate(String),
    #[error("invalid CRL: {0}")]
    BadCrl(String),
    #[error("invalid trust anchor: {0}")]
    BadTrustAnchor(String),
    #[error("invalid certificate policy OID {0:?}: expected dotted digits like 1.2.3.4")]
    BadPolicyOid(String),
    #[error("no trust anchor configured: peers and users could never be authenticated")]
    NoTrustAnchor,
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("certificate generation failed: {0}")]
    Generate(String),
    #[error("invalid domain {domain:?} for the test PKI: {reason}")]
    BadDomain {
        domain: String,
        reason: &'static str,
    },
    #[error("{path} already exists; refusing to overwrite it (use force)")]
    AlreadyExists { path: PathBuf },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bad_dn(input: &str, reason: impl Into<String>) -> Self {
        Error::BadDn {
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}

impl From<rcgen::Error> for Error {
    fn from(e: rcgen::Error) -> Self {
        Error::Generate(e.to_string())
    }
}
