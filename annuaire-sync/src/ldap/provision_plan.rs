//! What provisioning must change, computed from the mirror and the store's mailboxes
//! (pure, no I/O).
//!
//! Ownership rule: LDAP provisioning only ever suspends, resumes or revokes what it made
//! itself. The addresses it created, the suspensions it made and the grants it gave are
//! listed in the store document [`PROVISION_STATE_DOCUMENT`]; a mailbox created by hand (or
//! by the extraction import) with the same address as an LDAP entry is left alone, and so
//! is a grant given by hand.

use std::collections::{BTreeMap, BTreeSet};

use mssd_core::{Address, MailboxKind};
use mssd_store::{Mailbox, MailboxStatus};
use serde::{Deserialize, Serialize};

use super::mirror::Mirror;

/// Store document listing what LDAP provisioning owns.
pub const PROVISION_STATE_DOCUMENT: &str = "annuaire/ldap-provisioned.json";

/// What LDAP provisioning made, by canonical address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionState {
    /// Mailboxes created by provisioning.
    pub mailboxes: BTreeSet<String>,
    /// Of those, the ones provisioning suspended (their entry disappeared).
    pub suspended: BTreeSet<String>,
    /// ORG mailbox → members provisioning granted rights to.
    pub grants: BTreeMap<String, BTreeSet<String>>,
}

/// A mailbox to create for a new entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToCreate {
    pub address: Address,
    pub kind: MailboxKind,
    pub display_name: Option<String>,
    pub owner_id_nat: Option<String>,
}

/// The changes one provisioning run makes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProvisionPlan {
    pub create: Vec<ToCreate>,
    pub suspend: Vec<Address>,
    pub resume: Vec<Address>,
    /// (ORG mailbox, member)
    pub grant: Vec<(Address, Address)>,
    pub revoke: Vec<(Address, Address)>,
}

impl ProvisionPlan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.suspend.is_empty()
            && self.resume.is_empty()
            && self.grant.is_empty()
            && self.revoke.is_empty()
    }
}

/// Computes the plan. `domains` are ours (lower-case ASCII); entries elsewhere are only
/// mirrored.
pub fn plan(
    mirror: &Mirror,
    existing: &[Mailbox],
    state: &ProvisionState,
    domains: &[String],
) -> ProvisionPlan {
    let ours = |a: &Address| domains.iter().any(|d| d.eq_ignore_ascii_case(a.domain()));
    let existing: BTreeMap<String, &Mailbox> = existing
        .iter()
        .map(|m| (m.address.canonical(), m))
        .collect();
    let mut plan = ProvisionPlan::default();

    for (key, entry) in &mirror.entries {
        let Some(kind) = entry.kind else { continue };
        if !ours(&entry.mail) {
            continue;
        }
        match existing.get(key) {
            None => plan.create.push(ToCreate {
                address: entry.mail.clone(),
                kind,
                display_name: display_name(entry),
                owner_id_nat: entry.id_nat.clone(),
            }),
            Some(mailbox)
                if mailbox.status == MailboxStatus::Suspended && state.suspended.contains(key) =>
            {
                plan.resume.push(mailbox.address.clone());
            }
            Some(_) => {}
        }
    }

    for key in &state.mailboxes {
        let Some(mailbox) = existing.get(key) else {
            continue; // removed by hand since: nothing left to suspend
        };
        if !mirror.entries.contains_key(key) && mailbox.status == MailboxStatus::Active {
            plan.suspend.push(mailbox.address.clone());
        }
    }

    // A mailbox takes part in membership when it exists now or is being created.
    let hosted = |a: &Address| {
        existing.contains_key(&a.canonical()) || plan.create.iter().any(|c| &c.address == a)
    };
    let mut wanted: BTreeMap<String, (Address, BTreeMap<String, Address>)> = BTreeMap::new();
    for group in &mirror.groups {
        if !ours(&group.mailbox) || !hosted(&group.mailbox) {
            continue;
        }
        let members = &mut wanted
            .entry(group.mailbox.canonical())
            .or_insert_with(|| (group.mailbox.clone(), BTreeMap::new()))
            .1;
        for member in &group.members {
            if member != &group.mailbox && hosted(member) {
                members.insert(member.canonical(), member.clone());
            }
        }
    }
    for (org_key, (org, members)) in &wanted {
        let given = state.grants.get(org_key);
        for (member_key, member) in members {
            if !given.is_some_and(|g| g.contains(member_key)) {
                plan.grant.push((org.clone(), member.clone()));
            }
        }
    }
    for (org_key, given) in &state.grants {
        let still = wanted.get(org_key).map(|(_, m)| m);
        for member_key in given {
            if !still.is_some_and(|m| m.contains_key(member_key)) {
                // Keys were made from valid addresses; one that no longer parses is dropped.
                if let (Ok(org), Ok(member)) = (Address::parse(org_key), Address::parse(member_key))
                {
                    plan.revoke.push((org, member));
                }
            }
        }
    }
    plan
}

