//! Turning the attributes of one LDAP entry into a directory entry (pure, no I/O).

use std::collections::HashMap;

use mssd_core::{Address, IdNatPs, MailboxKind};
use serde::{Deserialize, Serialize};

use super::config::AttributeMap;

/// One person (or ORG/APP mailbox) of the operator's LDAP, as mirrored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorEntry {
    /// The entry's DN, as the server wrote it.
    pub dn: String,
    pub mail: Address,
    pub cn: Option<String>,
    pub sn: Option<String>,
    pub given_name: Option<String>,
    /// Validated idNat_PS; an unparsable value is dropped with a warning.
    pub id_nat: Option<String>,
    /// `None` when the kind attribute held an unknown value: such an entry is mirrored (so
    /// its mailbox is not suspended) but never provisioned.
    pub kind: Option<MailboxKind>,
    /// Addresses of the ORG mailboxes whose group lists this entry.
    #[serde(default)]
    pub groups: Vec<Address>,
    /// `modifyTimestamp` (GeneralizedTime), when the server sent it.
    pub modified: Option<String>,
}

/// Why an entry was left out of the mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    NoMail,
    BadMail { reason: String },
}

/// A problem with one entry that did not keep it out of the mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryWarning {
    pub dn: String,
    pub message: String,
}

/// The first value of `name`, attribute names compared without case (LDAP semantics).
pub fn first_value<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &str) -> Option<&'a str> {
    all_values(attrs, name)
        .iter()
        .map(|v| v.trim())
        .find(|v| !v.is_empty())
}

/// Every value of `name`, attribute names compared without case.
pub fn all_values<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &str) -> &'a [String] {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[])
}

/// Maps one search result. Warnings (bad idNat, unknown kind) are pushed to `warnings`.
pub fn map_entry(
    dn: &str,
    attrs: &HashMap<String, Vec<String>>,
    map: &AttributeMap,
    warnings: &mut Vec<EntryWarning>,
) -> Result<MirrorEntry, Skip> {
    let raw_mail = first_value(attrs, &map.mail).ok_or(Skip::NoMail)?;
    let mail = Address::parse(raw_mail).map_err(|e| Skip::BadMail {
        reason: e.to_string(),
    })?;
    let mut warn = |message: String| {
        warnings.push(EntryWarning {
            dn: dn.to_owned(),
            message,
        })
    };
    let id_nat = match map.id_nat.as_deref().and_then(|a| first_value(attrs, a)) {
        None => None,
        Some(raw) => match IdNatPs::parse(raw) {
            Ok(id) => Some(id.as_str().to_owned()),
            Err(e) => {
                warn(format!("idNat attribute ignored: {e}"));
                None
            }
        },
    };
    let kind = match map.kind.as_deref().and_then(|a| first_value(attrs, a)) {
        None => Some(map.default_kind),
        Some(raw) => match MailboxKind::parse(&raw.to_ascii_uppercase()) {
            Ok(MailboxKind::Citizen) => {
                warn("kind CITIZEN is not provisioned from LDAP".into());
                None
            }
            Ok(kind) => Some(kind),
            Err(e) => {
                warn(format!("unknown mailbox kind, entry not provisioned: {e}"));
                None
            }
        },
    };
    let text = |name: &str| first_value(attrs, name).map(str::to_owned);
    Ok(MirrorEntry {
        dn: dn.to_owned(),
        mail,
        cn: text(&map.cn),
        sn: text(&map.sn),
        given_name: text(&map.given_name),
        id_nat,
        kind,
        groups: Vec::new(),
        modified: text("modifyTimestamp"),
    })
}

