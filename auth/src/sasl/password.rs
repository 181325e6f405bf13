//! PLAIN (RFC 4616) and LOGIN responses.

use crate::error::{Error, Result};
use crate::sasl::credentials::Credentials;
use crate::sasl::mechanism::Mechanism;
use crate::sasl::text::{optional_field, required_field};

const PLAIN: &str = "PLAIN";
const LOGIN: &str = "LOGIN";

/// Parses a PLAIN message `[authzid] NUL authcid NUL passwd`: exactly two NULs, authcid and
/// passwd not empty, each field UTF-8 and at most 255 octets.
pub fn parse_plain(message: &[u8]) -> Result<Credentials> {
    let mut fields = message.splitn(3, |&b| b == 0);
    let (Some(authzid), Some(authcid), Some(passwd)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err(Error::sasl(
            PLAIN,
            "expected authzid NUL authcid NUL passwd (two NUL separators)",
        ));
    };
    Ok(Credentials::Password {
        mechanism: Mechanism::Plain,
        authzid: optional_field(PLAIN, "authzid", authzid)?,
        username: required_field(PLAIN, "authcid", authcid)?,
        password: required_field(PLAIN, "password", passwd)?,
    })
}

/// Parses one LOGIN response (the user name or the password): not empty, UTF-8, no NUL, at
/// most 255 octets. `what` is "username" or "password".
pub fn parse_login_field(what: &str, response: &[u8]) -> Result<String> {
    required_field(LOGIN, what, response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect_reason(result: Result<Credentials>, reason: &str, input: &[u8]) {
        match result {
            Err(Error::SaslMalformed {
                mechanism: "PLAIN",
                reason: got,
            }) => assert_eq!(got, reason, "input {input:?}"),
            other => panic!("input {input:?}: expected {reason:?}, got {other:?}"),
        }
    }

    #[test]
    fn plain_valid_table() {
        let cases: &[(&[u8], Option<&str>, &str, &str)] = &[
            (
                b"\0dr.martin@x.fr\0secret",
                None,
                "dr.martin@x.fr",
                "secret",
            ),
            (
                b"dr.martin@x.fr\0dr.martin@x.fr\0s e c r e t",
                Some("dr.martin@x.fr"),
                "dr.martin@x.fr",
                "s e c r e t",
            ),
            (
                "\0élodie@x.fr\0mot de passe é".as_bytes(),
                None,
                "élodie@x.fr",
                "mot de passe é",
            ),
            // Control characters other than NUL are kept as typed.
            (b"\0u\0p\x01w", None, "u", "p\x01w"),
        ];
        for (input, authzid, username, password) in cases {
            match parse_plain(input).unwrap() {
                Credentials::Password {
                    mechanism,
                    authzid: a,
                    username: u,
                    password: p,
                } => {
                    assert_eq!(mechanism, Mechanism::Plain);
                    assert_eq!(a.as_deref(), *authzid, "{input:?}");
                    assert_eq!(u, *username, "{input:?}");
                    assert_eq!(p, *password, "{input:?}");
                }
                other => panic!("{other:?}"),
            }
        }
        let max = [b"\0".as_slice(), &[b'u'; 255], b"\0", &[b'p'; 255]].concat();
        assert!(parse_plain(&max).is_ok());
    }

    #[test]
    fn plain_invalid_table() {
        let long = [b"\0".as_slice(), &[b'u'; 256], b"\0p"].concat();
        let long_password = [b"\0u\0".as_slice(), &[b'p'; 256]].concat();
        let long_authzid = [&[b'a'; 256], b"\0u\0p".as_slice()].concat();
        let cases: &[(&[u8], &str)] = &[
            (
                b"",
                "expected authzid NUL authcid NUL passwd (two NUL separators)",
            ),
            (
                b"user password",
                "expected authzid NUL authcid NUL passwd (two NUL separators)",
            ),
            (
                b"\0user",
                "expected authzid NUL authcid NUL passwd (two NUL separators)",
            ),
            (b"\0user\0", "password is empty"),
            (b"\0\0secret", "authcid is empty"),
            (b"\0user\0pass\0word", "password contains a NUL octet"),
            (b"\0us\xffer\0secret", "authcid is not valid UTF-8"),
            (b"\0user\0se\xc3cret", "password is not valid UTF-8"),
            (b"\xfe\0user\0secret", "authzid is not valid UTF-8"),
            (&long, "authcid is 256 octets, longer than the 255 allowed"),
            (
                &long_password,
                "password is 256 octets, longer than the 255 allowed",
            ),
            (
                &long_authzid,
                "authzid is 256 octets, longer than the 255 allowed",
            ),
        ];
        for (input, reason) in cases {
            expect_reason(parse_plain(input), reason, input);
        }
    }

    #[test]
    fn login_field_table() {
        let long = [b'x'; 256];
        let cases: &[(&[u8], Result<&str>)] = &[
            (b"dr.martin@x.fr", Ok("dr.martin@x.fr")),
            ("pässwörd".as_bytes(), Ok("pässwörd")),
            (b"", Err(Error::sasl(LOGIN, "username is empty"))),
            (
                b"a\0b",
                Err(Error::sasl(LOGIN, "username contains a NUL octet")),
            ),
            (
                b"\xc3(",
                Err(Error::sasl(LOGIN, "username is not valid UTF-8")),
            ),
            (
                &long,
                Err(Error::sasl(
                    LOGIN,
                    "username is 256 octets, longer than the 255 allowed",
                )),
            ),
        ];
        for (input, expected) in cases {
            let got = parse_login_field("username", input);
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                expected.clone(),
                "{input:?}"
            );
        }
    }
}
