//! Taking a backup while the server runs.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use mssd_store::{blob_dir_of, blob_file_path, sqlite_snapshot};

use crate::files::{digest, link_or_copy, private_dir, sync, sync_blob_dirs, write_new};
use crate::manifest::{MANIFEST, Manifest, ManifestFile};
use crate::{BLOBS, DATABASE, Error, Result, error::io};

/// How many times a copy is taken again when a blob file it names was removed before it
/// could be linked (its message expunged meanwhile).
const ATTEMPTS: usize = 5;

/// Backs up the SQLite store at `database` (and its blob files) into `dest`, a new or empty
/// directory. Every message committed before the call is in the backup.
pub fn take(database: &Path, dest: &Path, mssd_version: &str) -> Result<Manifest> {
    if dest.exists() {
        let mut entries = std::fs::read_dir(dest).map_err(io(dest, "reading the destination"))?;
        if entries.next().is_some() {
            return Err(Error::Refused(format!(
                "{} is not empty: give a new directory for the backup",
                dest.display()
            )));
        }
    }
    private_dir(dest)?;
    // An existing empty directory keeps its mode otherwise.
    restrict(dest, 0o700)?;
    let copy = dest.join(DATABASE);
    let blobs = dest.join(BLOBS);
    let source_blobs = blob_dir_of(database);
    for attempt in 1..=ATTEMPTS {
        remove_partial(&copy, &blobs)?;
        let taken_at = now_ms();
        let snapshot = sqlite_snapshot(database, &copy)?;
        // VACUUM INTO creates the file under the umask: owner-only, as the store is.
        restrict(&copy, 0o600)?;
        let mut files = vec![copy.clone()];
        let mut complete = true;
        for name in &snapshot.blob_files {
            let from = blob_file_path(&source_blobs, name)?;
            let to = blob_file_path(&blobs, name)?;
            if let Some(shard) = to.parent() {
                private_dir(shard)?;
            }
            if !link_or_copy(&from, &to)? {
                tracing::info!(attempt, file = %name, "backup: a blob file went meanwhile; copying again");
                complete = false;
                break;
            }
            files.push(to);
        }
        if complete {
            return finish(dest, files, taken_at, snapshot.schema_version, mssd_version);
        }
    }
    Err(Error::Refused(format!(
        "blob files kept disappearing while the backup was taken ({ATTEMPTS} attempts); \
         try again when fewer messages are being removed"
    )))
}

/// Removes what an earlier attempt left.
fn remove_partial(copy: &Path, blobs: &Path) -> Result<()> {
    if copy.exists() {
        std::fs::remove_file(copy).map_err(io(copy, "removing an earlier copy"))?;
    }
    if blobs.exists() {
        std::fs::remove_dir_all(blobs).map_err(io(blobs, "removing earlier blob files"))?;
    }
    Ok(())
}

fn finish(
    dest: &Path,
    files: Vec<PathBuf>,
    taken_at: i64,
    schema_version: u32,
    mssd_version: &str,
) -> Result<Manifest> {
    let mut listed = Vec::with_capacity(files.len());
    for file in &files {
        let (size, sha256) = digest(file)?;
        let path = file
            .strip_prefix(dest)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        listed.push(ManifestFile { path, size, sha256 });
    }
    sync(&dest.join(DATABASE))?;
    let manifest = Manifest {
        format: Manifest::FORMAT,
        mssd_version: mssd_version.to_owned(),
        taken_at,
        schema_version,
        files: listed,
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Refused(format!("writing the manifest: {e}")))?;
    write_new(&dest.join(MANIFEST), &text)?;
    // The directory entries of the shards, the blob directory and the backup itself.
    sync_blob_dirs(&dest.join(BLOBS))?;
    sync(dest)?;
    Ok(manifest)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn restrict(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io(path, "restricting the permissions of"))
}
