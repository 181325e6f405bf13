//! XOAUTH2 and OAUTHBEARER (RFC 7628) client messages.

use crate::error::{Error, Result};
use crate::sasl::credentials::Credentials;
use crate::sasl::mechanism::Mechanism;
use crate::sasl::text::{MAX_BEARER_MESSAGE_OCTETS, utf8_field};

const XOAUTH2: &str = "XOAUTH2";
const OAUTHBEARER: &str = "OAUTHBEARER";
/// The separator of key/value pairs in both mechanisms (`^A`).
const KVSEP: u8 = 0x01;
/// Client text echoed in an error (keys, schemes, flags) is cut to this many characters.
const MAX_ECHOED_CHARS: usize = 32;

/// Parses `user=<address>^Aauth=Bearer <token>^A^A`.
pub fn parse_xoauth2(message: &[u8]) -> Result<Credentials> {
    check_size(XOAUTH2, message)?;
    let pairs = key_values(XOAUTH2, message)?;
    let mut user = None;
    let mut auth = None;
    for (key, value) in pairs {
        let slot = match key {
            "user" => &mut user,
            "auth" => &mut auth,
            other => {
                return Err(Error::sasl(
                    XOAUTH2,
                    format!("unexpected key {:?}", bounded(other)),
                ));
            }
        };
        if slot.replace(value).is_some() {
            return Err(Error::sasl(XOAUTH2, format!("key {key:?} appears twice")));
        }
    }
    let user = user.ok_or_else(|| Error::sasl(XOAUTH2, "no user= field"))?;
    if user.is_empty() {
        return Err(Error::sasl(XOAUTH2, "user is empty"));
    }
    let user = utf8_field(XOAUTH2, "user", user.as_bytes())?.to_owned();
    let auth = auth.ok_or_else(|| Error::sasl(XOAUTH2, "no auth= field"))?;
    Ok(Credentials::Bearer {
        mechanism: Mechanism::Xoauth2,
        authzid_or_user: Some(user),
        token: bearer_token(XOAUTH2, auth)?,
    })
}

/// Parses `gs2-header ^A *(key=value^A) ^A` where the GS2 header is `n,[a=<authzid>],` (or
/// `y,…`). Channel binding (`p=`) is refused: OAUTHBEARER does not define it.
pub fn parse_oauthbearer(message: &[u8]) -> Result<Credentials> {
    check_size(OAUTHBEARER, message)?;
    let header_end = message
        .iter()
        .position(|&b| b == KVSEP)
        .ok_or_else(|| Error::sasl(OAUTHBEARER, "no ^A after the GS2 header"))?;
    let authzid = parse_gs2_header(&message[..header_end])?;
    let pairs = key_values(OAUTHBEARER, &message[header_end..])?;
    let mut auth = None;
    for (key, value) in pairs {
        // RFC 7628 3.1: host, port and extension keys may appear; only auth matters to us.
        if key == "auth" && auth.replace(value).is_some() {
            return Err(Error::sasl(OAUTHBEARER, "key \"auth\" appears twice"));
        }
    }
    let auth = auth.ok_or_else(|| Error::sasl(OAUTHBEARER, "no auth= field"))?;
    Ok(Credentials::Bearer {
        mechanism: Mechanism::OauthBearer,
        authzid_or_user: authzid,
        token: bearer_token(OAUTHBEARER, auth)?,
    })
}

fn check_size(mechanism: &'static str, message: &[u8]) -> Result<()> {
    if message.len() > MAX_BEARER_MESSAGE_OCTETS {
        return Err(Error::sasl(
            mechanism,
            format!(
                "message is {} octets, longer than the {MAX_BEARER_MESSAGE_OCTETS} allowed",
                message.len()
            ),
        ));
    }
    Ok(())
}

/// The GS2 header without its trailing `^A`: `cb-flag "," [authzid] ","`.
fn parse_gs2_header(header: &[u8]) -> Result<Option<String>> {
    let header = std::str::from_utf8(header)
        .map_err(|_| Error::sasl(OAUTHBEARER, "GS2 header is not valid UTF-8"))?;
    let mut parts = header.splitn(3, ',');
    let (Some(flag), Some(authzid), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::sasl(
            OAUTHBEARER,
            "GS2 header must be \"n,,\" or \"n,a=<authzid>,\"",
        ));
    };
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => {
            return Err(Error::sasl(
                OAUTHBEARER,
                "channel binding (p=) is not supported",
            ));
        }
        other => {
            return Err(Error::sasl(
                OAUTHBEARER,
                format!(
                    "GS2 channel binding flag {:?} is not n, y or p=",
                    bounded(other)
                ),
            ));
        }
    }
    if !rest.is_empty() {
        return Err(Error::sasl(
            OAUTHBEARER,
            "unexpected text between the GS2 header and ^A",
        ));
    }
    if authzid.is_empty() {
        return Ok(None);
    }
    let name = authzid
        .strip_prefix("a=")
        .ok_or_else(|| Error::sasl(OAUTHBEARER, "GS2 authzid must start with \"a=\""))?;
    let name = decode_saslname(name)?;
    if name.is_empty() {
        return Err(Error::sasl(OAUTHBEARER, "GS2 authzid is empty"));
    }
    utf8_field(OAUTHBEARER, "authzid", name.as_bytes()).map(|s| Some(s.to_owned()))
}

