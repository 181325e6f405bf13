//! IMAP folder names as the store accepts them. Pure.
//!
//! The hierarchy separator is '/'. Names are case-sensitive, except that a first segment equal to
//! "INBOX" in any case means INBOX (RFC 9051 5.1), so it is written "INBOX".

use crate::error::{Error, Result};

pub(crate) const SEPARATOR: char = '/';

/// Longest name accepted, in bytes: keeps names usable by every client and in logs.
const MAX_NAME_LEN: usize = 512;

/// Validates `name` and returns its canonical form (INBOX prefix upper-cased).
pub(crate) fn canonical_folder_name(name: &str) -> Result<String> {
    let invalid = |reason: String| Error::invalid("folder name", reason);
    if name.is_empty() {
        return Err(invalid("it is empty".to_owned()));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "it is {} bytes, longer than the {MAX_NAME_LEN} allowed",
            name.len()
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| c.is_control() || matches!(c, '*' | '%'))
    {
        return Err(invalid(format!("it contains {bad:?}")));
    }
    if name.split(SEPARATOR).any(str::is_empty) {
        // The name itself stays out of the message: it may hold a patient's name.
        return Err(invalid(format!(
            "it has an empty level (leading, trailing or doubled '{SEPARATOR}')"
        )));
    }
    let (first, rest) = match name.split_once(SEPARATOR) {
        Some((first, rest)) => (first, Some(rest)),
        None => (name, None),
    };
    if first.eq_ignore_ascii_case(super::folders::INBOX) {
        return Ok(match rest {
            Some(rest) => format!("{}{SEPARATOR}{rest}", super::folders::INBOX),
            None => super::folders::INBOX.to_owned(),
        });
    }
    Ok(name.to_owned())
}

pub(crate) fn is_inbox(canonical: &str) -> bool {
    canonical == super::folders::INBOX
}

/// True when `name` is `ancestor` or lies under it.
pub(crate) fn is_within(name: &str, ancestor: &str) -> bool {
    name == ancestor
        || name
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with(SEPARATOR))
}

/// `name` moved from under `from` to under `to`; `None` when it is not within `from`.
pub(crate) fn renamed(name: &str, from: &str, to: &str) -> Option<String> {
    if !is_within(name, from) {
        return None;
    }
    Some(format!("{to}{}", &name[from.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        let cases: &[(&str, &str)] = &[
            ("INBOX", "INBOX"),
            ("inbox", "INBOX"),
            ("InBoX/Sub", "INBOX/Sub"),
            ("Inboxes", "Inboxes"),
            ("Archive", "Archive"),
            ("archive", "archive"),
            (
                "Projets/2024/Dossier patient",
                "Projets/2024/Dossier patient",
            ),
            ("Réunions", "Réunions"),
            ("&AOk-t&AOk-", "&AOk-t&AOk-"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                canonical_folder_name(input).unwrap(),
                *expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn invalid_names() {
        let too_long = "a".repeat(MAX_NAME_LEN + 1);
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("/", "empty level"),
            ("/Top", "empty level"),
            ("Top/", "empty level"),
            ("a//b", "empty level"),
            ("tab\there", "contains"),
            ("new\nline", "contains"),
            ("star*", "contains"),
            ("pct%", "contains"),
            (&too_long, "longer than"),
        ];
        for (input, reason) in cases {
            let err = canonical_folder_name(input).unwrap_err();
            assert!(
                matches!(&err, Error::Invalid { .. }) && err.to_string().contains(reason),
                "{input:?}: {err}"
            );
        }
    }

    #[test]
    fn hierarchy() {
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            ("a", "a", "b", Some("b")),
            ("a/x", "a", "b", Some("b/x")),
            ("a/x/y", "a", "c/d", Some("c/d/x/y")),
            ("ab", "a", "b", None),
            ("b/a", "a", "c", None),
            ("a", "a/x", "b", None),
        ];
        for (name, from, to, expected) in cases {
            assert_eq!(
                renamed(name, from, to).as_deref(),
                *expected,
                "{name} {from}->{to}"
            );
        }
        assert!(is_inbox("INBOX"));
        assert!(!is_inbox("INBOX/x"));
    }
}
