//! `MANIFEST.json`: what a backup holds, each file with its size and SHA-256.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, io};

pub const MANIFEST: &str = "MANIFEST.json";
/// A manifest larger than this is not one mssd wrote (a million blob files take ~150 MB).
const MAX_MANIFEST_BYTES: u64 = 512 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Relative to the backup directory: `mssd.sqlite3` or `blobs/<xx>/<name>`.
    pub path: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The mssd that took it.
    pub mssd_version: String,
    /// Unix milliseconds when the copy of the database was taken.
    pub taken_at: i64,
    pub schema_version: u32,
    pub files: Vec<ManifestFile>,
}

impl Manifest {
    pub const FORMAT: u32 = 1;

    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST);
        let size = std::fs::metadata(&path)
            .map_err(io(&path, "reading the manifest"))?
            .len();
        if size > MAX_MANIFEST_BYTES {
            return Err(damaged(
                dir,
                format!("{MANIFEST} is {size} bytes: too large"),
            ));
        }
        let text = std::fs::read(&path).map_err(io(&path, "reading the manifest"))?;
        let manifest: Manifest = serde_json::from_slice(&text)
            .map_err(|e| damaged(dir, format!("{MANIFEST} does not parse: {e}")))?;
        if manifest.format != Self::FORMAT {
            return Err(damaged(
                dir,
                format!(
                    "manifest format {} (this mssd reads {})",
                    manifest.format,
                    Self::FORMAT
                ),
            ));
        }
        for file in &manifest.files {
            if !safe_relative(&file.path) {
                return Err(damaged(dir, format!("the manifest names {:?}", file.path)));
            }
        }
        Ok(manifest)
    }
}

/// `mssd.sqlite3` or `blobs/<xx>/<32 hex digits starting with xx>`, nothing else: a manifest
/// cannot make verify or restore touch a file outside the backup and the data directory.
pub(crate) fn safe_relative(path: &str) -> bool {
    if path == crate::DATABASE {
        return true;
    }
    let mut parts = path.split('/');
    let (blobs, shard, name, rest) = (parts.next(), parts.next(), parts.next(), parts.next());
    match (blobs, shard, name, rest) {
        (Some(crate::BLOBS), Some(shard), Some(name), None) => {
            name.len() == 32
                && name.bytes().all(|b| b.is_ascii_hexdigit())
                && name.get(..2) == Some(shard)
        }
        _ => false,
    }
}

pub(crate) fn damaged(dir: &Path, problem: String) -> Error {
    Error::Damaged {
        dir: dir.to_path_buf(),
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_store_files_may_be_named() {
        for (path, ok) in [
            ("mssd.sqlite3", true),
            ("blobs/ab/ab0123456789abcdef0123456789abcd", true),
            ("blobs/cd/ab0123456789abcdef0123456789abcd", false),
            ("blobs/ab/abcdef", false),
            ("../mssd.sqlite3", false),
            ("/etc/passwd", false),
            ("blobs/../../x", false),
            ("other", false),
            ("blobs/./ab", false),
        ] {
            assert_eq!(safe_relative(path), ok, "{path}");
        }
    }
}
