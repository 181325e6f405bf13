//! UTF-8 validation with Latin-1 detection: a Latin-1 export must be refused, never decoded
//! by guess, or names with accents would be stored mangled.

/// What the bytes of one line are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LineText<'a> {
    Utf8(&'a str),
    /// Not UTF-8, but every byte above 0x7F is a printable ISO-8859-1 / Windows-1252 character.
    Latin1,
    /// Neither: the reason, for the malformed-lines report.
    Invalid(String),
}

/// Windows-1252 bytes in 0x80..=0x9F that are unassigned; every other byte above 0x7F is a
/// printable character in Latin-1 (0xA0..=0xFF) or Windows-1252 (0x80..=0x9F).
const CP1252_UNASSIGNED: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

pub(crate) fn classify(bytes: &[u8]) -> LineText<'_> {
    match std::str::from_utf8(bytes) {
        Ok(text) => LineText::Utf8(text),
        Err(e) => {
            let plausible_latin1 = bytes.iter().all(|&b| {
                b == b'\t'
                    || (0x20..0x7F).contains(&b)
                    || (b >= 0x80 && !CP1252_UNASSIGNED.contains(&b))
            });
            if plausible_latin1 {
                LineText::Latin1
            } else {
                LineText::Invalid(format!(
                    "not valid UTF-8 (invalid byte 0x{:02X} at column {})",
                    bytes.get(e.valid_up_to()).copied().unwrap_or(0),
                    e.valid_up_to() + 1
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_lines() {
        let cases: &[(&[u8], &str)] = &[
            (b"PER|a@b.fr", "utf8"),
            ("Pr\u{e9}nom d'exercice|H\u{f4}pital".as_bytes(), "utf8"),
            (b"", "utf8"),
            // "Prénom" in Latin-1: é is the single byte 0xE9.
            (b"Pr\xe9nom d'exercice", "latin1"),
            (b"H\xf4pital \xc9mile", "latin1"),
            // Windows-1252 right single quotation mark.
            (b"l\x92h\xf4pital", "latin1"),
            // A NUL byte next to a high byte is not text at all.
            (b"abc\x00\xe9", "invalid"),
            (b"\x81abc", "invalid"),
            // Truncated UTF-8 after a control character.
            (b"\x01\xc3", "invalid"),
        ];
        for (bytes, expected) in cases {
            let got = match classify(bytes) {
                LineText::Utf8(_) => "utf8",
                LineText::Latin1 => "latin1",
                LineText::Invalid(_) => "invalid",
            };
            assert_eq!(got, *expected, "{bytes:?}");
        }
        assert_eq!(
            classify(b"ab\x81"),
            LineText::Invalid("not valid UTF-8 (invalid byte 0x81 at column 3)".to_owned())
        );
    }
}
