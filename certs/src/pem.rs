//! Loading certificates, private keys and CRLs from PEM (or DER) files.

use std::path::Path;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// Loads a certificate chain (leaf first, as written in the file). Accepts PEM with one or more
/// `CERTIFICATE` blocks, or a single DER certificate.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read(path)?;
    if !looks_like_pem(&bytes) {
        return Ok(vec![CertificateDer::from(bytes)]);
    }
    let certs = collect(path, CertificateDer::pem_slice_iter(&bytes))?;
    non_empty(certs, || Error::NoCertificateInPem { path: path.into() })
}

/// Loads the first private key of a PEM file (PKCS#8, PKCS#1 RSA or SEC1 EC).
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let bytes = read(path)?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => Err(Error::NoPrivateKey { path: path.into() }),
        Err(e) => Err(pem_error(path, e)),
    }
}

/// Loads all CRLs of a file: PEM with `X509 CRL` blocks, or a single DER CRL.
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>> {
    let bytes = read(path)?;
    if !looks_like_pem(&bytes) {
        return Ok(vec![CertificateRevocationListDer::from(bytes)]);
    }
    let crls = collect(path, CertificateRevocationListDer::pem_slice_iter(&bytes))?;
    non_empty(crls, || Error::NoCrlInFile { path: path.into() })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// DER certificates and CRLs start with a SEQUENCE tag (0x30); anything else (including an
/// empty file) is read as PEM text, which may carry explanatory text before its blocks.
fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.first() != Some(&0x30)
}

fn collect<T>(
    path: &Path,
    items: impl Iterator<Item = std::result::Result<T, pem::Error>>,
) -> Result<Vec<T>> {
    items
        .collect::<std::result::Result<Vec<T>, _>>()
        .map_err(|e| pem_error(path, e))
}

fn non_empty<T>(items: Vec<T>, missing: impl FnOnce() -> Error) -> Result<Vec<T>> {
    if items.is_empty() {
        Err(missing())
    } else {
        Ok(items)
    }
}

fn pem_error(path: &Path, e: pem::Error) -> Error {
    Error::Pem {
        path: path.into(),
        reason: e.to_string(),
    }
}
