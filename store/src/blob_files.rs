//! Message bodies kept as files beside the database, written once as they arrive.
//!
//! A large message must not pass through the SQLite WAL (written there, then again at
//! checkpoint) nor sit whole in memory while it arrives. Its body is streamed into a file of
//! its own under `<database dir>/blobs/<xx>/<name>`; the message's row, committed after the
//! file and its directory entry are fsynced, names the file. The order makes crashes safe:
//! a row never names a file that is not durable, and a file that no row names (an upload cut
//! short, a refused message, a batch that failed to commit) is removed by the sweep at the next
//! start. Nothing here is SQLite's: another backend keeps its rows elsewhere and the same files.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Messages larger than this are stored as a file; smaller ones stay in the database, where
/// one group commit makes a whole batch durable with a single fsync.
pub const SPILL_THRESHOLD: usize = 128 * 1024;

/// The path of the blob file `name` under the blob directory `root`: `<root>/<xx>/<name>`.
/// A name that is not 32 hex digits (not one mssd made) is refused.
pub fn blob_file_path(root: &Path, name: &str) -> Result<PathBuf> {
    if name.len() != 32 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::corrupt(
            "blobs",
            "a blob file name is not 32 hex digits",
        ));
    }
    Ok(root.join(&name[..2]).join(name))
}

/// The directory of the blob files.
#[derive(Debug, Clone)]
pub struct BlobDir {
    root: Arc<PathBuf>,
}

impl BlobDir {
    /// `root` is created (with its parents) if missing.
    pub fn open(root: PathBuf) -> Result<BlobDir> {
        create_private_dirs(&root)?;
        Ok(BlobDir {
            root: Arc::new(root),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of the file named `name` (a name this module made: 32 hex digits).
    pub(crate) fn path_of(&self, name: &str) -> Result<PathBuf> {
        blob_file_path(&self.root, name)
    }

    /// A new, empty file to stream a body into. Blocking (one create): call it off the runtime
    /// or accept one short system call.
    pub fn create(&self) -> Result<BlobWriter> {
        let name = hex::encode(rand::random::<[u8; 16]>());
        let path = self.path_of(&name)?;
        let shard = path.parent().map(Path::to_path_buf).unwrap_or_default();
        create_private_dirs(&shard)?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io_error(&path, "creating", &e))?;
        Ok(BlobWriter {
            file: Some(file),
            staged: Some(StagedBlob::new(path, name)),
            hasher: Sha256::new(),
        })
    }

    /// Reads the whole file `name`, checking it has `size` bytes.
    pub(crate) fn read(&self, name: &str, size: u64, into: &mut Vec<u8>) -> Result<()> {
        let path = self.path_of(name)?;
        let bytes = std::fs::read(&path).map_err(|e| io_error(&path, "reading", &e))?;
        if bytes.len() as u64 != size {
            return Err(Error::corrupt(
                "blobs",
                format!(
                    "blob file {name} holds {} bytes, its row says {size}",
                    bytes.len()
                ),
            ));
        }
        if into.is_empty() {
            *into = bytes;
        } else {
            into.extend_from_slice(&bytes);
        }
        Ok(())
    }

    /// Removes the file `name`; one already gone is not an error (removal is retried after a
    /// crash, and must be idempotent).
    pub(crate) fn remove(&self, name: &str) -> Result<()> {
        let path = self.path_of(name)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&path, "removing", &e)),
        }
    }

    /// Every file name under the directory (the sweep's input). Names that are not ours are
    /// left out, so a stray file is never deleted.
    pub(crate) fn list(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let shards =
            std::fs::read_dir(&*self.root).map_err(|e| io_error(&self.root, "listing", &e))?;
        for shard in shards {
            let shard = shard
                .map_err(|e| io_error(&self.root, "listing", &e))?
                .path();
            if !shard.is_dir() {
                continue;
            }
            let files = std::fs::read_dir(&shard).map_err(|e| io_error(&shard, "listing", &e))?;
            for file in files {
                let file = file.map_err(|e| io_error(&shard, "listing", &e))?;
                if let Some(name) = file.file_name().to_str()
                    && self.path_of(name).is_ok_and(|p| p == file.path())
                {
                    names.push(name.to_owned());
                }
            }
        }
        Ok(names)
    }
}

/// A body being written. Dropped before `finish`, its file is removed.
pub struct BlobWriter {
    file: Option<File>,
    staged: Option<StagedBlob>,
    hasher: Sha256,
}

