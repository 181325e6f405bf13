//! Fast non-cryptographic hashers for the snapshot: FNV-1a (64-bit) for the DN index, a
//! word-at-a-time hasher for the maps. Their keys come from the ANS list, not from peers (peers
//! only look up), so hash flooding is not a concern, and SipHash would cost a large share of an
//! SMTP-path lookup.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over the bytes written.
pub(crate) struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(OFFSET_BASIS)
    }
}

impl Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Multiplier of [`WordHasher`] (rustc-hash 2's).
const WORD_MULTIPLIER: u64 = 0xf135_7aea_2e62_a9c5;

/// A word-at-a-time hasher for the snapshot's maps (rustc-hash 2's multiply-add mixing):
/// FNV-1a's byte loop was a visible share of a refresh, which hashes every domain name
/// several times. Same threat model as FNV-1a: the keys come from the ANS list.
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = self.0.wrapping_add(word).wrapping_mul(WORD_MULTIPLIER);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(word);
            self.add(u64::from_le_bytes(buf));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            // The length keeps "ab" and "ab\0" apart.
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // The multiply leaves the low bits weakest; hashbrown indexes buckets by them.
        self.0.rotate_left(26)
    }
}

/// A `HashMap` using [`WordHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

#[cfg(test)]
mod tests {
    use std::hash::Hash;

    use super::*;

    #[test]
    fn word_hasher_separates_close_keys() {
        let hash = |s: &str| {
            let mut h = WordHasher::default();
            s.hash(&mut h);
            h.finish()
        };
        let keys = [
            "",
            "a",
            "ab",
            "ab\0",
            "a.fr",
            "b.fr",
            "etab-1.mssante.fr",
            "etab-2.mssante.fr",
        ];
        let mut hashes: Vec<u64> = keys.iter().map(|k| hash(k)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len());
        // Equal keys, equal hashes.
        assert_eq!(
            hash("etab-1.mssante.fr"),
            hash(&String::from("etab-1.mssante.fr"))
        );
    }

    #[test]
    fn fnv1a_reference_values() {
        // Published FNV-1a 64-bit test vectors.
        let cases: [(&[u8], u64); 3] = [
            (b"", 0xcbf2_9ce4_8422_2325),
            (b"a", 0xaf63_dc4c_8601_ec8c),
            (b"foobar", 0x8594_4171_f739_67e8),
        ];
        for (input, expected) in cases {
            let mut h = FnvHasher::default();
            h.write(input);
            assert_eq!(h.finish(), expected, "input {input:?}");
        }
    }
}
