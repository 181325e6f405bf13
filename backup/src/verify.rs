//! Checking a backup before trusting it.

use std::collections::HashSet;
use std::path::Path;

use mssd_store::{referenced_blob_files, sqlite_quick_check};

use crate::files::{digest, through_symlink};
use crate::manifest::{Manifest, damaged};
use crate::{BLOBS, DATABASE, Result};

/// What a verified backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub manifest: Manifest,
    pub files: usize,
    pub bytes: u64,
}

/// Every file of the manifest with its size and digest, the database sound (`quick_check`),
/// and every blob file it names in the manifest.
pub fn verify(dir: &Path) -> Result<Verified> {
    let manifest = Manifest::read(dir)?;
    if !manifest.files.iter().any(|f| f.path == DATABASE) {
        return Err(damaged(dir, format!("the manifest lists no {DATABASE}")));
    }
    let mut bytes = 0;
    for file in &manifest.files {
        let path = dir.join(&file.path);
        if through_symlink(dir, &file.path) {
            return Err(damaged(
                dir,
                format!("{} is or goes through a symbolic link", file.path),
            ));
        }
        if !path.is_file() {
            return Err(damaged(dir, format!("{} is missing", file.path)));
        }
        let (size, sha256) = digest(&path)?;
        if size != file.size || sha256 != file.sha256 {
            return Err(damaged(
                dir,
                format!("{} differs from the manifest (size or SHA-256)", file.path),
            ));
        }
        bytes += size;
    }
    let database = dir.join(DATABASE);
    let check = sqlite_quick_check(&database)?;
    if check != "ok" {
        return Err(damaged(
            dir,
            format!("the database fails its check: {check}"),
        ));
    }
    let listed: HashSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for name in referenced_blob_files(&database)? {
        let relative = format!("{BLOBS}/{}/{name}", name.get(..2).unwrap_or_default());
        if !listed.contains(relative.as_str()) {
            return Err(damaged(
                dir,
                format!("the database names blob file {name}, which the backup lacks"),
            ));
        }
    }
    Ok(Verified {
        files: manifest.files.len(),
        bytes,
        manifest,
    })
}
