//! Owner-only modes for what holds keys and health data: the data directory (0700), the
//! database and its journal files, and private keys (0600). `serve` tightens looser modes at
//! start and says so; `doctor` reports them. New files are created owner-only (umask 077).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};

/// A path whose mode lets others than its owner in, and the mode it should have.
#[derive(Debug, PartialEq, Eq)]
pub struct LooseMode {
    pub path: PathBuf,
    pub mode: u32,
    pub wanted: u32,
}

impl std::fmt::Display for LooseMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is {:04o}, should be {:04o}",
            self.path.display(),
            self.mode,
            self.wanted
        )
    }
}

/// Files created by this process from now on are owner-only (the database, its WAL and
/// shared-memory files, queued messages, keys).
pub fn owner_only_umask() {
    // SAFETY: umask only changes this process's file creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// What must be owner-only, with the mode it must have: the data dir, the database files,
/// the TLS private key and any `*.key` in the data dir's `pki/`.
fn private_paths(config: &Config) -> Vec<(PathBuf, u32)> {
    let mut paths = vec![(config.data_dir.clone(), 0o700)];
    if config.store == crate::config::StoreBackend::Sqlite {
        let database = config.database_path();
        for suffix in ["", "-wal", "-shm"] {
            let mut name = database.clone().into_os_string();
            name.push(suffix);
            paths.push((PathBuf::from(name), 0o600));
        }
    }
    paths.push((config.tls.private_key.clone(), 0o600));
    let pki = config.data_dir.join("pki");
    if pki.is_dir() {
        paths.push((pki.clone(), 0o700));
        if let Ok(entries) = std::fs::read_dir(&pki) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "key") && path != config.tls.private_key {
                    paths.push((path, 0o600));
                }
            }
        }
    }
    paths
}

/// The private paths that exist with group or other permission bits.
pub fn loose_modes(config: &Config) -> Vec<LooseMode> {
    private_paths(config)
        .into_iter()
        .filter_map(|(path, wanted)| {
            let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o7777;
            (mode & 0o077 != 0).then_some(LooseMode { path, mode, wanted })
        })
        .collect()
}

/// Tightens every loose private path (owner bits kept as wanted); returns what was changed.
pub fn tighten(config: &Config) -> Result<Vec<LooseMode>> {
    let loose = loose_modes(config);
    for fix in &loose {
        set_mode(&fix.path, fix.wanted)?;
    }
    Ok(loose)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        Error::Io {
            what: format!(
                "setting mode {mode:04o} on {} (make it owner-only by hand, or run mssd as its owner)",
                path.display()
            ),
            source,
        }
    })
}