/// RFC 5801 saslname: `,` is written `=2C` and `=` is written `=3D`; no other `=`.
fn decode_saslname(name: &str) -> Result<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let escape = rest.get(i..i + 3);
        match escape {
            Some("=2C") | Some("=2c") => out.push(','),
            Some("=3D") | Some("=3d") => out.push('='),
            _ => {
                return Err(Error::sasl(
                    OAUTHBEARER,
                    "authzid has an '=' that is not =2C or =3D",
                ));
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits `key=value^A…key=value^A^A` (the part after the header for OAUTHBEARER, which
/// starts with `^A`) into pairs. The message must end with the empty pair `^A^A`.
fn key_values<'a>(mechanism: &'static str, message: &'a [u8]) -> Result<Vec<(&'a str, &'a str)>> {
    let text = std::str::from_utf8(message)
        .map_err(|_| Error::sasl(mechanism, "message is not valid UTF-8"))?;
    let body = text
        .strip_suffix("\x01\x01")
        .ok_or_else(|| Error::sasl(mechanism, "message does not end with ^A^A"))?;
    // OAUTHBEARER: the separator after the GS2 header comes first.
    let body = if mechanism == OAUTHBEARER {
        body.strip_prefix('\x01').unwrap_or(body)
    } else {
        body
    };
    if body.is_empty() {
        return Ok(Vec::new());
    }
    body.split('\x01')
        .map(|pair| {
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                Error::sasl(mechanism, format!("field {:?} has no '='", bounded(pair)))
            })?;
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(Error::sasl(
                    mechanism,
                    format!("key {:?} is not letters only", bounded(key)),
                ));
            }
            Ok((key, value))
        })
        .collect()
}

/// `Bearer <b64token>` (RFC 6750 2.1; the scheme is case-insensitive) → the token.
fn bearer_token(mechanism: &'static str, auth: &str) -> Result<String> {
    let (scheme, token) = auth
        .split_once(' ')
        .ok_or_else(|| Error::sasl(mechanism, "auth= must be \"Bearer <token>\""))?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(Error::sasl(
            mechanism,
            format!("auth scheme {:?} is not Bearer", bounded(scheme)),
        ));
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(Error::sasl(mechanism, "bearer token is empty"));
    }
    if !is_b64token(token) {
        return Err(Error::sasl(
            mechanism,
            "bearer token has characters outside the RFC 6750 b64token set",
        ));
    }
    Ok(token.to_owned())
}

