//! What a finished SASL exchange yields: the claimed identity and its proof.

use std::fmt;

use crate::sasl::mechanism::Mechanism;

/// The credentials a client presented. `Debug` never prints a password or a token.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// PLAIN or LOGIN. `username` is the mailbox address as typed.
    Password {
        mechanism: Mechanism,
        authzid: Option<String>,
        username: String,
        password: String,
    },
    /// EXTERNAL: the proof is the TLS client certificate, held by the session.
    External { authzid: Option<String> },
    /// XOAUTH2 (`user=`) or OAUTHBEARER (`a=`), with the bearer token.
    Bearer {
        mechanism: Mechanism,
        authzid_or_user: Option<String>,
        token: String,
    },
}

impl Credentials {
    pub fn mechanism(&self) -> Mechanism {
        match self {
            Credentials::Password { mechanism, .. } | Credentials::Bearer { mechanism, .. } => {
                *mechanism
            }
            Credentials::External { .. } => Mechanism::External,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names may be citizen addresses: redact INS-like runs too.
        let redact = |s: &Option<String>| s.as_deref().map(mssd_core::redact::redact_ins_runs);
        match self {
            Credentials::Password {
                mechanism,
                authzid,
                username,
                ..
            } => f
                .debug_struct("Password")
                .field("mechanism", mechanism)
                .field("authzid", &redact(authzid))
                .field("username", &mssd_core::redact::redact_ins_runs(username))
                .field("password", &"<redacted>")
                .finish(),
            Credentials::External { authzid } => f
                .debug_struct("External")
                .field("authzid", &redact(authzid))
                .finish(),
            Credentials::Bearer {
                mechanism,
                authzid_or_user,
                ..
            } => f
                .debug_struct("Bearer")
                .field("mechanism", mechanism)
                .field("authzid_or_user", &redact(authzid_or_user))
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets_and_ins() {
        let cases = [
            Credentials::Password {
                mechanism: Mechanism::Plain,
                authzid: None,
                username: "295109912611193@patient.mssante.fr".to_owned(),
                password: "hunter2-secret".to_owned(),
            },
            Credentials::Bearer {
                mechanism: Mechanism::Xoauth2,
                authzid_or_user: Some("295109912611193@patient.mssante.fr".to_owned()),
                token: "eyJsecret.token.value".to_owned(),
            },
        ];
        for credentials in cases {
            let debug = format!("{credentials:?}");
            for secret in ["hunter2-secret", "eyJsecret", "295109912611193"] {
                assert!(!debug.contains(secret), "{debug}");
            }
            assert!(debug.contains("<redacted>"), "{debug}");
            assert!(debug.contains("29510*@patient.mssante.fr"), "{debug}");
        }
    }
}
