//! IMAP message flags as the store keeps them: validated, system flags in their canonical case,
//! no duplicates (compared without case), sorted — so equal sets compare equal.

use crate::error::{Error, Result};

/// `\Seen`, the flag unseen counts look at.
pub const SEEN: &str = "\\Seen";

/// System flags that may be stored (RFC 9051 section 2.3.2); `\Recent` lives in sessions only.
const SYSTEM_FLAGS: [&str; 5] = ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"];

/// Bounds that keep one message's flag list small.
const MAX_FLAG_LEN: usize = 128;
const MAX_FLAGS: usize = 64;

/// Validates and normalises a flag list. Pure.
pub fn normalize_flags(flags: &[String]) -> Result<Vec<String>> {
    if flags.len() > MAX_FLAGS {
        return Err(Error::invalid(
            "flags",
            format!("{} flags, more than the {MAX_FLAGS} allowed", flags.len()),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(flags.len());
    for flag in flags {
        let flag = normalize_flag(flag)?;
        if !out.iter().any(|f| f.eq_ignore_ascii_case(&flag)) {
            out.push(flag);
        }
    }
    out.sort_by_key(|f| f.to_ascii_lowercase());
    Ok(out)
}

/// True when the normalised list holds `\Seen`.
pub fn is_seen(flags: &[String]) -> bool {
    flags.iter().any(|f| f == SEEN)
}

fn normalize_flag(flag: &str) -> Result<String> {
    let invalid = |reason: String| Error::invalid("flag", reason);
    if flag.is_empty() {
        return Err(invalid("a flag is empty".to_owned()));
    }
    if flag.len() > MAX_FLAG_LEN {
        return Err(invalid(format!(
            "a flag is {} bytes, longer than the {MAX_FLAG_LEN} allowed",
            flag.len()
        )));
    }
    if let Some(name) = flag.strip_prefix('\\') {
        if name.eq_ignore_ascii_case("recent") {
            return Err(invalid(
                "\\Recent is set by the server, it cannot be stored".to_owned(),
            ));
        }
        return SYSTEM_FLAGS
            .iter()
            .find(|known| known[1..].eq_ignore_ascii_case(name))
            .map(|known| (*known).to_owned())
            .ok_or_else(|| invalid(format!("{flag:?} is not a system flag")));
    }
    // A keyword is an IMAP atom: no specials, spaces or controls (RFC 9051 `atom`, `flag-keyword`).
    if let Some(bad) = flag
        .chars()
        .find(|c| !c.is_ascii() || c.is_ascii_control() || " (){%*\"\\]".contains(*c))
    {
        return Err(invalid(format!(
            "{flag:?} contains {bad:?}, not allowed in a keyword"
        )));
    }
    Ok(flag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn valid_flag_lists() {
        let cases: &[(&[&str], &[&str])] = &[
            (&[], &[]),
            (&["\\seen"], &["\\Seen"]),
            (&["\\SEEN", "\\Seen"], &["\\Seen"]),
            (&["\\Flagged", "\\answered"], &["\\Answered", "\\Flagged"]),
            (&["$Label1", "\\Deleted"], &["$Label1", "\\Deleted"]),
            (&["Junk", "junk", "$Forwarded"], &["$Forwarded", "Junk"]),
            (&["\\Draft", "NonJunk"], &["\\Draft", "NonJunk"]),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_flags(&strings(input)).unwrap(),
                strings(expected),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn invalid_flags() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("\\Recent", "set by the server"),
            ("\\Important", "not a system flag"),
            ("two words", "not allowed"),
            ("paren(", "not allowed"),
            ("star*", "not allowed"),
            ("quote\"", "not allowed"),
            ("back\\slash", "not allowed"),
            ("bracket]", "not allowed"),
            ("tab\t", "not allowed"),
            ("été", "not allowed"),
        ];
        for (flag, reason) in cases {
            let err = normalize_flags(&strings(&[flag])).unwrap_err();
            assert!(err.to_string().contains(reason), "{flag:?}: {err}");
        }
        let too_long = "a".repeat(MAX_FLAG_LEN + 1);
        assert!(normalize_flags(&[too_long]).is_err());
        let too_many: Vec<String> = (0..=MAX_FLAGS).map(|i| format!("k{i}")).collect();
        assert!(normalize_flags(&too_many).is_err());
    }

    #[test]
    fn seen_detection() {
        assert!(is_seen(&normalize_flags(&strings(&["\\seen"])).unwrap()));
        assert!(!is_seen(
            &normalize_flags(&strings(&["Seen", "\\Flagged"])).unwrap()
        ));
    }
}
