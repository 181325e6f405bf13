//! What FETCH ENVELOPE / BODY / BODYSTRUCTURE need, computed once per distinct message bytes and
//! shared by all sessions through a bounded cache keyed by the message's SHA-256.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::body::BodyStructure;
use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::envelope::Envelope;
use imap_codec::imap_types::fetch::MessageDataItem;
use imap_codec::imap_types::response::{Data, Response};

use crate::mime::{body_structure, envelope};

/// The parsed views of one message. ENVELOPE and the header block are computed at once (they
/// need the header only); BODY/BODYSTRUCTURE need a MIME parse of the whole message and are
/// computed the first time a FETCH asks for them, so listing a folder never pays for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Parsed when first asked for: a summary read back from the store carries the encoded
    /// envelope only, which is all a listing needs.
    envelope: OnceLock<Envelope<'static>>,
    /// The raw header block (up to and including the blank line), which answers header SEARCH
    /// criteria without reading the message again.
    pub header: Vec<u8>,
    /// `ENVELOPE (...)` as sent on the wire, for the direct FETCH encoder.
    pub envelope_wire: Vec<u8>,
    structures: OnceLock<Structures>,
}

/// BODYSTRUCTURE and BODY of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structures {
    /// BODYSTRUCTURE (with extension data).
    pub body_structure: BodyStructure<'static>,
    /// BODY (without extension data).
    pub body: BodyStructure<'static>,
}

impl Summary {
    /// Every view, computed now.
    pub fn of(message: &[u8]) -> Summary {
        let summary = Summary::headers_of(message);
        summary.structures_of(message);
        summary
    }

    /// ENVELOPE and header block only; the structures wait for `structures_of`.
    pub fn headers_of(message: &[u8]) -> Summary {
        let (envelope, envelope_wire) = encode_envelope(envelope(message));
        Summary {
            envelope_wire,
            envelope: OnceLock::from(envelope),
            header: crate::mime::split_header_body(message).0.to_vec(),
            structures: OnceLock::new(),
        }
    }