/// "Given Sn", else cn.
fn display_name(entry: &super::entry::MirrorEntry) -> Option<String> {
    match (&entry.given_name, &entry.sn) {
        (Some(g), Some(s)) => Some(format!("{g} {s}")),
        _ => entry.cn.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::entry::MirrorEntry;
    use super::super::mirror::MirrorGroup;
    use super::*;
    use mssd_store::MailboxId;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    fn entry(mail: &str, kind: Option<MailboxKind>) -> MirrorEntry {
        MirrorEntry {
            dn: format!("uid={mail},dc=t"),
            mail: addr(mail),
            cn: Some("C N".into()),
            sn: Some("Dupont".into()),
            given_name: Some("Jean".into()),
            id_nat: Some("810001045367".into()),
            kind,
            groups: vec![],
            modified: None,
        }
    }

    fn mailbox(mail: &str, status: MailboxStatus) -> Mailbox {
        Mailbox {
            id: MailboxId(1),
            address: addr(mail),
            kind: MailboxKind::Per,
            display_name: None,
            owner_id_nat: None,
            password_hash: None,
            certificate_dn: None,
            quota_bytes: None,
            status,
            created_at: 0,
        }
    }

    fn mirror(entries: Vec<MirrorEntry>, groups: Vec<MirrorGroup>) -> Mirror {
        let (entries, _) = Mirror::index(entries);
        Mirror {
            entries,
            groups,
            ..Mirror::default()
        }
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn texts(list: &[Address]) -> Vec<&str> {
        list.iter().map(Address::as_str).collect()
    }

    #[test]
    fn creates_new_entries_of_our_domains_only() {
        let m = mirror(
            vec![
                entry("new@h.test", Some(MailboxKind::Per)),
                entry("org@h.test", Some(MailboxKind::Org)),
                entry("known@h.test", Some(MailboxKind::Per)),
                entry("other@elsewhere.test", Some(MailboxKind::Per)),
                entry("oddkind@h.test", None),
            ],
            vec![],
        );
        let existing = [mailbox("known@h.test", MailboxStatus::Active)];
        let p = plan(
            &m,
            &existing,
            &ProvisionState::default(),
            &["h.test".into()],
        );
        let created: Vec<(&str, MailboxKind)> = p
            .create
            .iter()
            .map(|c| (c.address.as_str(), c.kind))
            .collect();
        assert_eq!(
            created,
            [
                ("new@h.test", MailboxKind::Per),
                ("org@h.test", MailboxKind::Org)
            ]
        );
        assert_eq!(p.create[0].display_name.as_deref(), Some("Jean Dupont"));
        assert_eq!(p.create[0].owner_id_nat.as_deref(), Some("810001045367"));
        assert!(p.suspend.is_empty() && p.resume.is_empty());
    }

    #[test]
    fn suspends_only_what_it_provisioned_and_resumes_only_what_it_suspended() {
        let m = mirror(
            vec![
                entry("back@h.test", Some(MailboxKind::Per)),
                entry("manual-suspended@h.test", Some(MailboxKind::Per)),
            ],
            vec![],
        );
        let existing = [
            mailbox("gone@h.test", MailboxStatus::Active),
            mailbox("manual@h.test", MailboxStatus::Active),
            mailbox("back@h.test", MailboxStatus::Suspended),
            mailbox("manual-suspended@h.test", MailboxStatus::Suspended),
            mailbox("gone-already-suspended@h.test", MailboxStatus::Suspended),
        ];
        let state = ProvisionState {
            mailboxes: set(&[
                "gone@h.test",
                "back@h.test",
                "gone-already-suspended@h.test",
                "removed-by-hand@h.test",
            ]),
            suspended: set(&["back@h.test", "gone-already-suspended@h.test"]),
            grants: BTreeMap::new(),
        };
        let p = plan(&m, &existing, &state, &["h.test".into()]);
        assert_eq!(texts(&p.suspend), ["gone@h.test"]);
        assert_eq!(texts(&p.resume), ["back@h.test"]);
        assert!(p.create.is_empty());
    }

    #[test]
    fn grants_members_and_revokes_only_its_own_grants() {
        let group = MirrorGroup {
            dn: "cn=g,dc=t".into(),
            mailbox: addr("sec@h.test"),
            members: vec![
                addr("a@h.test"),
                addr("b@h.test"),
                addr("ext@elsewhere.test"),
                addr("sec@h.test"),
            ],
        };
        let m = mirror(
            vec![
                entry("sec@h.test", Some(MailboxKind::Org)),
                entry("a@h.test", Some(MailboxKind::Per)),
                entry("b@h.test", Some(MailboxKind::Per)),
            ],
            vec![group],
        );
        let existing = [
            mailbox("sec@h.test", MailboxStatus::Active),
            mailbox("a@h.test", MailboxStatus::Active),
        ];
        let mut state = ProvisionState::default();
        state
            .grants
            .insert("sec@h.test".into(), set(&["a@h.test", "old@h.test"]));
        let p = plan(&m, &existing, &state, &["h.test".into()]);
        // b is being created, so it is granted now; a already was; ext is not hosted here.
        let granted: Vec<(&str, &str)> = p
            .grant
            .iter()
            .map(|(o, m)| (o.as_str(), m.as_str()))
            .collect();
        assert_eq!(granted, [("sec@h.test", "b@h.test")]);
        let revoked: Vec<(&str, &str)> = p
            .revoke
            .iter()
            .map(|(o, m)| (o.as_str(), m.as_str()))
            .collect();
        assert_eq!(revoked, [("sec@h.test", "old@h.test")]);
    }
}