/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Echo at most a few characters of client text in errors (they go to logs). Values
/// echoed are keys, schemes and flags, never tokens.
fn bounded(s: &str) -> String {
    s.chars().take(MAX_ECHOED_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(credentials: Credentials) -> (Mechanism, Option<String>, String) {
        match credentials {
            Credentials::Bearer {
                mechanism,
                authzid_or_user,
                token,
            } => (mechanism, authzid_or_user, token),
            other => panic!("{other:?}"),
        }
    }

    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln-_";

    #[test]
    fn xoauth2_valid_table() {
        let cases: Vec<(Vec<u8>, &str, &str)> = vec![
            (
                format!("user=dr.martin@x.fr\x01auth=Bearer {TOKEN}\x01\x01").into_bytes(),
                "dr.martin@x.fr",
                TOKEN,
            ),
            (
                format!("auth=bearer {TOKEN}\x01user=a@b.fr\x01\x01").into_bytes(),
                "a@b.fr",
                TOKEN,
            ),
            (
                b"user=a@b.fr\x01auth=Bearer  abc==\x01\x01".to_vec(),
                "a@b.fr",
                "abc==",
            ),
        ];
        for (input, user, token) in cases {
            let (mechanism, got_user, got_token) = bearer(parse_xoauth2(&input).unwrap());
            assert_eq!(mechanism, Mechanism::Xoauth2);
            assert_eq!(got_user.as_deref(), Some(user));
            assert_eq!(got_token, token);
        }
    }

    #[test]
    fn xoauth2_invalid_table() {
        let huge = format!(
            "user=a@b.fr\x01auth=Bearer {}\x01\x01",
            "a".repeat(MAX_BEARER_MESSAGE_OCTETS)
        );
        let cases: Vec<(Vec<u8>, String)> = vec![
            (b"".to_vec(), "message does not end with ^A^A".into()),
            (
                b"user=a@b.fr\x01auth=Bearer abc\x01".to_vec(),
                "message does not end with ^A^A".into(),
            ),
            (b"auth=Bearer abc\x01\x01".to_vec(), "no user= field".into()),
            (b"user=a@b.fr\x01\x01".to_vec(), "no auth= field".into()),
            (
                b"user=\x01auth=Bearer abc\x01\x01".to_vec(),
                "user is empty".into(),
            ),
            (
                b"user=a@b.fr\x01auth=Basic abc\x01\x01".to_vec(),
                "auth scheme \"Basic\" is not Bearer".into(),
            ),
            (
                b"user=a@b.fr\x01auth=Bearer\x01\x01".to_vec(),
                "auth= must be \"Bearer <token>\"".into(),
            ),
            (
                b"user=a@b.fr\x01auth=Bearer \x01\x01".to_vec(),
                "bearer token is empty".into(),
            ),
            (
                b"user=a@b.fr\x01auth=Bearer a b\x01\x01".to_vec(),
                "bearer token has characters outside the RFC 6750 b64token set".into(),
            ),
            (
                b"user=a@b.fr\x01user=c@d.fr\x01auth=Bearer abc\x01\x01".to_vec(),
                "key \"user\" appears twice".into(),
            ),
            (
                b"user=a@b.fr\x01host=x\x01auth=Bearer abc\x01\x01".to_vec(),
                "unexpected key \"host\"".into(),
            ),
            (
                b"user=a@b.fr\x01authBearer abc\x01\x01".to_vec(),
                "field \"authBearer abc\" has no '='".into(),
            ),
            (
                b"user=a\xff@b.fr\x01auth=Bearer abc\x01\x01".to_vec(),
                "message is not valid UTF-8".into(),
            ),
            (
                huge.clone().into_bytes(),
                format!(
                    "message is {} octets, longer than the {MAX_BEARER_MESSAGE_OCTETS} allowed",
                    huge.len()
                ),
            ),
        ];
        for (input, reason) in cases {
            assert_eq!(
                parse_xoauth2(&input),
                Err(Error::sasl(XOAUTH2, reason)),
                "{:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }

    #[test]
    fn oauthbearer_valid_table() {
        let cases: Vec<(Vec<u8>, Option<&str>)> = vec![
            (
                format!("n,a=dr.martin@x.fr,\x01auth=Bearer {TOKEN}\x01\x01").into_bytes(),
                Some("dr.martin@x.fr"),
            ),
            (
                format!("n,,\x01host=mail.x.fr\x01port=993\x01auth=Bearer {TOKEN}\x01\x01")
                    .into_bytes(),
                None,
            ),
            (
                format!("y,a=we=2Cird=3Dname@x.fr,\x01auth=Bearer {TOKEN}\x01\x01").into_bytes(),
                Some("we,ird=name@x.fr"),
            ),
        ];
        for (input, authzid) in cases {
            let (mechanism, got, token) = bearer(parse_oauthbearer(&input).unwrap());
            assert_eq!(mechanism, Mechanism::OauthBearer);
            assert_eq!(got.as_deref(), authzid);
            assert_eq!(token, TOKEN);
        }
    }

    #[test]
    fn oauthbearer_invalid_table() {
        let cases: Vec<(&[u8], &str)> = vec![
            (b"", "no ^A after the GS2 header"),
            (b"n,,auth=Bearer abc", "no ^A after the GS2 header"),
            (
                b"p=tls-unique,,\x01auth=Bearer abc\x01\x01",
                "channel binding (p=) is not supported",
            ),
            (
                b"x,,\x01auth=Bearer abc\x01\x01",
                "GS2 channel binding flag \"x\" is not n, y or p=",
            ),
            (
                b"n\x01auth=Bearer abc\x01\x01",
                "GS2 header must be \"n,,\" or \"n,a=<authzid>,\"",
            ),
            (
                b"n,a=x@y.fr\x01auth=Bearer abc\x01\x01",
                "GS2 header must be \"n,,\" or \"n,a=<authzid>,\"",
            ),
            (
                b"n,u=x@y.fr,\x01auth=Bearer abc\x01\x01",
                "GS2 authzid must start with \"a=\"",
            ),
            (b"n,a=,\x01auth=Bearer abc\x01\x01", "GS2 authzid is empty"),
            (
                b"n,a=x=41@y.fr,\x01auth=Bearer abc\x01\x01",
                "authzid has an '=' that is not =2C or =3D",
            ),
            (
                b"n,,junk\x01auth=Bearer abc\x01\x01",
                "unexpected text between the GS2 header and ^A",
            ),
            (b"n,,\x01host=x\x01\x01", "no auth= field"),
            (
                b"n,,\x01auth=Bearer abc\x01",
                "message does not end with ^A^A",
            ),
            (
                b"n,,\x01auth=Bearer abc\x01auth=Bearer def\x01\x01",
                "key \"auth\" appears twice",
            ),
            (
                b"n,,\x01auth=Bearer a\"c\x01\x01",
                "bearer token has characters outside the RFC 6750 b64token set",
            ),
            (
                b"n,,\x011x=y\x01auth=Bearer abc\x01\x01",
                "key \"1x\" is not letters only",
            ),
            (
                b"\xff,,\x01auth=Bearer abc\x01\x01",
                "GS2 header is not valid UTF-8",
            ),
        ];
        for (input, reason) in cases {
            assert_eq!(
                parse_oauthbearer(input),
                Err(Error::sasl(OAUTHBEARER, reason)),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