    /// The ENVELOPE structure.
    pub fn envelope(&self) -> &Envelope<'static> {
        self.envelope.get_or_init(|| envelope(&self.header))
    }

    /// What the store keeps of a new message for listings (see
    /// `mssd_store::SqliteStore::set_listing_summarizer`), computed from its header block:
    /// a format byte, the encoded ENVELOPE's length (u32, little-endian), the encoded
    /// ENVELOPE, then the header block.
    pub fn stored_form(header: &[u8]) -> Vec<u8> {
        let summary = Summary::headers_of(header);
        let wire = &summary.envelope_wire;
        let mut out = Vec::with_capacity(5 + wire.len() + summary.header.len());
        out.push(STORED_FORMAT);
        out.extend_from_slice(&u32::try_from(wire.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(wire);
        out.extend_from_slice(&summary.header);
        out
    }

    /// A summary read back from its stored form, without parsing the header; `None` for a
    /// form this code does not know (the message is then read and parsed).
    pub fn from_stored(stored: &[u8]) -> Option<Summary> {
        let (&format, rest) = stored.split_first()?;
        if format != STORED_FORMAT || rest.len() < 4 {
            return None;
        }
        let (len, rest) = rest.split_at(4);
        let len = usize::try_from(u32::from_le_bytes(len.try_into().ok()?)).ok()?;
        if len == 0 || rest.len() < len {
            return None;
        }
        let (wire, header) = rest.split_at(len);
        Some(Summary {
            envelope: OnceLock::new(),
            envelope_wire: wire.to_vec(),
            header: header.to_vec(),
            structures: OnceLock::new(),
        })
    }

    /// The structures, if computed.
    pub fn structures(&self) -> Option<&Structures> {
        self.structures.get()
    }

    /// The structures of `message` (the one this summary is of), computed once.
    pub fn structures_of(&self, message: &[u8]) -> &Structures {
        self.structures.get_or_init(|| Structures {
            body_structure: body_structure(message, true),
            body: body_structure(message, false),
        })
    }
}

/// The version of [`Summary::stored_form`].
const STORED_FORMAT: u8 = 1;

/// Bounded, thread-safe cache keyed by the message's SHA-256 hex (MessageMeta::sha256), shared by
/// all sessions. When full, about half of the entries (in the map's arbitrary order) are dropped:
/// one O(n) sweep every n/2 insertions, so O(1) amortised, and no bookkeeping on reads.
#[derive(Debug)]
pub struct SummaryCache {
    max_entries: usize,
    entries: Mutex<HashMap<Key, Arc<Summary>, BuildHasherDefault<KeyHasher>>>,
}

impl SummaryCache {
    /// A cache holding at most `max_entries` summaries (0 disables caching).
    pub fn new(max_entries: usize) -> SummaryCache {
        SummaryCache {
            max_entries,
            entries: Mutex::new(HashMap::default()),
        }
    }

    pub fn get(&self, sha256: &str) -> Option<Arc<Summary>> {
        self.lock().get(&Key::of(sha256)).cloned()
    }

    /// Several lookups under one lock (a FETCH of a chunk of messages).
    pub fn get_many<'k>(
        &self,
        sha256s: impl Iterator<Item = &'k str>,
    ) -> Vec<Option<Arc<Summary>>> {
        let keys: Vec<Key> = sha256s.map(Key::of).collect();
        let entries = self.lock();
        keys.iter().map(|key| entries.get(key).cloned()).collect()
    }

    /// Computes the summary of `message` (without holding the lock) and stores it. If another
    /// session stored the same message meanwhile, that summary is kept and returned.
    pub fn insert(&self, sha256: &str, message: &[u8]) -> Arc<Summary> {
        self.insert_summary(sha256, Summary::headers_of(message))
    }

    /// Stores `summary` (read back from the store, or computed), unless another session
    /// stored one for the same message meanwhile: that one is kept and returned.
    pub fn insert_summary(&self, sha256: &str, summary: Summary) -> Arc<Summary> {
        let summary = Arc::new(summary);
        if self.max_entries == 0 {
            return summary;
        }
        let key = Key::of(sha256);
        let mut entries = self.lock();
        if let Some(existing) = entries.get(&key) {
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
        entries.insert(key, summary.clone());
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
    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Arc<Summary>, BuildHasherDefault<KeyHasher>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A cache key: the first 128 bits of the SHA-256, read from its hex form (no string hashing
/// or comparison on the hot path). A key that is not SHA-256 hex is hashed to 128 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key(u128);

impl Key {
    fn of(sha256: &str) -> Key {
        match sha256.get(..32).map(|hex| u128::from_str_radix(hex, 16)) {
            Some(Ok(bits)) => Key(bits),
            _ => {
                let half = |seed: u64| {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    h.write_u64(seed);
                    h.write(sha256.as_bytes());
                    h.finish()
                };
                Key((u128::from(half(1)) << 64) | u128::from(half(2)))
            }
        }
    }
}

/// The key is already uniformly distributed: its low 64 bits are the hash.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 ^= value as u64;
    }
}

/// `ENVELOPE (...)` as imap-codec encodes it, for the summary cache.
fn encode_envelope(envelope: Envelope<'static>) -> (Envelope<'static>, Vec<u8>) {
    let response = Response::Data(Data::Fetch {
        seq: std::num::NonZeroU32::MIN,
        items: Vec1::from(MessageDataItem::Envelope(envelope)),
    });
    let mut bytes = ResponseCodec::default().encode(&response).dump();
    // Take the envelope back out rather than encoding a clone.
    let envelope = match response {
        Response::Data(Data::Fetch { items, .. }) => match items.into_inner().pop() {
            Some(MessageDataItem::Envelope(envelope)) => envelope,
            // Unreachable: the response built above holds exactly this item.
            _ => crate::mime::envelope(b""),
        },
        _ => crate::mime::envelope(b""),
    };
    // "* 1 FETCH (" ... ")\r\n"
    const PREFIX: &[u8] = b"* 1 FETCH (";
    if bytes.starts_with(PREFIX) && bytes.len() >= PREFIX.len() + 3 {
        bytes.truncate(bytes.len() - 3);
        bytes.drain(..PREFIX.len());
    } else {
        bytes.clear();
    }
    (envelope, bytes)
}
