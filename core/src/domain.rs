//! Domain name normalisation: lower-case ASCII (A-label) form per UTS 46.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use crate::error::{Error, Result};
use crate::redact::redact_for_error;

/// RFC 1035 limit on the text form of a name, without the trailing root dot.
const MAX_DOMAIN_OCTETS: usize = 253;
/// RFC 1035 limit on one label.
const MAX_LABEL_OCTETS: usize = 63;
/// Inputs far beyond any valid name are refused before IDNA processing (bounded work).
const MAX_INPUT_OCTETS: usize = 1024;

/// Normalises a domain name to the form used everywhere in mssd: one trailing root dot
/// removed, UTS 46 mapping (lower-case, width and compatibility folding), then the ASCII
/// form with `xn--` A-labels. Only letters, digits and hyphens are accepted (STD3 rules),
/// no label may begin or end with a hyphen, and DNS lengths are enforced.
///
/// Address literals (`[1.2.3.4]`) are refused: MSSanté peers are known by name.
pub fn normalize_domain(s: &str) -> Result<String> {
    let invalid = |reason: String| Error::InvalidDomain {
        input: redact_for_error(s),
        reason,
    };
    if s.len() > MAX_INPUT_OCTETS {
        return Err(invalid(format!(
            "{} octets is far longer than the {MAX_DOMAIN_OCTETS} allowed",
            s.len()
        )));
    }
    if s.starts_with('[') {
        return Err(invalid(
            "address literals are not accepted, MSSanté domains are names".to_owned(),
        ));
    }
    let name = s.strip_suffix('.').unwrap_or(s);
    if name.is_empty() {
        return Err(invalid("domain is empty".to_owned()));
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!("contains the character {c:?}")));
    }
    // Empty labels are checked on the input: IDNA processing would not report them.
    if name.split('.').any(str::is_empty) {
        return Err(invalid(
            "contains an empty label (two dots in a row or a leading dot)".to_owned(),
        ));
    }
    let ascii = Uts46::new()
        .to_ascii(
            name.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
            DnsLength::Ignore,
        )
        .map_err(|_| {
            invalid(
                "not a valid internationalised domain name (UTS 46): only letters, digits and \
                 hyphens are allowed, and a label may not begin or end with a hyphen"
                    .to_owned(),
            )
        })?
        .into_owned();
    check_dns_lengths(&ascii).map_err(invalid)?;
    Ok(ascii)
}

/// Returns the Unicode (U-label) form of an already normalised ASCII domain, for display.
pub(crate) fn domain_to_unicode(ascii: &str) -> String {
    // The input was validated by `normalize_domain`, so conversion errors cannot occur;
    // if they did, the replacement characters make that visible rather than hidden.
    idna::domain_to_unicode(ascii).0
}

fn check_dns_lengths(ascii: &str) -> std::result::Result<(), String> {
    if ascii.len() > MAX_DOMAIN_OCTETS {
        return Err(format!(
            "ASCII form is {} octets, longer than the {MAX_DOMAIN_OCTETS} allowed",
            ascii.len()
        ));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err("contains an empty label".to_owned());
        }
        if label.len() > MAX_LABEL_OCTETS {
            return Err(format!(
                "label {label:?} is {} octets, longer than the {MAX_LABEL_OCTETS} allowed",
                label.len()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_domains() {
        // Expected A-labels computed with Python's punycode codec, not by this crate.
        let cases = [
            ("hopital.test.mssante.fr", "hopital.test.mssante.fr"),
            ("HOPITAL.Test.MSSante.FR", "hopital.test.mssante.fr"),
            ("hopital.fr.", "hopital.fr"),
            ("Hôpital-Exemple.FR", "xn--hpital-exemple-0ob.fr"),
            ("xn--hpital-exemple-0ob.fr", "xn--hpital-exemple-0ob.fr"),
            ("XN--HPITAL-EXEMPLE-0OB.FR", "xn--hpital-exemple-0ob.fr"),
            ("santé.fr", "xn--sant-epa.fr"),
            ("münchen.de", "xn--mnchen-3ya.de"),
            ("ｅｘａｍｐｌｅ.fr", "example.fr"),
            ("15-20.mssante.fr", "15-20.mssante.fr"),
            ("localhost", "localhost"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_domain(input).unwrap(),
                expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn label_and_name_length_limits() {
        let label63 = "a".repeat(63);
        assert_eq!(
            normalize_domain(&format!("{label63}.fr")).unwrap(),
            format!("{label63}.fr")
        );
        // 4 labels of 63 + 3 dots = 255 octets: over 253.
        let too_long = [label63.as_str(); 4].join(".");
        let err = normalize_domain(&too_long).unwrap_err().to_string();
        assert!(err.contains("longer than the 253 allowed"), "{err}");
        let just_fits = format!("{}.{}", [label63.as_str(); 3].join("."), "a".repeat(61));
        assert_eq!(just_fits.len(), 253);
        assert!(normalize_domain(&just_fits).is_ok());
    }

    #[test]
    fn invalid_domains() {
        let label64 = format!("{}.fr", "a".repeat(64));
        let huge = "a".repeat(2000);
        let cases = [
            ("", "empty"),
            (".", "empty"),
            ("[1.2.3.4]", "address literals"),
            ("[IPv6:::1]", "address literals"),
            ("a..fr", "empty label"),
            (".a.fr", "empty label"),
            ("a.fr..", "empty label"),
            ("-a.fr", "hyphen"),
            ("a-.fr", "hyphen"),
            ("a_b.fr", "only letters, digits and hyphens"),
            ("a b.fr", "' '"),
            ("a.fr\n", "'\\n'"),
            ("a@b.fr", "only letters, digits and hyphens"),
            ("xn--a.fr", "UTS 46"),
            (label64.as_str(), "longer than the 63 allowed"),
            (huge.as_str(), "far longer"),
        ];
        for (input, expected) in cases {
            match normalize_domain(input) {
                Err(Error::InvalidDomain { reason, .. }) => {
                    assert!(
                        reason.contains(expected),
                        "input {input:?}: reason {reason:?}"
                    );
                }
                other => panic!("input {input:?}: expected InvalidDomain, got {other:?}"),
            }
        }
    }

    #[test]
    fn unicode_form_round_trips() {
        let ascii = normalize_domain("Hôpital-Exemple.FR").unwrap();
        assert_eq!(domain_to_unicode(&ascii), "hôpital-exemple.fr");
        assert_eq!(domain_to_unicode("hopital.fr"), "hopital.fr");
    }
}
