//! The local copy of the operator's LDAP: entries by address, ORG groups, and where the
//! last incremental sync stopped. Persisted in the store so an LDAP outage (or a restart
//! during one) keeps the last good data.

use std::collections::{BTreeMap, HashMap};

use mssd_core::Address;
use mssd_store::Store;
use serde::{Deserialize, Serialize};

use super::entry::{MirrorEntry, normalize_dn};
use crate::error::{Error, Result};

/// Store document holding the last good mirror.
pub const MIRROR_DOCUMENT: &str = "annuaire/ldap-mirror.json";

/// Members of an ORG mailbox, from one LDAP group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorGroup {
    pub dn: String,
    /// The ORG mailbox the group stands for.
    pub mailbox: Address,
    /// Addresses of the members found in the mirror, sorted, without duplicates.
    pub members: Vec<Address>,
}

/// A group as read from LDAP, before its DNs are resolved against the entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawGroup {
    pub dn: String,
    /// Values of the mailbox attribute: an address, or the DN of the ORG entry.
    pub mailbox_values: Vec<String>,
    pub member_dns: Vec<String>,
}

/// The mirrored directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mirror {
    /// The LDAP URL it came from.
    pub source: String,
    /// Unix seconds of the last successful sync (full or incremental).
    pub synced_at: i64,
    /// Unix seconds of the last successful full sync (the one that sees deletions).
    pub full_synced_at: i64,
    /// Highest `modifyTimestamp` seen (server clock): the next incremental sync asks for
    /// `(modifyTimestamp>=high_water)`. `>=` re-reads entries of that same second, which
    /// costs little and misses nothing.
    pub high_water: Option<String>,
    /// Entries by canonical address.
    pub entries: BTreeMap<String, MirrorEntry>,
    pub groups: Vec<MirrorGroup>,
}

impl Mirror {
    /// Builds the entry map; of two entries with the same address, the one with the
    /// smaller DN wins (deterministic), the other's DN is returned.
    pub fn index(entries: Vec<MirrorEntry>) -> (BTreeMap<String, MirrorEntry>, Vec<String>) {
        let mut map: BTreeMap<String, MirrorEntry> = BTreeMap::new();
        let mut duplicates = Vec::new();
        for entry in entries {
            let key = entry.mail.canonical();
            match map.get(&key) {
                Some(kept) if normalize_dn(&kept.dn) <= normalize_dn(&entry.dn) => {
                    duplicates.push(entry.dn);
                }
                _ => {
                    if let Some(replaced) = map.insert(key, entry) {
                        duplicates.push(replaced.dn);
                    }
                }
            }
        }
        (map, duplicates)
    }

    /// The entry for `address`, if mirrored.
    pub fn get(&self, address: &Address) -> Option<&MirrorEntry> {
        self.entries.get(&address.canonical())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Applies entries changed since the last sync: an entry replaces the one with the same
    /// DN (its address may have changed) and the one with the same address.
    pub fn merge_changed(&mut self, changed: Vec<MirrorEntry>) {
        let by_dn: HashMap<String, String> = self
            .entries
            .iter()
            .map(|(key, e)| (normalize_dn(&e.dn), key.clone()))
            .collect();
        for entry in changed {
            if let Some(old_key) = by_dn.get(&normalize_dn(&entry.dn)) {
                self.entries.remove(old_key);
            }
            self.entries.insert(entry.mail.canonical(), entry);
        }
    }

    /// The highest `modifyTimestamp` of the entries (GeneralizedTime in one format sorts
    /// as text).
    pub fn max_modified(&self) -> Option<String> {
        self.entries
            .values()
            .filter_map(|e| e.modified.clone())
            .max()
    }

    /// Resolves raw groups against the entries and records on each entry the ORG mailboxes
    /// it belongs to. Returns the number of member DNs not found among the entries.
    pub fn set_groups(&mut self, raw: Vec<RawGroup>) -> usize {
        let by_dn: HashMap<String, Address> = self
            .entries
            .values()
            .map(|e| (normalize_dn(&e.dn), e.mail.clone()))
            .collect();
        let mut unresolved = 0;
        let mut groups = Vec::new();
        for group in raw {
            let mailbox = group.mailbox_values.iter().find_map(|value| {
                if value.contains('@') && !value.contains('=') {
                    Address::parse(value.trim()).ok()
                } else {
                    by_dn.get(&normalize_dn(value)).cloned()
                }
            });
            let Some(mailbox) = mailbox else {
                tracing::warn!(group = %group.dn, "LDAP group names no mailbox we can resolve; ignored");
                continue;
            };
            let mut members: Vec<Address> = Vec::new();
            for dn in &group.member_dns {
                match by_dn.get(&normalize_dn(dn)) {
                    Some(mail) => members.push(mail.clone()),
                    None => unresolved += 1,
                }
            }
            members.sort();
            members.dedup();
            groups.push(MirrorGroup {
                dn: group.dn,
                mailbox,
                members,
            });
        }
        groups.sort_by(|a, b| a.mailbox.cmp(&b.mailbox));
        for entry in self.entries.values_mut() {
            entry.groups = groups
                .iter()
                .filter(|g| g.members.contains(&entry.mail))
                .map(|g| g.mailbox.clone())
                .collect();
        }
        self.groups = groups;
        unresolved
    }

    /// The last good mirror, if one was saved.
    pub async fn load(store: &dyn Store) -> Result<Option<Mirror>> {
        let Some(bytes) = store.document(MIRROR_DOCUMENT).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::LdapMirror(format!("{MIRROR_DOCUMENT} cannot be read: {e}")))
    }