impl BlobWriter {
    /// Appends `bytes` (to the page cache; `finish` makes them durable). Blocking: a write to
    /// the page cache, the same order of cost as copying the bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let (Some(file), Some(staged)) = (self.file.as_mut(), self.staged.as_mut()) else {
            return Err(Error::invalid("blob file", "it was already finished"));
        };
        file.write_all(bytes)
            .map_err(|e| io_error(&staged.path, "writing", &e))?;
        self.hasher.update(bytes);
        staged.size += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.staged.as_ref().map_or(0, |s| s.size)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fsyncs the file and its directory entry; the body is then ready to be referenced by a
    /// row. Blocking (two fsyncs): run it on the blocking pool.
    pub fn finish(mut self) -> Result<StagedBlob> {
        let (Some(file), Some(mut staged)) = (self.file.take(), self.staged.take()) else {
            return Err(Error::invalid("blob file", "it was already finished"));
        };
        file.sync_all()
            .map_err(|e| io_error(&staged.path, "fsync of", &e))?;
        drop(file);
        if let Some(dir) = staged.path.parent() {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error(dir, "fsync of", &e))?;
        }
        staged.sha256 = std::mem::take(&mut self.hasher).finalize().into();
        Ok(staged)
    }
}

impl fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobWriter")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// A durable body file no row names yet. Dropped unclaimed (the message was refused, or the
/// write that was to name it failed), the file is removed.
pub struct StagedBlob {
    path: PathBuf,
    name: String,
    size: u64,
    sha256: [u8; 32],
    claimed: AtomicBool,
}

impl StagedBlob {
    fn new(path: PathBuf, name: String) -> StagedBlob {
        StagedBlob {
            path,
            name,
            size: 0,
            sha256: [0; 32],
            claimed: AtomicBool::new(false),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// A row names the file now (or no longer, when `claimed` is false: its write failed).
    pub(crate) fn set_claimed(&self, claimed: bool) {
        self.claimed.store(claimed, Ordering::SeqCst);
    }
}

impl Drop for StagedBlob {
    fn drop(&mut self) {
        if !self.claimed.load(Ordering::SeqCst)
            && let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %self.path.display(), error = %e, "removing an unused blob file");
        }
    }
}

impl fmt::Debug for StagedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedBlob")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // `staged` drops unclaimed and removes the partial file.
        self.file.take();
    }
}

/// The bytes of a message to store: all in memory, or a head in memory (the header block,
/// which sessions still edit) followed by a body already in a blob file.
#[derive(Debug, Default)]
pub struct MessageBytes {
    pub head: Vec<u8>,
    pub body: Option<StagedBlob>,
}

impl MessageBytes {
    /// The message's size in bytes.
    pub fn len(&self) -> usize {
        let body = self.body.as_ref().map_or(0, |b| b.size);
        self.head.len() + usize::try_from(body).unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The content digest recorded as the message's `sha256`: the SHA-256 of the bytes for a
    /// message held in memory; for one with a body file, the SHA-256 of the head followed by
    /// the body's own SHA-256 (the body is never read again to hash it whole).
    pub(crate) fn digest_hex(&self) -> String {
        match &self.body {
            None => hex::encode(Sha256::digest(&self.head)),
            Some(body) => {
                let mut hasher = Sha256::new();
                hasher.update(&self.head);
                hasher.update(body.sha256());
                hex::encode(hasher.finalize())
            }
        }
    }
}

impl From<Vec<u8>> for MessageBytes {
    fn from(head: Vec<u8>) -> MessageBytes {
        MessageBytes { head, body: None }
    }
}

/// Health data: directories for the owner only.
fn create_private_dirs(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io_error(dir, "creating", &e))
}

fn io_error(path: &Path, doing: &str, e: &std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: format!("{doing} a blob file: {e}"),
    }
}

/// Where the header block of `message` ends (after its blank line), or `None` when no blank
/// line is found in the first `limit` bytes.
pub fn header_end(message: &[u8], limit: usize) -> Option<usize> {
    let scan = &message[..message.len().min(limit)];
    if scan.starts_with(b"\r\n") {
        return Some(2);
    }
    scan.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

impl BlobDir {
    /// Moves the body of an in-memory message larger than [`SPILL_THRESHOLD`] into a blob
    /// file (the head, up to its blank line, stays in memory). Blocking: writes and fsyncs.
    pub fn spill(&self, message: &mut MessageBytes) -> Result<()> {
        if message.body.is_some() || message.head.len() <= SPILL_THRESHOLD {
            return Ok(());
        }
        let split = header_end(&message.head, SPILL_THRESHOLD).unwrap_or(SPILL_THRESHOLD);
        let mut writer = self.create()?;
        writer.write(&message.head[split..])?;
        let staged = writer.finish()?;
        message.head.truncate(split);
        message.head.shrink_to_fit();
        message.body = Some(staged);
        Ok(())
    }
}

impl BlobWriter {
    /// The bytes written so far, read back, and the file removed (a message whose body must
    /// be examined whole after all). Blocking.
    pub fn read_back(mut self) -> Result<Vec<u8>> {
        let Some(staged) = self.staged.as_ref() else {
            return Err(Error::invalid("blob file", "it was already finished"));
        };
        if let Some(file) = self.file.as_mut() {
            file.flush()
                .map_err(|e| io_error(&staged.path, "writing", &e))?;
        }
        std::fs::read(&staged.path).map_err(|e| io_error(&staged.path, "reading", &e))
    }
}
