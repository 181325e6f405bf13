//! base64url without padding, as JOSE writes every binary value (RFC 7515 2).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes a base64url value; `what` names it in the error message.
pub(crate) fn decode(what: &str, text: &str) -> std::result::Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| format!("{what} is not base64url without padding: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_table() {
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("", Some(b"")),
            ("AQAB", Some(&[1, 0, 1])),
            ("_-8", Some(&[0xff, 0xef])),
            ("AQAB=", None),
            ("/+8", None),
            ("A", None),
            ("a b", None),
        ];
        for (text, expected) in cases {
            assert_eq!(decode("x", text).ok().as_deref(), *expected, "{text:?}");
        }
    }
}
