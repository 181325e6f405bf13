//! Counters of health documents for `/metrics`: XDM messages, documents by code, qualified
//! INS, malformed archives, refusals, header mismatches and routing decisions.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Codes come from senders: past this many distinct ones, the rest count under `other`, so a
/// sender cannot grow the metrics without bound.
const MAX_CODES: usize = 200;

#[derive(Debug, Default)]
pub struct CdaCounters {
    pub xdm_messages: AtomicU64,
    pub documents: AtomicU64,
    pub documents_qualified_ins: AtomicU64,
    pub malformed: AtomicU64,
    pub refused: AtomicU64,
    pub header_mismatches: AtomicU64,
    pub routed: AtomicU64,
    by_code: Mutex<BTreeMap<String, u64>>,
}

impl CdaCounters {
    pub fn count_code(&self, code: &str) {
        let Ok(mut map) = self.by_code.lock() else {
            return;
        };
        let key = if map.contains_key(code) || map.len() < MAX_CODES {
            code
        } else {
            "other"
        };
        *map.entry(key.to_string()).or_default() += 1;
    }

    /// Documents by code, sorted by code.
    pub fn by_code(&self) -> Vec<(String, u64)> {
        self.by_code
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}
