//! The kinds of MSSanté mailboxes (BAL).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::serde_string::serde_as_string;

/// The kind of a mailbox, as the Annuaire Santé names them (PER/ORG/APP/CAB), plus the
/// citizen mailboxes keyed by INS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MailboxKind {
    /// Personal: owned by one professional (RPPS/ADELI).
    Per,
    /// Organisational: a service or a team.
    Org,
    /// Applicative: software sending and receiving automatically.
    App,
    /// A practice (cabinet).
    Cab,
    /// A citizen's mailbox, `<matricule INS>@<citizen domain>`.
    Citizen,
}

impl MailboxKind {
    /// Every kind, in declaration order.
    pub const ALL: [MailboxKind; 5] = [
        MailboxKind::Per,
        MailboxKind::Org,
        MailboxKind::App,
        MailboxKind::Cab,
        MailboxKind::Citizen,
    ];

    /// Parses "PER", "ORG", "APP", "CAB" or "CITIZEN", ignoring ASCII case.
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::InvalidMailboxKind {
                input: crate::redact::redact_for_error(s),
            })
    }

    /// The upper-case name: "PER", "ORG", "APP", "CAB" or "CITIZEN".
    pub fn as_str(&self) -> &'static str {
        match self {
            MailboxKind::Per => "PER",
            MailboxKind::Org => "ORG",
            MailboxKind::App => "APP",
            MailboxKind::Cab => "CAB",
            MailboxKind::Citizen => "CITIZEN",
        }
    }
}

impl fmt::Display for MailboxKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MailboxKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        MailboxKind::parse(s)
    }
}

serde_as_string!(
    MailboxKind,
    "a mailbox kind: PER, ORG, APP, CAB or CITIZEN",
    MailboxKind::as_str
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases = [
            ("PER", Some(MailboxKind::Per)),
            ("per", Some(MailboxKind::Per)),
            ("Org", Some(MailboxKind::Org)),
            ("APP", Some(MailboxKind::App)),
            ("cab", Some(MailboxKind::Cab)),
            ("CITIZEN", Some(MailboxKind::Citizen)),
            ("Citizen", Some(MailboxKind::Citizen)),
            ("", None),
            ("PE", None),
            ("PERS", None),
            (" PER", None),
            ("PER ", None),
            ("citoyen", None),
            ("PATIENT", None),
        ];
        for (input, expected) in cases {
            match (MailboxKind::parse(input), expected) {
                (Ok(kind), Some(expected)) => assert_eq!(kind, expected, "input {input:?}"),
                (Err(Error::InvalidMailboxKind { input: echoed }), None) => {
                    assert_eq!(echoed, input)
                }
                (other, _) => panic!("input {input:?}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn text_forms_round_trip() {
        let names: Vec<&str> = MailboxKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, ["PER", "ORG", "APP", "CAB", "CITIZEN"]);
        for kind in MailboxKind::ALL {
            assert_eq!(kind.to_string().parse::<MailboxKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<MailboxKind>(&json).unwrap(), kind);
        }
        assert!(serde_json::from_str::<MailboxKind>("\"BAL\"").is_err());
    }
}
