//! What changes between the list in force and a new one.

use crate::flat_dn::OperatorDn;
use crate::model::TrustList;

/// One operator DN added to or removed from a domain present in both lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnChange {
    pub domain: String,
    pub dn: OperatorDn,
}

/// Differences from an old list to a new one, each vector sorted. DN changes are listed only
/// for domains present in both lists: an added or removed domain brings or takes all its DNs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustListDiff {
    pub domains_added: Vec<String>,
    pub domains_removed: Vec<String>,
    pub dns_added: Vec<DnChange>,
    pub dns_removed: Vec<DnChange>,
}

/// Counts of a [`TrustListDiff`], for the status and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiffSummary {
    pub domains_added: usize,
    pub domains_removed: usize,
    pub dns_added: usize,
    pub dns_removed: usize,
}

impl TrustListDiff {
    /// What `new` changes relative to `old`.
    pub fn between(old: &TrustList, new: &TrustList) -> TrustListDiff {
        let mut diff = TrustListDiff::default();
        for entry in new.entries() {
            match old.domains.get(entry.domain()) {
                None => diff.domains_added.push(entry.domain().to_owned()),
                Some(previous) => {
                    diff.dns_added.extend(only_in(
                        entry.operators(),
                        previous.operators(),
                        entry.domain(),
                    ));
                    diff.dns_removed.extend(only_in(
                        previous.operators(),
                        entry.operators(),
                        entry.domain(),
                    ));
                }
            }
        }
        diff.domains_removed = old
            .entries()
            .filter(|entry| !new.domains.contains_key(entry.domain()))
            .map(|entry| entry.domain().to_owned())
            .collect();
        diff.domains_added.sort_unstable();
        diff.domains_removed.sort_unstable();
        let order = |a: &DnChange, b: &DnChange| {
            (&a.domain, a.dn.canonical()).cmp(&(&b.domain, b.dn.canonical()))
        };
        diff.dns_added.sort_unstable_by(order);
        diff.dns_removed.sort_unstable_by(order);
        diff
    }

    pub fn summary(&self) -> DiffSummary {
        DiffSummary {
            domains_added: self.domains_added.len(),
            domains_removed: self.domains_removed.len(),
            dns_added: self.dns_added.len(),
            dns_removed: self.dns_removed.len(),
        }
    }

    /// True when the two lists allow exactly the same (domain, DN) pairs.
    pub fn is_empty(&self) -> bool {
        self.summary() == DiffSummary::default()
    }
}

/// DNs of `these` operators missing from `those`, as changes of `domain`.
fn only_in(
    these: &[crate::OperatorEntry],
    those: &[crate::OperatorEntry],
    domain: &str,
) -> Vec<DnChange> {
    // A domain has a handful of DNs: a scan of their canonical strings allocates nothing.
    these
        .iter()
        .filter(|o| !those.iter().any(|other| other.dn == o.dn))
        .map(|o| DnChange {
            domain: domain.to_owned(),
            dn: o.dn.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn list(entries: &[(&str, &str)]) -> TrustList {
        let mut xml = String::from(
            "<ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\">\
             <DateDeGeneration>2025-01-01T00:00:00Z</DateDeGeneration><ListeDomaines>",
        );
        for (name, dn) in entries {
            xml.push_str(&format!(
                "<Domaine><Nom>{name}</Nom><DNCertificatOperateur>{dn}</DNCertificatOperateur></Domaine>"
            ));
        }
        xml.push_str("</ListeDomaines></ListeBlancheMSSante>");
        parse(xml.as_bytes()).unwrap()
    }

    #[test]
    fn diff_table() {
        struct Case {
            old: &'static [(&'static str, &'static str)],
            new: &'static [(&'static str, &'static str)],
            added: &'static [&'static str],
            removed: &'static [&'static str],
            dns_added: &'static [(&'static str, &'static str)],
            dns_removed: &'static [(&'static str, &'static str)],
        }
        let cases = [
            Case {
                old: &[("a.fr", "CN=a,C=FR")],
                new: &[("a.fr", "CN=a,C=FR")],
                added: &[],
                removed: &[],
                dns_added: &[],
                dns_removed: &[],
            },
            Case {
                old: &[("a.fr", "CN=a,C=FR")],
                new: &[("a.fr", "C=FR, cn=A"), ("b.fr", "CN=b,C=FR")],
                added: &["b.fr"],
                removed: &[],
                dns_added: &[],
                dns_removed: &[],
            },
            Case {
                old: &[
                    ("a.fr", "CN=a,C=FR"),
                    ("z.fr", "CN=z,C=FR"),
                    ("c.fr", "CN=c,C=FR"),
                ],
                new: &[("a.fr", "CN=a2,C=FR"), ("a.fr", "CN=a,C=FR")],
                added: &[],
                removed: &["c.fr", "z.fr"],
                dns_added: &[("a.fr", "CN=a2,C=FR")],
                dns_removed: &[],
            },
            Case {
                old: &[("a.fr", "CN=a,C=FR"), ("a.fr", "CN=old,C=FR")],
                new: &[("a.fr", "CN=new,C=FR")],
                added: &[],
                removed: &[],
                dns_added: &[("a.fr", "CN=new,C=FR")],
                dns_removed: &[("a.fr", "CN=a,C=FR"), ("a.fr", "CN=old,C=FR")],
            },
        ];
        for (i, case) in cases.iter().enumerate() {
            let diff = TrustListDiff::between(&list(case.old), &list(case.new));
            let changes = |v: &[(&str, &str)]| -> Vec<DnChange> {
                v.iter()
                    .map(|(d, dn)| DnChange {
                        domain: d.to_string(),
                        dn: OperatorDn::parse(dn).unwrap(),
                    })
                    .collect()
            };
            assert_eq!(diff.domains_added, case.added, "case {i}");
            assert_eq!(diff.domains_removed, case.removed, "case {i}");
            assert_eq!(diff.dns_added, changes(case.dns_added), "case {i}");
            assert_eq!(diff.dns_removed, changes(case.dns_removed), "case {i}");
            assert_eq!(diff.is_empty(), i == 0, "case {i}");
        }
    }

    #[test]
    fn from_the_empty_list_everything_is_added() {
        let new = list(&[("a.fr", "CN=a,C=FR"), ("b.fr", "CN=b,C=FR")]);
        let diff = TrustListDiff::between(&TrustList::empty(), &new);
        assert_eq!(diff.domains_added, ["a.fr", "b.fr"]);
        assert_eq!(
            diff.summary(),
            DiffSummary {
                domains_added: 2,
                ..DiffSummary::default()
            }
        );
    }
}
