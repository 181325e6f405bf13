//! Mail addresses (RFC 5321 `Mailbox`, with RFC 6531 UTF-8 local parts).

use std::fmt;
use std::str::FromStr;

use crate::domain::{domain_to_unicode, normalize_domain};
use crate::error::{Error, Result};
use crate::redact::{redact_for_error, redact_ins_runs};
use crate::serde_string::serde_as_string;

/// RFC 5321 section 4.5.3.1.1.
const MAX_LOCAL_PART_OCTETS: usize = 64;
/// RFC 5321 section 4.5.3.1.2.
const MAX_DOMAIN_OCTETS: usize = 255;

/// A mailbox address `local@domain`.
///
/// The local part keeps its case (RFC 5321 says only the receiving host may interpret
/// it) and is held in its shortest RFC 5321 form: a quoted string that is a valid
/// dot-string loses its quotes, and other quoted strings keep only the escapes they
/// need. The domain is held lower-case in ASCII (A-label) form.
/// `Debug` redacts INS-like local parts (citizen mailboxes are `<INS>@domain`), so that a
/// `tracing` field cannot leak an INS; `Display` gives the clear address for protocols.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// `local@domain`, the RFC 5321 text form.
    text: String,
    /// Byte index of the `@` separating the local part from the domain in `text`.
    at: usize,
}

impl Address {
    /// Parses an address as it appears in `MAIL FROM`/`RCPT TO`, without the angle
    /// brackets (callers strip them). Address literals are refused.
    pub fn parse(s: &str) -> Result<Address> {
        let invalid = |reason: String| Error::InvalidAddress {
            input: redact_for_error(s),
            reason,
        };
        if s.is_empty() {
            return Err(invalid("address is empty".to_owned()));
        }
        if s.starts_with('<') || s.ends_with('>') {
            return Err(invalid(
                "angle brackets are not part of the address, strip them first".to_owned(),
            ));
        }
        let (raw_local, raw_domain) = split_at_separator(s).map_err(invalid)?;
        if raw_local.len() > MAX_LOCAL_PART_OCTETS {
            return Err(invalid(format!(
                "local part is {} octets, longer than the {MAX_LOCAL_PART_OCTETS} allowed",
                raw_local.len()
            )));
        }
        let local = canonical_local_part(raw_local).map_err(invalid)?;
        if raw_domain.is_empty() {
            return Err(invalid("domain is empty".to_owned()));
        }
        if raw_domain.len() > MAX_DOMAIN_OCTETS {
            return Err(invalid(format!(
                "domain is {} octets, longer than the {MAX_DOMAIN_OCTETS} allowed",
                raw_domain.len()
            )));
        }
        let domain = normalize_domain(raw_domain).map_err(|e| match e {
            Error::InvalidDomain { reason, .. } => invalid(format!("domain: {reason}")),
            other => other,
        })?;
        Ok(Address {
            at: local.len(),
            text: format!("{local}@{domain}"),
        })
    }

    /// The local part in RFC 5321 form (quoted when it must be), case preserved.
    pub fn local_part(&self) -> &str {
        &self.text[..self.at]
    }

    /// The domain, lower-case ASCII with `xn--` A-labels.
    pub fn domain(&self) -> &str {
        &self.text[self.at + 1..]
    }

    /// The domain in Unicode (U-label) form, for display to people.
    pub fn domain_unicode(&self) -> String {
        domain_to_unicode(self.domain())
    }

    /// `local@domain`, as written on the wire.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The storage key: local part lower-cased, `@`, domain. Two addresses that differ
    /// only by the case of their local part name the same mailbox in mssd.
    pub fn canonical(&self) -> String {
        format!("{}@{}", self.local_part().to_lowercase(), self.domain())
    }

    /// The address with any INS-like local part redacted (`29510*@patient.mssante.fr`),
    /// for logs.
    pub fn redacted(&self) -> String {
        redact_ins_runs(&self.text)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Address").field(&self.redacted()).finish()
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Address::parse(s)
    }
}

