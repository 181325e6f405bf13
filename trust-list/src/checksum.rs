//! SHA-256 checksums published beside the list: a hex value or a document starting with one.

use crate::error::{Error, Result};

/// Length of a hex SHA-256 digest.
const HEX_DIGEST_LEN: usize = 64;

/// The digest at the start of a checksum document (`<hex>` or `<hex>  file.xml`, as
/// `sha256sum` writes it), lower-cased. `origin` names the document in errors.
pub fn digest_from_checksum_text(text: &[u8], origin: &str) -> Result<String> {
    let bad = |reason: String| Error::BadChecksum {
        origin: origin.to_owned(),
        reason,
    };
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    let token: &[u8] = text
        .split(|b| b.is_ascii_whitespace())
        .find(|t| !t.is_empty())
        .ok_or_else(|| bad("it is empty".to_owned()))?;
    let token = std::str::from_utf8(token)
        .map_err(|_| bad("it does not start with a hex SHA-256 digest".to_owned()))?;
    parse_hex_digest(token).map_err(bad)
}

/// A 64-digit hex digest, lower-cased; the reason otherwise.
pub(crate) fn parse_hex_digest(token: &str) -> std::result::Result<String, String> {
    if token.len() != HEX_DIGEST_LEN || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        let shown: String = token.chars().take(80).collect();
        return Err(format!(
            "{shown:?} is not a SHA-256 digest ({HEX_DIGEST_LEN} hex digits)"
        ));
    }
    Ok(token.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn checksum_text_table() {
        let upper = D.to_ascii_uppercase();
        let valid: Vec<(String, &str)> = vec![
            (D.to_owned(), D),
            (format!("{D}\n"), D),
            (format!("  {upper}  listeblanche.xml\n"), D),
            (format!("\u{feff}{D} *listeblanche.xml"), D),
            (format!("{D}\r\n"), D),
        ];
        for (input, expected) in valid {
            assert_eq!(
                digest_from_checksum_text(input.as_bytes(), "test").unwrap(),
                expected,
                "input {input:?}"
            );
        }
        let invalid: Vec<(Vec<u8>, &str)> = vec![
            (b"".to_vec(), "empty"),
            (b" \n\t".to_vec(), "empty"),
            (D.as_bytes()[..63].to_vec(), "64 hex digits"),
            (format!("{D}0").into_bytes(), "64 hex digits"),
            (format!("g{}", &D[1..]).into_bytes(), "64 hex digits"),
            (b"<html>not found</html>".to_vec(), "64 hex digits"),
            (vec![0xff, 0xfe, b'a'], "does not start"),
            (format!("SHA256 (f) = {D}").into_bytes(), "64 hex digits"),
        ];
        for (input, expected) in invalid {
            let err = digest_from_checksum_text(&input, "https://x/l.sha256").unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(err, Error::BadChecksum { .. }) && text.contains(expected),
                "input {input:?}: {text}"
            );
            assert!(text.contains("https://x/l.sha256"), "{text}");
        }
    }
}
