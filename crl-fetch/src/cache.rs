//! Downloaded CRLs on disk (`<data dir>/crls/fetched/`): one `<sha256 of the URL>.crl` per
//! source, the URL on the first line then the DER. Written to a temporary file, fsynced and
//! renamed, mode 0600: a crash leaves the previous CRL, never half of one.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use mssd_certs::ChainValidator;
use rustls_pki_types::CertificateRevocationListDer;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Longest file read back: a CRL, its URL and some slack.
const MAX_FILE: u64 = 64 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct CrlCache {
    dir: PathBuf,
}

impl CrlCache {
    pub fn new(dir: impl Into<PathBuf>) -> CrlCache {
        CrlCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, url: &str) -> PathBuf {
        let digest = Sha256::digest(url.as_bytes());
        self.dir.join(format!("{}.crl", hex::encode(&digest[..16])))
    }

    pub fn save(&self, url: &str, der: &[u8]) -> Result<()> {
        let io = |what: &str, source| Error::Io {
            what: format!("{what} {}", self.dir.display()),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| io("creating", e))?;
        let path = self.path_of(url);
        let temporary = path.with_extension("tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(|e| io("writing in", e))?;
        file.write_all(url.as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.write_all(der))
            .and_then(|()| file.sync_all())
            .map_err(|e| io("writing in", e))?;
        std::fs::rename(&temporary, &path).map_err(|e| io("renaming in", e))?;
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Offers every saved CRL to `validator` (a start, each round, `doctor`); returns how many
    /// went into force. A file that cannot be read or that the validator refuses changes
    /// nothing.
    pub fn restore_into(&self, validator: &ChainValidator) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut restored = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "crl") {
                continue;
            }
            let Some((url, der)) = read_entry(&path) else {
                tracing::warn!(path = %path.display(), "saved CRL unreadable: skipped");
                continue;
            };
            match validator.offer_crl(&CertificateRevocationListDer::from(der), &url) {
                Ok(mssd_certs::CrlOffer::Installed(_)) => restored += 1,
                Ok(mssd_certs::CrlOffer::NotNewer | mssd_certs::CrlOffer::Pending) => {}
                // Often its signer is an intermediate no chain has shown yet: tried again
                // at each round.
                Err(e) => tracing::debug!(%url, error = %e, "saved CRL not usable yet"),
            }
        }
        restored
    }
}

impl CrlCache {
    /// Every saved CRL as (URL, DER), for reports.
    pub fn entries(&self) -> Vec<(String, Vec<u8>)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut saved: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "crl"))
            .filter_map(|p| read_entry(&p))
            .collect();
        saved.sort();
        saved
    }
}

fn read_entry(path: &Path) -> Option<(String, Vec<u8>)> {
    if std::fs::metadata(path).ok()?.len() > MAX_FILE {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let newline = bytes.iter().position(|b| *b == b'\n')?;
    let url = std::str::from_utf8(&bytes[..newline]).ok()?.to_string();
    Some((url, bytes[newline + 1..].to_vec()))
}
