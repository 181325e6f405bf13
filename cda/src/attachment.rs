//! Finding the XDM archive in a message: a part named `IHE_XDM.zip` (name compared without
//! case, from `Content-Disposition` filename or `Content-Type` name), or an `application/zip`
//! part when the subject starts with `XDM/1.0/DDM`.

use mail_parser::{Message, MessageParser, MimeHeaders};

use crate::error::{CdaError, Result};

pub const XDM_NAME: &str = "IHE_XDM.zip";
pub const XDM_SUBJECT_PREFIX: &str = "XDM/1.0/DDM";

/// The decoded bytes of the message's XDM archive, if it has one.
pub fn find(message: &[u8]) -> Result<Option<Vec<u8>>> {
    if !may_carry_xdm(message) {
        return Ok(None);
    }
    let Some(parsed) = MessageParser::default().parse(message) else {
        return Ok(None);
    };
    let by_subject = parsed
        .subject()
        .is_some_and(|s| s.trim_start().starts_with(XDM_SUBJECT_PREFIX));
    let mut found: Vec<Vec<u8>> = Vec::new();
    for part in parsed.attachments() {
        if is_xdm_part(&parsed, part, by_subject) {
            found.push(part.contents().to_vec());
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        n => Err(CdaError::Attachment(format!(
            "the message has {n} XDM archives; one message carries one"
        ))),
    }
}

fn is_xdm_part(_message: &Message, part: &mail_parser::MessagePart, by_subject: bool) -> bool {
    let named = part
        .attachment_name()
        .is_some_and(|n| n.trim().eq_ignore_ascii_case(XDM_NAME))
        || part
            .content_type()
            .and_then(|ct| ct.attribute("name"))
            .is_some_and(|n| n.trim().eq_ignore_ascii_case(XDM_NAME));
    if named {
        return true;
    }
    by_subject
        && part.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("application")
                && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("zip"))
        })
}

/// A cheap first look, so ordinary mail is not parsed: an XDM message says "xdm" (the file
/// name, the subject) or "zip" (the media type, a name in an encoded word) on a header line,
/// in any case. Both contain a rare letter, so the scan jumps from one `x` or `z` to the
/// next; a hit on a line of base64 alone (an attachment's body, where any three letters turn
/// up) does not count.
pub fn may_carry_xdm(message: &[u8]) -> bool {
    let follows = |first: u8, upper: u8, rest: &[u8; 2]| {
        memchr::memchr2_iter(first, upper, message).any(|at| {
            message
                .get(at + 1..at + 3)
                .is_some_and(|next| next.eq_ignore_ascii_case(rest))
                && !on_base64_line(message, at)
        })
    };
    follows(b'x', b'X', b"dm") || follows(b'z', b'Z', b"ip") || encoded_name(message)
}

/// A file name in an RFC 2047 encoded word (`name="=?utf-8?B?…?="`) hides "IHE_XDM.zip":
/// such a line sends the message to the full parse.
fn encoded_name(message: &[u8]) -> bool {
    memchr::memmem::find_iter(message, b"=?").any(|at| {
        let start = memchr::memrchr(b'\n', &message[..at]).map_or(0, |i| i + 1);
        message[start..at]
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"name"))
    })
}

/// Whether the line around `at` holds nothing but base64 characters.
fn on_base64_line(message: &[u8], at: usize) -> bool {
    let start = memchr::memrchr(b'\n', &message[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &message[at..]).map_or(message.len(), |i| at + i);
    message[start..end]
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\r'))
}
