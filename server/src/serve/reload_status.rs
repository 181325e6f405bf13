//! What the SIGHUP reloads did, read by `/metrics` (kept apart from the reload itself, which
//! needs the whole server state).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};

/// The outcome of the reloads since start, for `/metrics`.
#[derive(Debug)]
pub struct ReloadStatus {
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    /// False while the last reload failed (the running configuration is older than the file).
    pub last_ok: AtomicBool,
    /// Unix seconds of the last reload attempt; 0 before any.
    pub last_at: AtomicI64,
    pub last_error: Mutex<Option<String>>,
}

impl Default for ReloadStatus {
    fn default() -> Self {
        ReloadStatus {
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            last_ok: AtomicBool::new(true),
            last_at: AtomicI64::new(0),
            last_error: Mutex::new(None),
        }
    }
}
