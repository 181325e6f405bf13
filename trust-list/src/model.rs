//! The immutable snapshot of a liste blanche and its lookups.
//!
//! Lookups on the SMTP hot path (`is_listed`, `dn_key_allowed`) allocate nothing when given a
//! domain in the normalised form `Address::domain()` returns and the peer's [`DnKey`] (made
//! once per connection). The `&DistinguishedName` lookups make that key on each call.

use std::sync::Arc;

use mssd_certs::DistinguishedName;
use mssd_core::normalize_domain;
use time::OffsetDateTime;

use crate::error::Position;
use crate::fast_hash::FastMap;
use crate::flat_dn::{DnKey, OperatorDn};

/// One authorised operator certificate for a domain (one `<Domaine>` element of the list).
#[derive(Clone, Debug)]
pub struct OperatorEntry {
    /// Subject DN of the operator's IGC-Santé server certificate, compared semantically (on
    /// its canonical form); displayed as the list wrote it.
    pub dn: OperatorDn,
    pub description: Option<String>,
    pub responsable_contact: Option<String>,
    pub support_contact: Option<String>,
    /// `<DateMAJ>`, for display.
    pub updated_at: Option<OffsetDateTime>,
}

/// A listed domain and every operator certificate DN allowed for it.
#[derive(Clone, Debug)]
pub struct DomainEntry {
    /// Shared with the map key and the DN index: one allocation per domain.
    pub(crate) domain: Arc<str>,
    pub(crate) name_as_written: String,
    pub(crate) operators: Vec<OperatorEntry>,
}

impl DomainEntry {
    /// The normalised (lower-case A-label) domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `<Nom>` as the list first wrote it (possibly a U-label), for display.
    pub fn name_as_written(&self) -> &str {
        &self.name_as_written
    }

    /// The operators, in list order, one per distinct DN.
    pub fn operators(&self) -> &[OperatorEntry] {
        &self.operators
    }

    /// True when `dn` is one of this domain's operator DNs. Makes its [`DnKey`]: prefer
    /// [`DomainEntry::allows_key`] when checking one DN more than once.
    pub fn allows(&self, dn: &DistinguishedName) -> bool {
        self.allows_key(&DnKey::new(dn))
    }

    /// True when the DN of `key` is one of this domain's operator DNs. Domains have a handful
    /// of DNs, so a scan beats hashing the DN.
    pub fn allows_key(&self, key: &DnKey) -> bool {
        self.operators.iter().any(|o| o.dn.matches(key))
    }

    /// True when `dn` (the same DN, however spelled) is already one of its operator DNs.
    pub(crate) fn has_operator(&self, dn: &OperatorDn) -> bool {
        self.operators.iter().any(|o| o.dn == *dn)
    }
}

/// A `<Domaine>` left out of the list, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedEntry {
    /// Where its `<Domaine>` starts.
    pub position: Position,
    pub reason: String,
}

/// What parsing kept and left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParseReport {
    /// `<Domaine>` elements read.
    pub elements: usize,
    /// Distinct (domain, DN) pairs kept.
    pub entries: usize,
    /// Elements repeating a (domain, DN) pair already kept; not an error.
    pub duplicates: usize,
    /// Elements skipped as invalid.
    pub skipped: usize,
    /// Details of the first [`ParseReport::MAX_SKIPPED_DETAILS`] skipped elements.
    pub skipped_details: Vec<SkippedEntry>,
}

impl ParseReport {
    /// Detail kept for this many skipped elements at most: enough to act, bounded in memory.
    pub const MAX_SKIPPED_DETAILS: usize = 100;
}

/// An immutable liste blanche: domain → allowed operator DNs.
#[derive(Debug)]
pub struct TrustList {
    pub(crate) generated_at: Option<OffsetDateTime>,
    pub(crate) domains: FastMap<Arc<str>, DomainEntry>,
    /// (hash of an operator DN's canonical form, a domain listing it), sorted: candidates for
    /// [`TrustList::domains_for_dn_key`], confirmed against the entry (so collisions are
    /// harmless). One sorted vector rather than a map of vectors: no allocation per DN.
    pub(crate) domains_by_dn: Vec<(u64, Arc<str>)>,
    pub(crate) report: ParseReport,
    pub(crate) sha256: Option<String>,
}

