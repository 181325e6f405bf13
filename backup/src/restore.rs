//! Restoring a verified backup into a data directory with no store.

use std::path::Path;

use crate::files::{copy_durably, private_dir, sync, sync_blob_dirs};
use crate::manifest::MANIFEST;
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
    let mut files: Vec<&str> = verified
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .filter(|p| *p != DATABASE && *p != MANIFEST)
        .collect();
    files.push(DATABASE);
    for relative in files {
        let to = data_dir.join(relative);
        if let Some(parent) = to.parent() {
            private_dir(parent)?;
        }
        copy_durably(&backup.join(relative), &to)?;
    }
    sync_blob_dirs(&data_dir.join(crate::BLOBS))?;
    sync(data_dir)?;
    Ok(verified)
}
