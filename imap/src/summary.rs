//! What FETCH ENVELOPE / BODY / BODYSTRUCTURE need, computed once per distinct message bytes and
//! shared by all sessions through a bounded cache keyed by the message's SHA-256.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use imap_codec::imap_types::body::BodyStructure;
use imap_codec::imap_types::envelope::Envelope;

use crate::mime::{body_structure, envelope};

/// The parsed views of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub envelope: Envelope<'static>,
    /// BODYSTRUCTURE (with extension data).
    pub body_structure: BodyStructure<'static>,
    /// BODY (without extension data).
    pub body: BodyStructure<'static>,
    /// The raw header block (up to and including the blank line), which answers header SEARCH
    /// criteria without reading the message again.
    pub header: Vec<u8>,
    /// `ENVELOPE (...)` as sent on the wire, for the direct FETCH encoder.
    pub envelope_wire: Vec<u8>,
}

impl Summary {
    pub fn of(message: &[u8]) -> Summary {
        let envelope = envelope(message);
        Summary {
            envelope_wire: crate::fetch::wire::encode_envelope(&envelope),
            envelope,
            body_structure: body_structure(message, true),
            body: body_structure(message, false),
            header: crate::mime::split_header_body(message).0.to_vec(),
        }
    }
}

/// Bounded, thread-safe cache keyed by the message's SHA-256 hex (MessageMeta::sha256), shared by
/// all sessions. When full, about half of the entries (in the map's arbitrary order) are dropped:
/// one O(n) sweep every n/2 insertions, so O(1) amortised, and no bookkeeping on reads.
#[derive(Debug)]
pub struct SummaryCache {
    max_entries: usize,
    entries: Mutex<HashMap<String, Arc<Summary>>>,
}

impl SummaryCache {
    /// A cache holding at most `max_entries` summaries (0 disables caching).
    pub fn new(max_entries: usize) -> SummaryCache {
        SummaryCache {
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, sha256: &str) -> Option<Arc<Summary>> {
        self.lock().get(sha256).cloned()
    }

    /// Computes the summary of `message` (without holding the lock) and stores it. If another
    /// session stored the same message meanwhile, that summary is kept and returned.
    pub fn insert(&self, sha256: &str, message: &[u8]) -> Arc<Summary> {
        let summary = Arc::new(Summary::of(message));
        if self.max_entries == 0 {
            return summary;
        }
        let mut entries = self.lock();
        if let Some(existing) = entries.get(sha256) {
            return existing.clone();
        }
        if entries.len() >= self.max_entries {
            let keep = self.max_entries / 2;
            let mut kept = 0;
            entries.retain(|_, _| {
                kept += 1;
                kept <= keep
            });
        }
        entries.insert(sha256.to_owned(), summary.clone());
        summary
    }

    /// The cached summary, or the one computed from `message` now (and cached).
    pub fn get_or_insert(&self, sha256: &str, message: &[u8]) -> Arc<Summary> {
        match self.get(sha256) {
            Some(summary) => summary,
            None => self.insert(sha256, message),
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A poisoned lock only means another thread panicked mid-operation; the map itself is always
    /// consistent (every operation is a single map call), so keep using it.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Summary>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
