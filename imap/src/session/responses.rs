//! Building status responses: tagged OK/NO/BAD with RFC 5530 codes, and safe text.

use std::convert::Infallible;

use imap_next::imap_types::core::{Tag, Text};
use imap_next::imap_types::response::{Code, CodeOther, Status};

/// Response text: no CR/LF (a client-supplied fragment cannot inject a line), never empty,
/// never starting with '[' (which would read as a response code).
pub(crate) fn text(s: impl Into<String>) -> Text<'static> {
    let mut s: String = s
        .into()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.trim().is_empty() {
        s = "done".into();
    }
    if s.starts_with('[') {
        s.insert(0, ' ');
    }
    Text::unvalidated(s)
}

/// An RFC 5530 (or other) code imap-types has no variant for.
pub(crate) fn code(name: &'static str) -> Code<'static> {
    Code::Other(CodeOther::unvalidated(name.as_bytes()))
}

fn never<T>(r: Result<T, Infallible>) -> T {
    match r {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

pub(crate) fn ok(tag: &Tag<'static>, code: Option<Code<'static>>, t: &str) -> Status<'static> {
    never(Status::ok(Some(tag.clone()), code, text(t)))
}

pub(crate) fn no(tag: &Tag<'static>, code: Option<Code<'static>>, t: &str) -> Status<'static> {
    never(Status::no(Some(tag.clone()), code, text(t)))
}

pub(crate) fn bad(tag: &Tag<'static>, code: Option<Code<'static>>, t: &str) -> Status<'static> {
    never(Status::bad(Some(tag.clone()), code, text(t)))
}

pub(crate) fn untagged_ok(code: Option<Code<'static>>, t: &str) -> Status<'static> {
    never(Status::ok(None, code, text(t)))
}

pub(crate) fn untagged_bad(t: &str) -> Status<'static> {
    never(Status::bad(None, None, text(t)))
}

pub(crate) fn bye(code: Option<Code<'static>>, t: &str) -> Status<'static> {
    never(Status::bye(code, text(t)))
}

/// The tag of a command imap-codec could not decode, when its first token is a valid tag,
/// so the BAD can be tagged (RFC 9051 7.1.3).
pub(crate) fn tag_of(discarded: &[u8]) -> Option<Tag<'static>> {
    let end = discarded.iter().position(|b| *b == b' ')?;
    Tag::try_from(discarded[..end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_one_safe_line() {
        let cases = [
            ("hello", "hello"),
            ("a\r\nb", "a  b"),
            ("", "done"),
            ("[ALERT] x", " [ALERT] x"),
        ];
        for (input, expected) in cases {
            assert_eq!(text(input).inner(), expected, "{input:?}");
        }
    }

    #[test]
    fn tag_of_malformed_lines() {
        let cases: [(&[u8], Option<&str>); 4] = [
            (b"a1 FETCH ((\r\n", Some("a1")),
            (b"a+b FOO\r\n", None),
            (b"nospace", None),
            (b"x.9 BOGUS\r\n", Some("x.9")),
        ];
        for (input, expected) in cases {
            assert_eq!(
                tag_of(input).as_ref().map(|t| t.inner()),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
