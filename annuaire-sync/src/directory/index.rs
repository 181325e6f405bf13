//! The lookup index: sorted permutations of the entries by address, idNat_PS, structure id,
//! folded name and folded structure name; binary searches answer every query.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use mssd_core::Address;
use mssd_store::{DirectoryMailbox, DirectorySet, DirectoryStore};

use super::entry::{DirectoryEntry, Interner};
use super::fold::fold;
use crate::error::Result;

/// Mailboxes read from the store per page when loading.
const LOAD_PAGE: usize = 10_000;

/// The national directory of mailboxes, in memory, immutable once built.
#[derive(Debug, Default)]
pub struct Directory {
    entries: Vec<DirectoryEntry>,
    by_address: Vec<u32>,
    by_id_nat: Vec<u32>,
    by_structure_id: Vec<u32>,
    by_name: Vec<u32>,
    by_structure_name: Vec<u32>,
}

/// How a query is read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum QueryKind {
    Address(String),
    Identifier(Vec<String>, Vec<String>),
    Text(String),
}

impl Directory {
    /// Builds the index from the directory in force in the store.
    pub async fn load(store: &dyn DirectoryStore) -> Result<Directory> {
        // Sized from the status so the vector never reallocates (a doubling would briefly
        // hold two copies).
        let expected = store
            .directory_status()
            .await?
            .iter()
            .find(|s| s.set == DirectorySet::Mailboxes)
            .map_or(0, |s| usize::try_from(s.entries).unwrap_or(0));
        let mut entries = Vec::with_capacity(expected);
        let mut interner = Interner::new();
        let mut after = None;
        loop {
            let page = store.directory_mailboxes(after.clone(), LOAD_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.address.canonical());
            let full = page.len() == LOAD_PAGE;
            entries.extend(
                page.iter()
                    .map(|m| DirectoryEntry::interned(m, &mut interner)),
            );
            if !full {
                break;
            }
        }
        Ok(Directory::from_entries(entries))
    }

