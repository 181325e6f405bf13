//! The SASL mechanisms mssd offers.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A SASL mechanism, by its IANA name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// RFC 4616.
    Plain,
    /// The obsolete but common "LOGIN" (draft-murchison-sasl-login).
    Login,
    /// RFC 4422 appendix A: the TLS client certificate.
    External,
    /// Google's XOAUTH2, used by Pro Santé Connect clients.
    Xoauth2,
    /// RFC 7628.
    OauthBearer,
}

impl Mechanism {
    pub const ALL: [Mechanism; 5] = [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::External,
        Mechanism::Xoauth2,
        Mechanism::OauthBearer,
    ];

    /// The name as advertised in EHLO / CAPABILITY.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::External => "EXTERNAL",
            Mechanism::Xoauth2 => "XOAUTH2",
            Mechanism::OauthBearer => "OAUTHBEARER",
        }
    }

    /// Parses a mechanism name, ignoring ASCII case (RFC 4422 names are case-insensitive
    /// in SMTP and IMAP commands).
    pub fn parse(name: &str) -> Result<Mechanism> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::UnknownMechanism {
                name: name.chars().take(40).collect(),
            })
    }

    /// XOAUTH2 and OAUTHBEARER: failures are reported with a JSON error challenge.
    pub fn is_bearer(self) -> bool {
        matches!(self, Mechanism::Xoauth2 | Mechanism::OauthBearer)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mechanism {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Mechanism::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases = [
            ("PLAIN", Some(Mechanism::Plain)),
            ("plain", Some(Mechanism::Plain)),
            ("Login", Some(Mechanism::Login)),
            ("EXTERNAL", Some(Mechanism::External)),
            ("xoauth2", Some(Mechanism::Xoauth2)),
            ("OAUTHBEARER", Some(Mechanism::OauthBearer)),
            ("", None),
            ("CRAM-MD5", None),
            ("PLAIN ", None),
            ("SCRAM-SHA-256", None),
        ];
        for (name, expected) in cases {
            assert_eq!(Mechanism::parse(name).ok(), expected, "{name:?}");
        }
        for m in Mechanism::ALL {
            assert_eq!(m.to_string().parse::<Mechanism>().unwrap(), m);
        }
    }
}
