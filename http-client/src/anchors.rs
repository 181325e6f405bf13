//! Which certification authorities public downloads are checked against.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{Error, Result};

/// Debian's bundle of the CAs the system trusts (package ca-certificates).
pub const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A CA file is a few hundred KiB at most (the system bundle is about 200); refuse
/// anything absurd before parsing it.
const MAX_CA_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The roots of [`crate::PublicClient`]. Nothing is read until [`Anchors::root_store`] is
/// called, so a configuration naming the system bundle works on a machine without it as long
/// as nothing is downloaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anchors {
    /// [`SYSTEM_BUNDLE`]: follows the system's updates (the default).
    System,
    /// Mozilla's roots as compiled into mssd (webpki-roots): for machines without the bundle.
    WebPki,
    /// Only the certificates of these PEM files (e.g. a test CA, or a pinned public root).
    Files(Vec<PathBuf>),
}

impl Anchors {
    /// The roots, read now. The system bundle may hold a certificate rustls cannot use (it is
    /// skipped); a file the operator named must be usable whole.
    pub fn root_store(&self) -> Result<RootCertStore> {
        match self {
            Anchors::System => system_roots(Path::new(SYSTEM_BUNDLE)),
            Anchors::WebPki => Ok(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            Anchors::Files(paths) => {
                if paths.is_empty() {
                    return Err(Error::NoAnchorFile);
                }
                let mut roots = RootCertStore::empty();
                for path in paths {
                    for cert in read_certs(path)? {
                        roots.add(cert).map_err(|e| Error::BadAnchors {
                            path: path.clone(),
                            reason: format!("a certificate is not usable as a root: {e}"),
                        })?;
                    }
                }
                Ok(roots)
            }
        }
    }
}

impl fmt::Display for Anchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anchors::System => write!(f, "system ({SYSTEM_BUNDLE})"),
            Anchors::WebPki => f.write_str("webpki (Mozilla's roots, built in)"),
            Anchors::Files(paths) => {
                let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                write!(f, "{}", names.join(", "))
            }
        }
    }
}

fn system_roots(bundle: &Path) -> Result<RootCertStore> {
    if !bundle.exists() {
        return Err(Error::SystemBundleMissing {
            path: bundle.to_path_buf(),
        });
    }
    let mut roots = RootCertStore::empty();
    let (added, _skipped) = roots.add_parsable_certificates(read_certs(bundle)?);
    if added == 0 {
        return Err(Error::BadAnchors {
            path: bundle.to_path_buf(),
            reason: "no usable certificate in it".into(),
        });
    }
    Ok(roots)
}

/// Every certificate of a PEM file; at least one.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_CA_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let bad = |reason: String| Error::BadAnchors {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(bad(format!("larger than {MAX_CA_FILE_BYTES} bytes")));
    }
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE block in it".into()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_store_table() {
        let dir = tempfile::tempdir().unwrap();
        let ca = mssd_certs::TestCa::root("TEST PUBLIC ROOT").unwrap();
        let good = dir.path().join("ca.pem");
        std::fs::write(&good, ca.cert_pem()).unwrap();
        let twice = dir.path().join("two.pem");
        let other = mssd_certs::TestCa::root("TEST OTHER ROOT").unwrap();
        std::fs::write(&twice, format!("{}{}", ca.cert_pem(), other.cert_pem())).unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let missing = dir.path().join("missing.pem");
        // (anchors, Ok(number of roots) or Err(text the message holds))
        let cases: Vec<(Anchors, std::result::Result<usize, &str>)> = vec![
            (Anchors::Files(vec![good.clone()]), Ok(1)),
            (Anchors::Files(vec![good.clone(), twice.clone()]), Ok(3)),
            (Anchors::Files(vec![]), Err("list at least one PEM file")),
            (
                Anchors::Files(vec![empty.clone()]),
                Err("no CERTIFICATE block"),
            ),
            (
                Anchors::Files(vec![good.clone(), missing.clone()]),
                Err("missing.pem"),
            ),
        ];
        for (anchors, expected) in cases {
            match (anchors.root_store(), expected) {
                (Ok(store), Ok(n)) => assert_eq!(store.len(), n, "{anchors}"),
                (Err(e), Err(needle)) => {
                    assert!(e.to_string().contains(needle), "{anchors}: {e}")
                }
                (got, expected) => panic!("{anchors}: {got:?} instead of {expected:?}"),
            }
        }
        assert!(Anchors::WebPki.root_store().unwrap().len() > 100);
    }

    #[test]
    fn a_missing_system_bundle_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = system_roots(&dir.path().join("ca-certificates.crt")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("ca-certificates.crt is missing") && text.contains("webpki"),
            "{text}"
        );
        if Path::new(SYSTEM_BUNDLE).exists() {
            assert!(Anchors::System.root_store().unwrap().len() > 10);
        }
    }
}
