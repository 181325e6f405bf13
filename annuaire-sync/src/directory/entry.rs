//! One mailbox of the lookup index, held compactly: all text in one allocation.

use std::collections::HashSet;
use std::sync::Arc;

use mssd_core::MailboxKind;
use mssd_store::DirectoryMailbox;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Fields of the person and mailbox, in `DirectoryEntry::own`.
#[derive(Clone, Copy)]
enum Own {
    Address,
    IdNatPs,
    Civility,
    LastName,
    FirstName,
}

/// Fields of the structure and role, in `DirectoryEntry::site`, shared between the many
/// mailboxes of one structure.
#[derive(Clone, Copy)]
enum Site {
    StructureId,
    StructureName,
    Service,
    Profession,
    Specialty,
    PostalCode,
    City,
}

const OWN: usize = 5;
const SITE: usize = 7;

/// Shares equal `site` texts while an index is built.
pub(crate) type Interner = HashSet<Arc<str>>;

/// A directory mailbox for lookups: two texts (its own fields, and the structure fields
/// shared with other mailboxes of the same structure) with field end offsets, so that the
/// whole national directory (about 540,000 mailboxes) stays well under 300 MB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry {
    own: Box<str>,
    own_ends: [u16; OWN],
    site: Arc<str>,
    site_ends: [u16; SITE],
    kind: MailboxKind,
    red_listed: bool,
}

/// Concatenates `values`, recording where each ends. Lines are bounded to 64 KiB, so the
/// offsets fit in u16; a longer text is cut at the last field that fits.
fn pack<const N: usize>(values: [Option<&str>; N]) -> (String, [u16; N]) {
    let mut text = String::with_capacity(values.iter().flatten().map(|v| v.len()).sum());
    let mut ends = [0u16; N];
    for (end, value) in ends.iter_mut().zip(values) {
        let value = value.unwrap_or("");
        if text.len() + value.len() <= usize::from(u16::MAX) {
            text.push_str(value);
        }
        *end = u16::try_from(text.len()).unwrap_or(u16::MAX);
    }
    (text, ends)
}

fn slice<'a>(text: &'a str, ends: &[u16], i: usize) -> Option<&'a str> {
    let start = if i == 0 { 0 } else { usize::from(ends[i - 1]) };
    let end = usize::from(*ends.get(i)?);
    text.get(start..end).filter(|s| !s.is_empty())
}

impl DirectoryEntry {
    pub fn new(m: &DirectoryMailbox) -> DirectoryEntry {
        DirectoryEntry::interned(m, &mut Interner::new())
    }

    pub(crate) fn interned(m: &DirectoryMailbox, interner: &mut Interner) -> DirectoryEntry {
        let (own, own_ends) = pack([
            Some(m.address.as_str()),
            m.id_nat_ps.as_deref(),
            m.civility.as_deref(),
            m.last_name.as_deref(),
            m.first_name.as_deref(),
        ]);
        let (site, site_ends) = pack([
            m.structure_id.as_deref(),
            m.structure_name.as_deref(),
            m.service.as_deref(),
            m.profession.as_deref(),
            m.specialty.as_deref(),
            m.postal_code.as_deref(),
            m.city.as_deref(),
        ]);
        let site = match interner.get(site.as_str()) {
            Some(shared) => Arc::clone(shared),
            None => {
                let shared: Arc<str> = Arc::from(site);
                interner.insert(Arc::clone(&shared));
                shared
            }
        };
        DirectoryEntry {
            own: own.into_boxed_str(),
            own_ends,
            site,
            site_ends,
            kind: m.kind,
            red_listed: m.red_listed,
        }
    }

    /// Heap bytes of the entry's own text (the shared site text is counted once by the index).
    pub(crate) fn own_heap_bytes(&self) -> usize {
        self.own.len()
    }

    pub(crate) fn site_text(&self) -> &Arc<str> {
        &self.site
    }

    fn own(&self, field: Own) -> Option<&str> {
        slice(&self.own, &self.own_ends, field as usize)
    }

    fn site(&self, field: Site) -> Option<&str> {
        slice(&self.site, &self.site_ends, field as usize)
    }

    pub fn address(&self) -> &str {
        self.own(Own::Address).unwrap_or("")
    }
    pub fn kind(&self) -> MailboxKind {
        self.kind
    }
    pub fn red_listed(&self) -> bool {
        self.red_listed
    }
    pub fn id_nat_ps(&self) -> Option<&str> {
        self.own(Own::IdNatPs)
    }
    pub fn structure_id(&self) -> Option<&str> {
        self.site(Site::StructureId)
    }
    pub fn structure_name(&self) -> Option<&str> {
        self.site(Site::StructureName)
    }
    pub fn service(&self) -> Option<&str> {
        self.site(Site::Service)
    }
    pub fn civility(&self) -> Option<&str> {
        self.own(Own::Civility)
    }
    pub fn last_name(&self) -> Option<&str> {
        self.own(Own::LastName)
    }
    pub fn first_name(&self) -> Option<&str> {
        self.own(Own::FirstName)
    }
    pub fn profession(&self) -> Option<&str> {
        self.site(Site::Profession)
    }
    pub fn specialty(&self) -> Option<&str> {
        self.site(Site::Specialty)
    }
    pub fn postal_code(&self) -> Option<&str> {
        self.site(Site::PostalCode)
    }
    pub fn city(&self) -> Option<&str> {
        self.site(Site::City)
    }
}

/// The JSON of `/annuaire/search` and `mssd annuaire lookup --json`: absent fields omitted.
impl Serialize for DirectoryEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = [
            ("id_nat_ps", self.id_nat_ps()),
            ("civility", self.civility()),
            ("last_name", self.last_name()),
            ("first_name", self.first_name()),
            ("profession", self.profession()),
            ("specialty", self.specialty()),
            ("structure_id", self.structure_id()),
            ("structure_name", self.structure_name()),
            ("service", self.service()),
            ("postal_code", self.postal_code()),
            ("city", self.city()),
        ];
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("address", self.address())?;
        map.serialize_entry("kind", self.kind.as_str())?;
        for (name, value) in fields {
            if let Some(value) = value {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}