    /// Replaces the saved mirror (one store write: readers see the old or the new one).
    pub async fn save(&self, store: &dyn Store) -> Result<()> {
        let bytes = serde_json::to_vec(self)
            .map_err(|e| Error::LdapMirror(format!("cannot serialise the mirror: {e}")))?;
        store.put_document(MIRROR_DOCUMENT, bytes).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, mail: &str, modified: Option<&str>) -> MirrorEntry {
        MirrorEntry {
            dn: dn.into(),
            mail: Address::parse(mail).unwrap(),
            cn: None,
            sn: None,
            given_name: None,
            id_nat: None,
            kind: Some(mssd_core::MailboxKind::Per),
            groups: vec![],
            modified: modified.map(str::to_owned),
        }
    }

    #[test]
    fn index_keeps_the_smaller_dn_of_duplicates() {
        let (map, dups) = Mirror::index(vec![
            entry("uid=b,dc=t", "x@h.test", None),
            entry("uid=a,dc=t", "X@h.test", None),
            entry("uid=c,dc=t", "y@h.test", None),
        ]);
        assert_eq!(map.len(), 2);
        assert_eq!(map["x@h.test"].dn, "uid=a,dc=t");
        assert_eq!(dups, ["uid=b,dc=t"]);
    }

    #[test]
    fn merge_changed_follows_a_changed_address() {
        let (entries, _) = Mirror::index(vec![
            entry("uid=a,dc=t", "a@h.test", Some("20250101000000Z")),
            entry("uid=b,dc=t", "b@h.test", Some("20250102000000Z")),
        ]);
        let mut mirror = Mirror {
            entries,
            ..Mirror::default()
        };
        mirror.merge_changed(vec![
            entry("UID=a,dc=t", "a.new@h.test", Some("20250301000000Z")),
            entry("uid=c,dc=t", "c@h.test", Some("20250201000000Z")),
        ]);
        let keys: Vec<&str> = mirror.entries.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a.new@h.test", "b@h.test", "c@h.test"]);
        assert_eq!(mirror.max_modified().as_deref(), Some("20250301000000Z"));
    }

    #[test]
    fn set_groups_resolves_addresses_and_dns() {
        let (entries, _) = Mirror::index(vec![
            entry("uid=a,dc=t", "a@h.test", None),
            entry("uid=b,dc=t", "b@h.test", None),
            entry("uid=sec,dc=t", "sec@h.test", None),
        ]);
        let mut mirror = Mirror {
            entries,
            ..Mirror::default()
        };
        let unresolved = mirror.set_groups(vec![
            RawGroup {
                dn: "cn=g1,dc=t".into(),
                mailbox_values: vec!["cardio@h.test".into()],
                member_dns: vec![
                    "uid=b,dc=t".into(),
                    "uid=a, dc=t".into(),
                    "uid=gone,dc=t".into(),
                ],
            },
            RawGroup {
                dn: "cn=g2,dc=t".into(),
                mailbox_values: vec!["UID=sec,DC=t".into()],
                member_dns: vec!["uid=a,dc=t".into()],
            },
            RawGroup {
                dn: "cn=g3,dc=t".into(),
                mailbox_values: vec!["uid=unknown,dc=t".into()],
                member_dns: vec!["uid=a,dc=t".into()],
            },
        ]);
        assert_eq!(unresolved, 1);
        assert_eq!(mirror.groups.len(), 2);
        assert_eq!(mirror.groups[0].mailbox.as_str(), "cardio@h.test");
        let members: Vec<&str> = mirror.groups[0]
            .members
            .iter()
            .map(Address::as_str)
            .collect();
        assert_eq!(members, ["a@h.test", "b@h.test"]);
        let a_groups: Vec<&str> = mirror.entries["a@h.test"]
            .groups
            .iter()
            .map(Address::as_str)
            .collect();
        assert_eq!(a_groups, ["cardio@h.test", "sec@h.test"]);
        assert!(mirror.entries["sec@h.test"].groups.is_empty());
    }
}