serde_as_string!(Address, "a mail address local@domain", Address::as_str);

/// Splits at the `@` that ends the local part: after the closing quote of a quoted
/// string, else the first `@` (a dot-string cannot hold one).
fn split_at_separator(s: &str) -> std::result::Result<(&str, &str), String> {
    let local_end = if s.starts_with('"') {
        quoted_string_end(s)?
    } else {
        s.find('@')
            .ok_or_else(|| "missing '@' between local part and domain".to_owned())?
    };
    let (local, rest) = s.split_at(local_end);
    match rest.strip_prefix('@') {
        Some(domain) => Ok((local, domain)),
        None if rest.is_empty() => Err("missing '@' between local part and domain".to_owned()),
        None => Err("a quoted local part must be followed directly by '@'".to_owned()),
    }
}

/// Byte index just past the closing quote of the quoted string that starts `s`.
fn quoted_string_end(s: &str) -> std::result::Result<usize, String> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return Ok(i + 1),
            _ => {}
        }
    }
    Err("quoted local part has no closing quote".to_owned())
}

/// Validates a local part and returns its shortest RFC 5321 form.
fn canonical_local_part(raw: &str) -> std::result::Result<String, String> {
    if raw.is_empty() {
        return Err("local part is empty".to_owned());
    }
    match raw.strip_prefix('"') {
        Some(quoted) => {
            let content = unquote(quoted.strip_suffix('"').unwrap_or(quoted))?;
            if content.is_empty() {
                return Err("quoted local part is empty".to_owned());
            }
            if check_dot_string(&content).is_ok() {
                Ok(content)
            } else {
                Ok(quote(&content))
            }
        }
        None => {
            check_dot_string(raw)?;
            Ok(raw.to_owned())
        }
    }
}

/// RFC 5321 `Dot-string`: atoms of `atext` (RFC 6531: plus non-ASCII) joined by dots.
fn check_dot_string(s: &str) -> std::result::Result<(), String> {
    if s.split('.').any(str::is_empty) {
        return Err("local part has an empty atom (a leading, trailing or doubled dot)".to_owned());
    }
    match s.chars().find(|c| *c != '.' && !is_atext(*c)) {
        Some(c) => Err(format!(
            "local part contains {c:?}, which is only allowed inside a quoted string"
        )),
        None => Ok(()),
    }
}

/// RFC 5322 `atext`, extended by RFC 6531 with non-ASCII characters. Non-ASCII control
/// and space characters are refused: they are invisible and serve only to deceive.
fn is_atext(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
    } else {
        is_visible_non_ascii(c)
    }
}

fn is_visible_non_ascii(c: char) -> bool {
    !c.is_control() && !c.is_whitespace()
}

/// Decodes the inside of a quoted string (RFC 5321 `QcontentSMTP`, RFC 6531 UTF-8).
fn unquote(inner: &str) -> std::result::Result<String, String> {
    let mut content = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if (' '..='~').contains(&e) => content.push(e),
                Some(e) => {
                    return Err(format!(
                        "quoted local part escapes {e:?}, only printable ASCII may be escaped"
                    ));
                }
                None => return Err("quoted local part ends with a lone backslash".to_owned()),
            },
            // qtextSMTP: printable ASCII and space except '"' and '\'.
            ' '..='~' if c != '"' => content.push(c),
            c if !c.is_ascii() && is_visible_non_ascii(c) => content.push(c),
            c => {
                return Err(format!(
                    "quoted local part contains {c:?} unescaped or not allowed"
                ));
            }
        }
    }
    Ok(content)
}

