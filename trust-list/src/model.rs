//! The immutable snapshot of a liste blanche and its lookups.
//!
//! Lookups on the SMTP hot path (`is_listed`, `dn_allowed`) allocate nothing when given a
//! domain in the normalised form `Address::domain()` returns.

use std::hash::{Hash, Hasher};

use mssd_certs::DistinguishedName;
use mssd_core::normalize_domain;
use time::OffsetDateTime;

use crate::error::Position;
use crate::fast_hash::{FastMap, FnvHasher};

/// One authorised operator certificate for a domain (one `<Domaine>` element of the list).
#[derive(Clone, Debug)]
pub struct OperatorEntry {
    /// Subject DN of the operator's IGC-Santé server certificate, compared semantically.
    pub dn: DistinguishedName,
    pub description: Option<String>,
    pub responsable_contact: Option<String>,
    pub support_contact: Option<String>,
    /// `<DateMAJ>`, for display.
    pub updated_at: Option<OffsetDateTime>,
}

/// A listed domain and every operator certificate DN allowed for it.
#[derive(Clone, Debug)]
pub struct DomainEntry {
    pub(crate) domain: String,
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

    /// True when `dn` is one of this domain's operator DNs. Domains have a handful of DNs, so a
    /// scan beats hashing the DN.
    pub fn allows(&self, dn: &DistinguishedName) -> bool {
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
    pub(crate) domains: FastMap<String, DomainEntry>,
    /// Domains by hash of an operator DN: candidates, confirmed against the entry on lookup
    /// (so collisions are harmless). Keyed by hash rather than DN to avoid cloning every DN.
    pub(crate) domains_by_dn: FastMap<u64, Vec<String>>,
    pub(crate) report: ParseReport,
    pub(crate) sha256: Option<String>,
}

impl TrustList {
    /// The list before any was loaded: nothing is listed (fail closed).
    pub fn empty() -> TrustList {
        TrustList {
            generated_at: None,
            domains: FastMap::default(),
            domains_by_dn: FastMap::default(),
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

    /// True when `dn` is an operator DN listed for `domain`.
    pub fn dn_allowed(&self, domain: &str, dn: &DistinguishedName) -> bool {
        self.entry(domain).is_some_and(|entry| entry.allows(dn))
    }

    /// Every domain `dn` is listed for, sorted (a null sender is accepted from an operator
    /// listed for any domain).
    pub fn domains_for_dn(&self, dn: &DistinguishedName) -> Vec<String> {
        let Some(candidates) = self.domains_by_dn.get(&dn_key(dn)) else {
            return Vec::new();
        };
        candidates
            .iter()
            .filter(|domain| self.domains.get(*domain).is_some_and(|e| e.allows(dn)))
            .cloned()
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
        self.domains.get(&normalised)
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &DomainEntry> {
        self.domains.values()
    }

    /// Listed domains, sorted.
    pub fn domain_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.domains.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

/// Key of a DN in `domains_by_dn`: a hash of its normalised form (equal DNs, equal keys).
pub(crate) fn dn_key(dn: &DistinguishedName) -> u64 {
    let mut hasher = FnvHasher::default();
    dn.hash(&mut hasher);
    hasher.finish()
}

/// True when normalisation could not change `domain`: lower-case ASCII letters, digits, `-`
/// and `.`, no trailing dot. A miss on such a name is final, without the allocating slow path.
fn is_normalised_spelling(domain: &str) -> bool {
    !domain.ends_with('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}
