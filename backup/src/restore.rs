//! Restoring a verified backup into a data directory with no store.

use std::path::Path;

use crate::files::{copy_checked, private_dir, sync, sync_blob_dirs, through_symlink};
use crate::manifest::{MANIFEST, ManifestFile, damaged};
use crate::verify::{Verified, verify};
use crate::{DATABASE, Error, Result};

/// Verifies `backup`, then copies it into `data_dir`, which must hold no store (a running
/// server's store is never overwritten: stop it and move its files away first).
pub fn restore(backup: &Path, data_dir: &Path) -> Result<Verified> {
    let verified = verify(backup)?;
    let database = data_dir.join(DATABASE);
    for existing in [
        database.clone(),
        data_dir.join(format!("{DATABASE}-wal")),
        data_dir.join(crate::BLOBS),
    ] {
        if existing.exists() {
            return Err(Error::Refused(format!(
                "{} exists: restore writes only where there is no store; stop mssd and move \
                 its data away first",
                existing.display()
            )));
        }
    }
    private_dir(data_dir)?;
    // Blob files first, the database last: a restore cut short leaves no database naming
    // files that are not there.
    let mut files: Vec<&ManifestFile> = verified
        .manifest
        .files
        .iter()
        .filter(|f| f.path != DATABASE && f.path != MANIFEST)
        .collect();
    files.extend(
        verified
            .manifest
            .files
            .iter()
            .filter(|f| f.path == DATABASE),
    );
    for file in files {
        let relative = file.path.as_str();
        if through_symlink(backup, relative) {
            return Err(damaged(
                backup,
                format!("{relative} is or goes through a symbolic link"),
            ));
        }
        let to = data_dir.join(relative);
        if let Some(parent) = to.parent() {
            private_dir(parent)?;
        }
        // Checked again as it is copied: the backup may have changed since `verify`.
        if !copy_checked(&backup.join(relative), &to, (file.size, &file.sha256))? {
            return Err(damaged(
                backup,
                format!("{relative} changed since it was verified (size or SHA-256)"),
            ));
        }
    }
    sync_blob_dirs(&data_dir.join(crate::BLOBS))?;
    sync(data_dir)?;
    Ok(verified)
}
