//! Files of a backup: private directories, digests, copies that reach the disk.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Result, io};

/// `dir` and its missing parents, owner-only.
pub(crate) fn private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(dir, "creating a directory"))
}

/// The size and SHA-256 of `path`, read in 1 MiB pieces.
pub(crate) fn digest(path: &Path) -> Result<(u64, String)> {
    let mut file = File::open(path).map_err(io(path, "opening"))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io(path, "reading"))?;
        if n == 0 {
            return Ok((size, hex::encode(hash.finalize())));
        }
        size += n as u64;
        hash.update(&buf[..n]);
    }
}

/// `to` as a hard link to `from` (same file system: blob files are never changed in place),
/// else a copy made durable. Returns false when `from` is gone.
pub(crate) fn link_or_copy(from: &Path, to: &Path) -> Result<bool> {
    match std::fs::hard_link(from, to) {
        Ok(()) => return Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(_) => {}
    }
    match copy_durably(from, to) {
        Ok(()) => Ok(true),
        Err(crate::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound && !from.exists() =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// True when `relative` (a manifest path) or a folder on its way under `root` is a symbolic
/// link: a backup is plain files, and a link could make a restore read anything.
pub(crate) fn through_symlink(root: &Path, relative: &str) -> bool {
    let mut path = root.to_path_buf();
    for part in relative.split('/') {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// Copies `from` to a new file `to` (0600), hashing what it copies: the copy is kept (and
/// fsynced) only when its size and SHA-256 are `expected`. Checking while copying leaves no
/// window for `from` to change between a check and the copy.
pub(crate) fn copy_checked(from: &Path, to: &Path, expected: (u64, &str)) -> Result<bool> {
    // Not through a link, and only a regular file (a FIFO would block the restore).
    let mut source = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(from)
        .map_err(io(from, "opening"))?;
    let regular = source
        .metadata()
        .map_err(io(from, "reading the metadata of"))?
        .is_file();
    if !regular {
        return Ok(false);
    }
    let mut target = new_private_file(to)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    let mut copy = || -> Result<()> {
        loop {
            let n = source.read(&mut buf).map_err(io(from, "reading"))?;
            if n == 0 {
                return Ok(());
            }
            size += n as u64;
            hash.update(&buf[..n]);
            target
                .write_all(&buf[..n])
                .map_err(io(to, "copying into"))?;
        }
    };
    if let Err(e) = copy() {
        drop(target);
        let _ = std::fs::remove_file(to);
        return Err(e);
    }
    if size != expected.0 || hex::encode(hash.finalize()) != expected.1 {
        drop(target);
        let _ = std::fs::remove_file(to);
        return Ok(false);
    }
    target.flush().map_err(io(to, "writing"))?;
    target.sync_all().map_err(io(to, "syncing"))?;
    Ok(true)
}

/// A new file `to`, owner-only; an existing one is an error.
fn new_private_file(to: &Path) -> Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(io(to, "creating"))
}

/// Copies `from` to a new file `to` (0600) and fsyncs it.
pub(crate) fn copy_durably(from: &Path, to: &Path) -> Result<()> {
    let mut source = File::open(from).map_err(io(from, "opening"))?;
    let mut target = new_private_file(to)?;
    std::io::copy(&mut source, &mut target).map_err(io(to, "copying into"))?;
    target.flush().map_err(io(to, "writing"))?;
    target.sync_all().map_err(io(to, "syncing"))
}

/// Fsyncs a file or directory.
pub(crate) fn sync(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io(path, "syncing"))
}

/// Writes `bytes` to a new file `path` (0600), durably.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = new_private_file(path)?;
    file.write_all(bytes).map_err(io(path, "writing"))?;
    file.sync_all().map_err(io(path, "syncing"))
}

/// Fsyncs every shard of a blob directory, then the directory itself.
pub(crate) fn sync_blob_dirs(blobs: &Path) -> Result<()> {
    if !blobs.exists() {
        return Ok(());
    }
    for shard in std::fs::read_dir(blobs).map_err(io(blobs, "reading"))? {
        let shard = shard.map_err(io(blobs, "reading"))?;
        sync(&shard.path())?;
    }
    sync(blobs)
}