    pub fn from_mailboxes<'a>(
        mailboxes: impl IntoIterator<Item = &'a DirectoryMailbox>,
    ) -> Directory {
        let mut interner = Interner::new();
        Directory::from_entries(
            mailboxes
                .into_iter()
                .map(|m| DirectoryEntry::interned(m, &mut interner))
                .collect(),
        )
    }

    fn from_entries(mut entries: Vec<DirectoryEntry>) -> Directory {
        entries.shrink_to_fit();
        let sorted = |entries: &[DirectoryEntry],
                      key: &dyn Fn(&DirectoryEntry) -> Option<String>| {
            let mut keyed: Vec<(String, u32)> = entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| Some((key(e)?, u32::try_from(i).ok()?)))
                .filter(|(k, _)| !k.is_empty())
                .collect();
            keyed.sort_unstable();
            let mut ids: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
            ids.shrink_to_fit();
            ids
        };
        // Plain keys sort by comparison without allocating; folded keys are computed once.
        let by_plain = |entries: &[DirectoryEntry], key: fn(&DirectoryEntry) -> Option<&str>| {
            let mut ids: Vec<u32> = (0..entries.len())
                .filter(|&i| key(&entries[i]).is_some())
                .filter_map(|i| u32::try_from(i).ok())
                .collect();
            ids.sort_unstable_by(|a, b| {
                key(&entries[*a as usize]).cmp(&key(&entries[*b as usize]))
            });
            ids.shrink_to_fit();
            ids
        };
        let by_address = sorted(&entries, &|e| Some(address_key(e.address())));
        let by_id_nat = by_plain(&entries, DirectoryEntry::id_nat_ps);
        let by_structure_id = by_plain(&entries, DirectoryEntry::structure_id);
        let by_name = sorted(&entries, &|e| e.last_name().map(|_| name_key(e)));
        let by_structure_name = sorted(&entries, &|e| e.structure_name().map(fold));
        Directory {
            entries,
            by_address,
            by_id_nat,
            by_structure_id,
            by_name,
            by_structure_name,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// An estimate of the memory the index holds (entries, texts, sorted permutations), for
    /// `/metrics` and the benchmark.
    pub fn memory_bytes(&self) -> usize {
        let mut sites = HashSet::new();
        let site_bytes: usize = self
            .entries
            .iter()
            .filter(|e| sites.insert(Arc::as_ptr(e.site_text()) as *const u8 as usize))
            .map(|e| e.site_text().len())
            .sum();
        let own: usize = self
            .entries
            .iter()
            .map(DirectoryEntry::own_heap_bytes)
            .sum();
        let permutations = self.by_address.len()
            + self.by_id_nat.len()
            + self.by_structure_id.len()
            + self.by_name.len()
            + self.by_structure_name.len();
        self.entries.capacity() * std::mem::size_of::<DirectoryEntry>()
            + own
            + site_bytes
            + permutations * std::mem::size_of::<u32>()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry for `address`, red-listed or not: for routing decisions, never for clients.
    pub fn by_address(&self, address: &Address) -> Option<&DirectoryEntry> {
        let key = address.canonical();
        let range = self.equal_range(&self.by_address, &key, |e| address_key(e.address()));
        self.by_address
            .get(range)
            .and_then(|ids| ids.first())
            .and_then(|id| self.entries.get(*id as usize))
    }

    /// Whether the national directory lists `address` (red-listed entries included).
    pub fn knows(&self, address: &Address) -> bool {
        self.by_address(address).is_some()
    }

    /// Client-facing search: an address, an RPPS / ADELI / idNat_PS, a structure identifier
    /// (FINESS, SIREN, SIRET, idNat_Struct), or a name or structure-name prefix
    /// (case and accents ignored). Red-listed entries are never returned.
    pub fn lookup<'d>(&'d self, query: &str, limit: usize) -> Vec<&'d DirectoryEntry> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut take = |index: &[u32], range: Range<usize>, out: &mut Vec<&'d DirectoryEntry>| {
            for &id in index.get(range).unwrap_or_default() {
                if out.len() >= limit {
                    return;
                }
                let Some(entry) = self.entries.get(id as usize) else {
                    continue;
                };
                if !entry.red_listed() && seen.insert(id) {
                    out.push(entry);
                }
            }
        };
        match classify(query) {
            QueryKind::Address(key) => {
                let range = self.equal_range(&self.by_address, &key, |e| address_key(e.address()));
                take(&self.by_address, range, &mut out);
            }
            QueryKind::Identifier(people, structures) => {
                for id in &people {
                    let range = self.equal_range(&self.by_id_nat, id, |e| {
                        e.id_nat_ps().unwrap_or("").to_owned()
                    });
                    take(&self.by_id_nat, range, &mut out);
                }
                for id in &structures {
                    let range = self.equal_range(&self.by_structure_id, id, |e| {
                        e.structure_id().unwrap_or("").to_owned()
                    });
                    take(&self.by_structure_id, range, &mut out);
                }
            }
            QueryKind::Text(prefix) if !prefix.is_empty() => {
                let range = self.prefix_range(&self.by_name, &prefix, name_key);
                take(&self.by_name, range, &mut out);
                let range = self.prefix_range(&self.by_structure_name, &prefix, |e| {
                    fold(e.structure_name().unwrap_or(""))
                });
                take(&self.by_structure_name, range, &mut out);
            }
            QueryKind::Text(_) => {}
        }
        out
    }

    /// Positions in `index` whose key equals `key`.
    fn equal_range(
        &self,
        index: &[u32],
        key: &str,
        key_of: impl Fn(&DirectoryEntry) -> String,
    ) -> Range<usize> {
        let entry_key = |id: &u32| {
            self.entries
                .get(*id as usize)
                .map(&key_of)
                .unwrap_or_default()
        };
        let start = index.partition_point(|id| entry_key(id).as_str() < key);
        let end = index.partition_point(|id| entry_key(id).as_str() <= key);
        start..end.max(start)
    }

    /// Positions in `index` whose key starts with `prefix` (they are contiguous).
    fn prefix_range(
        &self,
        index: &[u32],
        prefix: &str,
        key_of: impl Fn(&DirectoryEntry) -> String,
    ) -> Range<usize> {
        let entry_key = |id: &u32| {
            self.entries
                .get(*id as usize)
                .map(&key_of)
                .unwrap_or_default()
        };
        let start = index.partition_point(|id| entry_key(id).as_str() < prefix);
        let end = index.partition_point(|id| {
            let k = entry_key(id);
            k.as_str() < prefix || k.starts_with(prefix)
        });
        start..end.max(start)
    }
}

/// Canonical address: local part lower-cased (the domain already is).
fn address_key(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            format!("{}@{}", local.to_lowercase(), domain.to_ascii_lowercase())
        }
        None => address.to_lowercase(),
    }
}

/// "last first", folded.
fn name_key(e: &DirectoryEntry) -> String {
    fold(&format!(
        "{} {}",
        e.last_name().unwrap_or(""),
        e.first_name().unwrap_or("")
    ))
}

/// Reads a query as an address, identifiers to try, or a text prefix.
pub(crate) fn classify(query: &str) -> QueryKind {
    let q = query.trim();
    if q.contains('@') {
        return QueryKind::Address(
            Address::parse(q)
                .map(|a| a.canonical())
                .unwrap_or_else(|_| address_key(q)),
        );
    }
    let identifier = q.len() >= 8
        && q.chars().all(|c| c.is_ascii_alphanumeric())
        && q.chars().filter(|c| c.is_ascii_digit()).count() >= 7;
    if identifier {
        let digits = q.chars().all(|c| c.is_ascii_digit());
        let mut people = vec![q.to_owned()];
        let mut structures = vec![q.to_owned()];
        match (digits, q.len()) {
            // RPPS; a bare 9-digit number is an ADELI, a FINESS or a SIREN.
            (true, 11) => people.push(format!("8{q}")),
            (_, 9) => {
                if digits {
                    people.push(format!("0{q}"));
                    structures.push(format!("2{q}"));
                }
                structures.push(format!("1{q}"));
            }
            (true, 14) => structures.push(format!("3{q}")),
            _ => {}
        }
        return QueryKind::Identifier(people, structures);
    }
    QueryKind::Text(fold(q))
}