/// A DN in a form two spellings of the same DN share: lower case, no spaces around the
/// separators. Enough to match `member` values against entry DNs written by one server.
pub fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| {
            rdn.split('=')
                .map(|part| part.trim().to_lowercase())
                .collect::<Vec<_>>()
                .join("=")
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            map.entry((*k).to_owned())
                .or_default()
                .push((*v).to_owned());
        }
        map
    }

    #[test]
    fn map_entry_table() {
        struct Case {
            name: &'static str,
            attrs: &'static [(&'static str, &'static str)],
            mail: Option<&'static str>,
            id_nat: Option<&'static str>,
            kind: Option<MailboxKind>,
            warnings: usize,
        }
        let cases = [
            Case {
                name: "complete PER entry",
                attrs: &[
                    ("mail", "Jean.Dupont@hopital.test"),
                    ("cn", "Jean Dupont"),
                    ("employeeNumber", "810001045367"),
                    ("employeeType", "PER"),
                ],
                mail: Some("Jean.Dupont@hopital.test"),
                id_nat: Some("810001045367"),
                kind: Some(MailboxKind::Per),
                warnings: 0,
            },
            Case {
                name: "attribute names without case, kind lower case",
                attrs: &[("MAIL", "sec@hopital.test"), ("EmployeeType", "org")],
                mail: Some("sec@hopital.test"),
                id_nat: None,
                kind: Some(MailboxKind::Org),
                warnings: 0,
            },
            Case {
                name: "no kind: default PER",
                attrs: &[("mail", "a@hopital.test")],
                mail: Some("a@hopital.test"),
                id_nat: None,
                kind: Some(MailboxKind::Per),
                warnings: 0,
            },
            Case {
                name: "bad idNat dropped with a warning",
                attrs: &[("mail", "a@hopital.test"), ("employeeNumber", "812345")],
                mail: Some("a@hopital.test"),
                id_nat: None,
                kind: Some(MailboxKind::Per),
                warnings: 1,
            },
            Case {
                name: "unknown kind kept, not provisionable",
                attrs: &[("mail", "a@hopital.test"), ("employeeType", "intern")],
                mail: Some("a@hopital.test"),
                id_nat: None,
                kind: None,
                warnings: 1,
            },
            Case {
                name: "citizen kind refused",
                attrs: &[("mail", "a@hopital.test"), ("employeeType", "CITIZEN")],
                mail: Some("a@hopital.test"),
                id_nat: None,
                kind: None,
                warnings: 1,
            },
            Case {
                name: "blank first mail value, second used",
                attrs: &[("mail", " "), ("mail", "b@hopital.test")],
                mail: Some("b@hopital.test"),
                id_nat: None,
                kind: Some(MailboxKind::Per),
                warnings: 0,
            },
            Case {
                name: "no mail",
                attrs: &[("cn", "Nobody")],
                mail: None,
                id_nat: None,
                kind: None,
                warnings: 0,
            },
            Case {
                name: "bad mail",
                attrs: &[("mail", "not an address")],
                mail: None,
                id_nat: None,
                kind: None,
                warnings: 0,
            },
        ];
        let map = AttributeMap::default();
        for case in cases {
            let mut warnings = Vec::new();
            let result = map_entry("uid=x,dc=t", &attrs(case.attrs), &map, &mut warnings);
            match (result, case.mail) {
                (Ok(entry), Some(mail)) => {
                    assert_eq!(entry.mail.as_str(), mail, "{}", case.name);
                    assert_eq!(entry.id_nat.as_deref(), case.id_nat, "{}", case.name);
                    assert_eq!(entry.kind, case.kind, "{}", case.name);
                }
                (Err(Skip::NoMail), None) => assert_eq!(case.name, "no mail"),
                (Err(Skip::BadMail { .. }), None) => assert_eq!(case.name, "bad mail"),
                (other, _) => panic!("{}: unexpected {other:?}", case.name),
            }
            assert_eq!(warnings.len(), case.warnings, "{}: {warnings:?}", case.name);
        }
    }

    #[test]
    fn normalize_dn_table() {
        let cases = [
            ("uid=a,ou=People,dc=x", "uid=a,ou=people,dc=x"),
            ("UID = a , OU=people , DC=x", "uid=a,ou=people,dc=x"),
            ("cn=Jean Dupont,dc=x", "cn=jean dupont,dc=x"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_dn(input), expected, "{input}");
        }
    }
}
