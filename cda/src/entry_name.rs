//! Which zip entry names we accept: relative paths of plain components, so no entry can name
//! a place outside the archive or mean different things on different systems.

/// Why `name` is refused, if it is.
pub fn refusal(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name.len() > 255 {
        return Some("longer than 255 bytes");
    }
    if name.chars().any(char::is_control) {
        return Some("control character");
    }
    if name.contains('\\') {
        return Some("backslash");
    }
    if name.starts_with('/') {
        return Some("absolute path");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some("drive letter");
    }
    let mut components = name.split('/').peekable();
    while let Some(component) = components.next() {
        match component {
            ".." => return Some("parent directory component (..)"),
            "." => return Some("current directory component (.)"),
            // A trailing slash marks a directory entry; an inner empty component is `a//b`.
            "" if components.peek().is_some() => return Some("empty path component"),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn names_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("IHE_XDM/SUBSET01/METADATA.XML", None),
            ("README.TXT", None),
            ("IHE_XDM/", None),
            ("IHE_XDM/SUBSET01/DOC0001.XML", None),
            ("../x", Some("parent directory component (..)")),
            (
                "IHE_XDM/../../etc/passwd",
                Some("parent directory component (..)"),
            ),
            ("/etc/passwd", Some("absolute path")),
            ("C:/Windows/x", Some("drive letter")),
            ("c:x", Some("drive letter")),
            ("IHE_XDM\\SUBSET01\\DOC.XML", Some("backslash")),
            ("a\u{0}b", Some("control character")),
            ("a\nb", Some("control character")),
            ("a\u{7f}b", Some("control character")),
            ("./a", Some("current directory component (.)")),
            ("a//b", Some("empty path component")),
            ("", Some("empty name")),
        ];
        for (name, expected) in cases {
            assert_eq!(refusal(name), *expected, "{name:?}");
        }
        assert_eq!(refusal(&"a".repeat(256)), Some("longer than 255 bytes"));
    }
}