impl TrustList {
    /// The list before any was loaded: nothing is listed (fail closed).
    pub fn empty() -> TrustList {
        TrustList {
            generated_at: None,
            domains: FastMap::default(),
            domains_by_dn: Vec::new(),
            report: ParseReport::default(),
            sha256: None,
        }
    }

    /// `<DateDeGeneration>`; `None` only for [`TrustList::empty`].
    pub fn generated_at(&self) -> Option<OffsetDateTime> {
        self.generated_at
    }

    /// Hex SHA-256 of the XML this list was parsed from; `None` for [`TrustList::empty`].
    pub fn sha256(&self) -> Option<&str> {
        self.sha256.as_deref()
    }

    /// Number of listed domains.
    pub fn domain_count(&self) -> usize {
        self.domains.len()
    }

    /// Number of distinct (domain, DN) pairs.
    pub fn entry_count(&self) -> usize {
        self.report.entries
    }

    /// True when no domain is listed.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// What parsing kept and skipped.
    pub fn parse_report(&self) -> &ParseReport {
        &self.report
    }

    /// True when `domain` is listed. `domain` is expected normalised (as `Address::domain()`
    /// gives it); another spelling (upper case, U-label, trailing dot) is normalised on a slow
    /// path that allocates.
    pub fn is_listed(&self, domain: &str) -> bool {
        self.entry(domain).is_some()
    }

    /// True when `dn` is an operator DN listed for `domain`. Makes the DN's [`DnKey`] when
    /// the domain is listed: prefer [`TrustList::dn_key_allowed`] with a key made once per peer.
    pub fn dn_allowed(&self, domain: &str, dn: &DistinguishedName) -> bool {
        self.entry(domain).is_some_and(|entry| entry.allows(dn))
    }

    /// True when the DN of `key` is an operator DN listed for `domain`.
    pub fn dn_key_allowed(&self, domain: &str, key: &DnKey) -> bool {
        self.entry(domain)
            .is_some_and(|entry| entry.allows_key(key))
    }

    /// Every domain `dn` is listed for, sorted (a null sender is accepted from an operator
    /// listed for any domain).
    pub fn domains_for_dn(&self, dn: &DistinguishedName) -> Vec<String> {
        self.domains_for_dn_key(&DnKey::new(dn))
    }

    /// Every domain the DN of `key` is listed for, sorted.
    pub fn domains_for_dn_key(&self, key: &DnKey) -> Vec<String> {
        let hash = key.hash();
        let first = self.domains_by_dn.partition_point(|(h, _)| *h < hash);
        // Sorted by (hash, domain): the candidates come out sorted by domain.
        self.domains_by_dn[first..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .filter(|(_, domain)| self.domains.get(domain).is_some_and(|e| e.allows_key(key)))
            .map(|(_, domain)| domain.to_string())
            .collect()
    }

    /// The entry of `domain`, for display.
    pub fn entry(&self, domain: &str) -> Option<&DomainEntry> {
        if let Some(entry) = self.domains.get(domain) {
            return Some(entry);
        }
        if is_normalised_spelling(domain) {
            return None;
        }
        let normalised = normalize_domain(domain).ok()?;
        self.domains.get(normalised.as_str())
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &DomainEntry> {
        self.domains.values()
    }

    /// Listed domains, sorted.
    pub fn domain_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.domains.keys().map(|name| &**name).collect();
        names.sort_unstable();
        names
    }
}

/// True when normalisation could not change `domain`: lower-case ASCII letters, digits, `-`
/// and `.`, no trailing dot. A miss on such a name is final, without the allocating slow path.
fn is_normalised_spelling(domain: &str) -> bool {
    !domain.ends_with('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}