/// Quotes `content`, escaping only `"` and `\`.
fn quote(content: &str) -> String {
    let mut quoted = String::with_capacity(content.len() + 2);
    quoted.push('"');
    for c in content.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses() {
        // (input, local_part, domain, canonical). A-labels computed with Python's codec.
        let cases = [
            (
                "Dr.Martin@Hôpital-Exemple.FR",
                "Dr.Martin",
                "xn--hpital-exemple-0ob.fr",
                "dr.martin@xn--hpital-exemple-0ob.fr",
            ),
            (
                "jean.dupont@hopital.test.mssante.fr",
                "jean.dupont",
                "hopital.test.mssante.fr",
                "jean.dupont@hopital.test.mssante.fr",
            ),
            (
                "295109912611193@patient.mssante.fr",
                "295109912611193",
                "patient.mssante.fr",
                "295109912611193@patient.mssante.fr",
            ),
            (
                "user+tag@EXAMPLE.fr.",
                "user+tag",
                "example.fr",
                "user+tag@example.fr",
            ),
            ("\"john\"@x.fr", "john", "x.fr", "john@x.fr"),
            (
                "\"John Doe\"@x.fr",
                "\"John Doe\"",
                "x.fr",
                "\"john doe\"@x.fr",
            ),
            ("\"a\\\"b\"@x.fr", "\"a\\\"b\"", "x.fr", "\"a\\\"b\"@x.fr"),
            ("\"a\\\\b\"@x.fr", "\"a\\\\b\"", "x.fr", "\"a\\\\b\"@x.fr"),
            ("\"a\\b\"@x.fr", "ab", "x.fr", "ab@x.fr"),
            ("\"a@b\"@x.fr", "\"a@b\"", "x.fr", "\"a@b\"@x.fr"),
            ("\"a..b\"@x.fr", "\"a..b\"", "x.fr", "\"a..b\"@x.fr"),
            (
                "\"élo die\"@x.fr",
                "\"élo die\"",
                "x.fr",
                "\"élo die\"@x.fr",
            ),
            (
                "Élodie.Müller@santé.fr",
                "Élodie.Müller",
                "xn--sant-epa.fr",
                "élodie.müller@xn--sant-epa.fr",
            ),
            (
                "用户@例子.fr",
                "用户",
                "xn--fsqu00a.fr",
                "用户@xn--fsqu00a.fr",
            ),
            (
                "!#$%&'*+-/=?^_`{|}~@x.fr",
                "!#$%&'*+-/=?^_`{|}~",
                "x.fr",
                "!#$%&'*+-/=?^_`{|}~@x.fr",
            ),
            ("a@localhost", "a", "localhost", "a@localhost"),
        ];
        for (input, local, domain, canonical) in cases {
            let address = Address::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(address.local_part(), local, "local part of {input:?}");
            assert_eq!(address.domain(), domain, "domain of {input:?}");
            assert_eq!(address.canonical(), canonical, "canonical of {input:?}");
            assert_eq!(address.to_string(), format!("{local}@{domain}"));
            assert_eq!(address.as_str(), format!("{local}@{domain}"));
            // The text form parses back to the same address.
            assert_eq!(
                Address::parse(address.as_str()).unwrap(),
                address,
                "{input:?}"
            );
        }
    }

    #[test]
    fn length_limits() {
        let local64 = "a".repeat(64);
        assert!(Address::parse(&format!("{local64}@x.fr")).is_ok());
        // 32 two-octet characters: 64 octets, allowed.
        assert!(Address::parse(&format!("{}@x.fr", "é".repeat(32))).is_ok());
        let label63 = "b".repeat(63);
        assert!(Address::parse(&format!("a@{label63}.fr")).is_ok());
    }

    #[test]
    fn invalid_addresses() {
        let local65 = format!("{}@x.fr", "a".repeat(65));
        let local65_utf8 = format!("{}a@x.fr", "é".repeat(32));
        let label64 = format!("a@{}.fr", "b".repeat(64));
        let domain256 = format!("a@{}", vec!["c".repeat(63); 4].join(".") + "z");
        let cases = [
            ("", "address is empty"),
            ("<a@x.fr>", "angle brackets"),
            ("a@x.fr>", "angle brackets"),
            ("a.x.fr", "missing '@'"),
            ("@x.fr", "local part is empty"),
            ("a@", "domain is empty"),
            (".a@x.fr", "empty atom"),
            ("a.@x.fr", "empty atom"),
            ("a..b@x.fr", "empty atom"),
            ("a b@x.fr", "contains ' '"),
            ("a,b@x.fr", "contains ','"),
            ("a(b)@x.fr", "contains '('"),
            ("a\tb@x.fr", "contains '\\t'"),
            ("a\u{a0}b@x.fr", "contains '\\u{a0}'"),
            ("a@b@x.fr", "domain: "),
            ("\"abc@x.fr", "no closing quote"),
            ("\"a\"b@x.fr", "followed directly by '@'"),
            ("\"a\"", "missing '@'"),
            ("\"\"@x.fr", "quoted local part is empty"),
            ("\"a\u{7}\"@x.fr", "not allowed"),
            ("\"a\\é\"@x.fr", "only printable ASCII may be escaped"),
            ("a@[1.2.3.4]", "address literals"),
            ("a@-x.fr", "domain: "),
            ("a@x_y.fr", "domain: "),
            ("a@x..fr", "empty label"),
            ("a@x.fr ", "domain: "),
            (local65.as_str(), "65 octets, longer than the 64"),
            (local65_utf8.as_str(), "65 octets, longer than the 64"),
            (label64.as_str(), "longer than the 63 allowed"),
            (domain256.as_str(), "256 octets, longer than the 255"),
        ];
        for (input, expected) in cases {
            match Address::parse(input) {
                Err(Error::InvalidAddress { reason, .. }) => {
                    assert!(
                        reason.contains(expected),
                        "input {input:?}: reason {reason:?}"
                    );
                }
                other => panic!("input {input:?}: expected InvalidAddress, got {other:?}"),
            }
        }
    }

    #[test]
    fn errors_never_echo_an_ins() {
        let err = Address::parse("295109912611193@@patient.mssante.fr").unwrap_err();
        let message = err.to_string();
        assert!(!message.contains("295109912611193"), "{message}");
        assert!(message.contains("29510*"), "{message}");
    }

    #[test]
    fn debug_and_redacted_hide_an_ins_local_part() {
        let citizen = Address::parse("295109912611193@patient.mssante.fr").unwrap();
        assert_eq!(citizen.redacted(), "29510*@patient.mssante.fr");
        assert_eq!(
            format!("{citizen:?}"),
            "Address(\"29510*@patient.mssante.fr\")"
        );
        assert_eq!(citizen.to_string(), "295109912611193@patient.mssante.fr");
        let professional = Address::parse("Dr.Martin@x.fr").unwrap();
        assert_eq!(format!("{professional:?}"), "Address(\"Dr.Martin@x.fr\")");
    }

    #[test]
    fn case_of_local_part_is_kept_but_canonical_ignores_it() {
        let upper = Address::parse("Dr.Martin@x.fr").unwrap();
        let lower = Address::parse("dr.martin@X.FR").unwrap();
        assert_ne!(upper, lower);
        assert_eq!(upper.canonical(), lower.canonical());
    }

    #[test]
    fn unicode_domain_for_display() {
        let address = Address::parse("Dr.Martin@Hôpital-Exemple.FR").unwrap();
        assert_eq!(address.domain_unicode(), "hôpital-exemple.fr");
    }

    #[test]
    fn from_str_and_serde_use_the_text_form() {
        let address: Address = "Dr.Martin@Hôpital-Exemple.FR".parse().unwrap();
        let json = serde_json::to_string(&address).unwrap();
        assert_eq!(json, "\"Dr.Martin@xn--hpital-exemple-0ob.fr\"");
        let back: Address = serde_json::from_str(&json).unwrap();
        assert_eq!(back, address);
        let err = serde_json::from_str::<Address>("\"no-at-sign\"").unwrap_err();
        assert!(err.to_string().contains("missing '@'"), "{err}");
        assert!(serde_json::from_str::<Address>("42").is_err());
    }
}
