//! Operator DNs stored flat: the text the list wrote and the canonical form
//! [`DistinguishedName::canonical`] gives, in one allocation.
//!
//! Why: a parsed [`DistinguishedName`] is some thirty small allocations, and building one per
//! entry was a quarter of a 10,000-entry parse (then as much again to hash and free them);
//! comparing two of them walks a dozen heap strings, which made the diff slow too. Two DNs are semantically equal exactly when their
//! canonical strings are equal (the certs crate documents it), so the list keeps only that
//! string for comparisons, and a peer's DN is turned into a [`DnKey`] once per connection.
//!
//! The canonical form of the DNs the list actually contains (known attribute types, plain
//! values, no escapes or quotes) is computed here in one pass without building a
//! [`DistinguishedName`]; anything else goes through `DistinguishedName::parse`, so the result
//! (and any error) is always exactly the certs crate's. Tests compare both on tricky inputs, and
//! debug builds check every fast result against the certs crate.

use std::fmt;
use std::hash::{Hash, Hasher};

use mssd_certs::DistinguishedName;

use crate::fast_hash::FnvHasher;

/// Attribute types the fast path accepts: the certs crate's canonical short names, which map
/// to themselves whatever their ASCII case. Aliases (`commonName`, `S`) and OIDs go the slow
/// way. A test checks each against the certs crate.
const FAST_TYPES: [&str; 11] = [
    "C",
    "CN",
    "DC",
    "E",
    "L",
    "O",
    "OU",
    "SERIALNUMBER",
    "ST",
    "STREET",
    "UID",
];

/// The flat canonical form of a peer's DN: compute it once per connection and look it up with
/// the `*_key` lookups, which then compare a hash and bytes and allocate nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DnKey {
    canonical: Box<str>,
    hash: u64,
}

impl DnKey {
    pub fn new(dn: &DistinguishedName) -> DnKey {
        let canonical = dn.canonical();
        DnKey {
            hash: canonical_hash(&canonical),
            canonical: canonical.into_boxed_str(),
        }
    }

    /// The canonical text, as [`DistinguishedName::canonical`] gives it.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }
}

impl From<&DistinguishedName> for DnKey {
    fn from(dn: &DistinguishedName) -> DnKey {
        DnKey::new(dn)
    }
}

/// An operator DN of the list: as written (for display) and canonical (for comparisons).
/// Equality and hashing are on the canonical form, i.e. semantic DN equality.
#[derive(Clone)]
pub struct OperatorDn {
    /// The text as written, then the canonical form.
    text: Box<str>,
    /// Where the canonical form starts in `text`.
    split: usize,
    /// [`canonical_hash`] of the canonical form: comparisons and the DN index read it without
    /// touching the text (a cache miss each, over a whole list).
    hash: u64,
}

impl OperatorDn {
    /// Parses `text` (RFC 4514). The error is the certs crate's, as `DistinguishedName::parse`
    /// gives it.
    pub fn parse(text: &str) -> Result<OperatorDn, mssd_certs::Error> {
        Self::parse_with(text, &mut Scratch::default())
    }

    /// [`OperatorDn::parse`] reusing `scratch` between calls (one list, many DNs).
    pub(crate) fn parse_with(
        text: &str,
        scratch: &mut Scratch,
    ) -> Result<OperatorDn, mssd_certs::Error> {
        let mut out = String::new();
        if fast_canonical(text, scratch) {
            debug_assert_eq!(
                DistinguishedName::parse(text).map(|dn| dn.canonical()).ok(),
                Some(scratch.out.clone()),
                "fast canonical form of {text:?}"
            );
            out.reserve_exact(text.len() + scratch.out.len());
            out.push_str(text);
            out.push_str(&scratch.out);
        } else {
            let canonical = DistinguishedName::parse(text)?.canonical();
            out.reserve_exact(text.len() + canonical.len());
            out.push_str(text);
            out.push_str(&canonical);
        }
        let hash = out.get(text.len()..).map_or(0, canonical_hash);
        Ok(OperatorDn {
            text: out.into_boxed_str(),
            split: text.len(),
            hash,
        })
    }

    /// The DN as the list wrote it.
    pub fn as_written(&self) -> &str {
        &self.text[..self.split]
    }

    /// The canonical form ([`DistinguishedName::canonical`]): equal exactly for equal DNs.
    pub fn canonical(&self) -> &str {
        &self.text[self.split..]
    }

    /// True when this is the DN `key` was made from (semantically).
    pub fn matches(&self, key: &DnKey) -> bool {
        self.hash == key.hash && self.canonical() == key.as_str()
    }

    /// [`canonical_hash`] of the canonical form.
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// The structured DN (attributes in the order written); parses the text again.
    pub fn to_distinguished_name(&self) -> Result<DistinguishedName, mssd_certs::Error> {
        DistinguishedName::parse(self.as_written())
    }
}

impl PartialEq for OperatorDn {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.canonical() == other.canonical()
    }
}

impl Eq for OperatorDn {}

impl Hash for OperatorDn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal DNs have equal canonical forms, hence equal hashes.
        state.write_u64(self.hash);
    }
}

/// The DN as the list wrote it.
impl fmt::Display for OperatorDn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_written())
    }
}

impl fmt::Debug for OperatorDn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorDn")
            .field("as_written", &self.as_written())
            .field("canonical", &self.canonical())
            .finish()
    }
}

/// Hash of a canonical DN for the snapshot's DN index (equal DNs, equal hashes).
fn canonical_hash(canonical: &str) -> u64 {
    let mut hasher = FnvHasher::default();
    hasher.write(canonical.as_bytes());
    hasher.finish()
}

