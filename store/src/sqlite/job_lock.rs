//! Jobs run by one process at a time on a SQLite database: the server and a CLI command (`mssd
//! annuaire import`, `mssd trust-list load`) both open the file, and must not run the same job
//! together.
//!
//! An exclusive `flock` on `<db>.job-<name>.lock` beside the database excludes other processes;
//! the kernel drops it when the holder exits, even killed. A process-wide set excludes the
//! stores of this process: flock locks belong to open file descriptions, so two opens in one
//! process already conflict on Linux, but not where flock is emulated with fcntl locks (which
//! belong to the process). The lock file stays: removing it would let a process lock a file
//! already unlinked while another locks its replacement.

use std::collections::HashSet;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::exclusive_job::{ExclusiveJob, JobHold, check_job_name};

/// Lock files held by this process.
static HELD: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

fn with_held<T>(f: impl FnOnce(&mut HashSet<PathBuf>) -> T) -> T {
    // A panic while holding it cannot leave the set half-changed: keep using it.
    let mut guard = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(guard.get_or_insert_with(HashSet::new))
}

/// `<db>.job-<name>.lock`, from the canonical database path so two spellings of one file agree.
fn lock_path(database: &Path, job: &str) -> PathBuf {
    let database = std::fs::canonicalize(database).unwrap_or_else(|_| database.to_path_buf());
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".job-{job}.lock"));
    database.with_file_name(name)
}

/// Blocking, briefly (one open and a non-blocking flock).
pub(crate) fn try_exclusive(database: &Path, job: &str) -> Result<Option<ExclusiveJob>> {
    check_job_name(job)?;
    let path = lock_path(database, job);
    if !with_held(|held| held.insert(path.clone())) {
        return Ok(None);
    }
    let hold = SqliteJobHold { path: path.clone() };
    let io = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        detail: format!("locking a job: {e}"),
    };
    let file: File = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        // `hold` drops here and leaves the process-wide set.
        Err(TryLockError::WouldBlock) => return Ok(None),
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    let hold = LockedJob {
        _file: file,
        _hold: hold,
    };
    Ok(Some(ExclusiveJob::new(job, Box::new(hold))))
}

/// This process's claim on a lock file; leaves the set when dropped.
struct SqliteJobHold {
    path: PathBuf,
}

impl Drop for SqliteJobHold {
    fn drop(&mut self) {
        with_held(|held| held.remove(&self.path));
    }
}

/// Dropping it releases the job: closing the file drops the flock, then the set entry goes
/// (fields drop in declaration order).
struct LockedJob {
    _file: File,
    _hold: SqliteJobHold,
}

#[async_trait]
impl JobHold for LockedJob {
    async fn release(self: Box<Self>) {
        drop(self);
    }
}
