//! Who is talking to the server, for the audit trail and for delivery policy.

use crate::address::Address;
use crate::id_nat::{IdNatPs, IdNatStruct};

/// The authenticated party of a session.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    /// A peer MTA of another operator, known by its IGC-Santé server certificate.
    /// `subject_dn` is the DN in normalised text form (as produced by mssd-certs).
    Operator { subject_dn: String },
    /// A professional authenticated by CPS certificate or Pro Santé Connect.
    Professional { id_nat_ps: IdNatPs },
    /// Software using an IGC-Santé organisation certificate (applicative mailboxes).
    Application {
        subject_dn: String,
        id_nat_struct: Option<IdNatStruct>,
    },
    /// A mailbox owner who logged in with a password.
    MailboxUser { address: Address },
}

impl Identity {
    /// The form written to the audit trail: a kind, then `key="value"` pairs. Values are
    /// quoted and escaped (Rust string escapes), so a hostile DN cannot forge audit lines.
    /// The audit trail is the one place where a citizen address (and its INS) is kept in
    /// clear.
    pub fn audit_label(&self) -> String {
        match self {
            Identity::Operator { subject_dn } => format!("operator dn={subject_dn:?}"),
            Identity::Professional { id_nat_ps } => {
                format!("professional id_nat_ps={:?}", id_nat_ps.as_str())
            }
            Identity::Application {
                subject_dn,
                id_nat_struct: Some(id),
            } => format!(
                "application dn={subject_dn:?} id_nat_struct={:?}",
                id.as_str()
            ),
            Identity::Application {
                subject_dn,
                id_nat_struct: None,
            } => format!("application dn={subject_dn:?}"),
            Identity::MailboxUser { address } => {
                format!("mailbox-user address={:?}", address.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_label_table() {
        let dn = "CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR";
        let cases = [
            (
                Identity::Operator {
                    subject_dn: dn.to_owned(),
                },
                format!("operator dn=\"{dn}\""),
            ),
            (
                Identity::Professional {
                    id_nat_ps: IdNatPs::parse("810001045367").unwrap(),
                },
                "professional id_nat_ps=\"810001045367\"".to_owned(),
            ),
            (
                Identity::Application {
                    subject_dn: "CN=dmp-app,OU=1750048886,O=CHU,C=FR".to_owned(),
                    id_nat_struct: Some(IdNatStruct::parse("1750048886").unwrap()),
                },
                "application dn=\"CN=dmp-app,OU=1750048886,O=CHU,C=FR\" \
                 id_nat_struct=\"1750048886\""
                    .to_owned(),
            ),
            (
                Identity::Application {
                    subject_dn: "CN=app".to_owned(),
                    id_nat_struct: None,
                },
                "application dn=\"CN=app\"".to_owned(),
            ),
            (
                Identity::MailboxUser {
                    address: Address::parse("295109912611193@patient.mssante.fr").unwrap(),
                },
                "mailbox-user address=\"295109912611193@patient.mssante.fr\"".to_owned(),
            ),
        ];
        for (identity, expected) in cases {
            assert_eq!(identity.audit_label(), expected);
        }
    }

    #[test]
    fn hostile_dn_cannot_forge_an_audit_line() {
        let identity = Identity::Operator {
            subject_dn: "CN=x\n2025-01-01 auth ok dn=\"CN=admin\"".to_owned(),
        };
        let label = identity.audit_label();
        assert!(!label.contains('\n'), "{label}");
        assert_eq!(
            label,
            "operator dn=\"CN=x\\n2025-01-01 auth ok dn=\\\"CN=admin\\\"\""
        );
    }

    #[test]
    fn debug_does_not_leak_a_citizen_ins() {
        let identity = Identity::MailboxUser {
            address: Address::parse("253072B07300470@patient.mssante.fr").unwrap(),
        };
        let debug = format!("{identity:?}");
        assert!(!debug.contains("253072B07300470"), "{debug}");
        assert!(debug.contains("25307*@patient.mssante.fr"), "{debug}");
    }
}