/// Buffers reused from one DN to the next while parsing a list.
#[derive(Default)]
pub(crate) struct Scratch {
    /// (attribute type, range of its normalised value in `values`).
    pairs: Vec<(&'static str, std::ops::Range<usize>)>,
    values: String,
    /// The canonical form of the last DN the fast path accepted.
    out: String,
}

/// Writes the canonical form of `text` to `scratch.out` and returns true when `text` is in the
/// simple subset handled here; false (nothing decided) sends it to the certs crate.
///
/// Mirrors `mssd_certs` `dn_parse::parse_rdns` for that subset: spaces and tabs skipped around
/// types and separators, the type trimmed (Unicode), values ending at `,` or `+`; then
/// `DistinguishedName::from_rdns` and `canonical`: values with whitespace runs collapsed,
/// trimmed and lower-cased, (type, value) pairs sorted, joined by `,`. An empty value is an
/// error there, so it is left to the certs crate to report.
fn fast_canonical(text: &str, scratch: &mut Scratch) -> bool {
    scratch.pairs.clear();
    scratch.values.clear();
    scratch.out.clear();
    let bytes = text.as_bytes();
    let mut pos = skip_spaces(bytes, 0);
    if pos == bytes.len() {
        return false;
    }
    loop {
        pos = skip_spaces(bytes, pos);
        let type_start = pos;
        while pos < bytes.len() && !matches!(bytes[pos], b'=' | b',' | b'+') {
            pos += 1;
        }
        if bytes.get(pos) != Some(&b'=') {
            return false;
        }
        let Some(kind) = text.get(type_start..pos).and_then(|t| fast_type(t.trim())) else {
            return false;
        };
        pos = skip_spaces(bytes, pos + 1);
        // Quoted and `#`-hex values are left to the certs crate.
        if matches!(bytes.get(pos), Some(b'"' | b'#')) {
            return false;
        }
        let Some(end) = push_value(text, pos, &mut scratch.values) else {
            return false;
        };
        scratch.pairs.push((kind, end.1..scratch.values.len()));
        pos = end.0;
        // At the end, or after a `,` or `+` (the canonical form ignores RDN grouping).
        if pos == bytes.len() {
            break;
        }
        if skip_spaces(bytes, pos + 1) == bytes.len() {
            return false;
        }
        pos += 1;
    }
    let values = &scratch.values;
    let value = |range: &std::ops::Range<usize>| &values[range.clone()];
    scratch
        .pairs
        .sort_unstable_by(|(ka, va), (kb, vb)| (*ka, value(va)).cmp(&(*kb, value(vb))));
    for (i, (kind, range)) in scratch.pairs.iter().enumerate() {
        if i > 0 {
            scratch.out.push(',');
        }
        scratch.out.push_str(kind);
        scratch.out.push('=');
        scratch.out.push_str(value(range));
    }
    true
}

/// Reads the plain value starting at `start` (up to `,`, `+` or the end) and appends its
/// normalised form to `values` (whitespace runs collapsed to one space, trimmed, lower-cased:
/// the certs crate's caseIgnoreMatch preparation). Returns (where the value ends, where its
/// normalised form starts in `values`), or `None` for what the fast path leaves alone: escapes,
/// quotes, `;` (errors there), characters the canonical form escapes, empty values.
fn push_value(text: &str, start: usize, values: &mut String) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let from = values.len();
    let mut pos = start;
    let mut word: Option<usize> = None;
    let mut ascii = true;
    // One pass, copying whole words: the whitespace set is `char::is_whitespace` on ASCII, as
    // `split_whitespace` uses (vertical tab and form feed included).
    while let Some(&b) = bytes.get(pos) {
        match b {
            b',' | b'+' => break,
            b'\\' | b'"' | b';' | b'<' | b'>' | 0 => return None,
            b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' => {
                if let Some(word_start) = word.take() {
                    push_word(values, from, text.get(word_start..pos)?);
                }
            }
            _ => {
                ascii &= b.is_ascii();
                word.get_or_insert(pos);
            }
        }
        pos += 1;
    }
    if let Some(word_start) = word {
        push_word(values, from, text.get(word_start..pos)?);
    }
    if !ascii {
        // Exactly the certs crate's expression: `str::to_lowercase` lower-cases a final sigma
        // by context, which a per-character mapping would not.
        values.truncate(from);
        let normalised = text
            .get(start..pos)?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if normalised.contains(['"', '+', ',', ';', '<', '>', '\\', '\0']) {
            return None;
        }
        values.push_str(&normalised);
    }
    // Empty: an error in the certs crate. A leading `#` is escaped in the canonical form.
    if values.as_bytes().get(from).is_none_or(|&b| b == b'#') {
        return None;
    }
    Some((pos, from))
}

/// Appends one word of a value lower-cased (ASCII), after a space unless it is the first.
fn push_word(values: &mut String, from: usize, word: &str) {
    if values.len() > from {
        values.push(' ');
    }
    let start = values.len();
    values.push_str(word);
    if let Some(pushed) = values.get_mut(start..) {
        pushed.make_ascii_lowercase();
    }
}

/// The certs crate's `dn_parse` spaces: space and tab only.
fn skip_spaces(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
        pos += 1;
    }
    pos
}

/// The canonical name of `raw` when it is one of [`FAST_TYPES`] in any ASCII case.
fn fast_type(raw: &str) -> Option<&'static str> {
    FAST_TYPES
        .into_iter()
        .find(|kind| kind.eq_ignore_ascii_case(raw))
}

#[cfg(test)]
#[path = "flat_dn_tests.rs"]
mod tests;
