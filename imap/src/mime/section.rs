//! BODY[section]<partial> (RFC 3501 §6.4.5, RFC 9051 §6.4.5): byte-exact slices of the stored
//! message; HEADER.FIELDS and HEADER.FIELDS.NOT build a new buffer of the selected raw fields.

use std::borrow::Cow;
use std::num::NonZeroU32;

use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::fetch::{Part, Section};
use mail_parser::{MessageParser, MimeHeaders, PartType};

use super::MAX_MIME_DEPTH;
use super::header_block::{header_fields, split_header_body};

/// `<offset.length>` of a FETCH BODY[...]: same shape as imap-types' `BodyExt::partial`.
pub type Partial = (u32, NonZeroU32);

/// The bytes of `spec` (`None` = BODY[], the whole message), cut to `partial` if given.
/// `None` when the part does not exist (or HEADER/TEXT of a part that is not message/rfc822).
pub fn section<'m>(
    message: &'m [u8],
    spec: Option<&Section<'_>>,
    partial: Option<Partial>,
) -> Option<Cow<'m, [u8]>> {
    let whole = select(message, spec)?;
    Some(match partial {
        None => whole,
        Some((offset, length)) => cut(whole, offset as usize, length.get() as usize),
    })
}

fn select<'m>(message: &'m [u8], spec: Option<&Section<'_>>) -> Option<Cow<'m, [u8]>> {
    let Some(spec) = spec else {
        return Some(Cow::Borrowed(message));
    };
    let top = Entity {
        raw: message,
        is_part: false,
        default_message: false,
    };
    match spec {
        Section::Part(path) => Some(Cow::Borrowed(body(locate(top, path)?.raw))),
        Section::Mime(path) => Some(Cow::Borrowed(split_header_body(locate(top, path)?.raw).0)),
        Section::Header(path) => Some(Cow::Borrowed(header(message_of(top, path.as_ref())?))),
        Section::Text(path) => Some(Cow::Borrowed(body(message_of(top, path.as_ref())?))),
        Section::HeaderFields(path, names) => {
            let names = names.as_ref();
            Some(Cow::Owned(filter_fields(
                message_of(top, path.as_ref())?,
                names,
                true,
            )))
        }
        Section::HeaderFieldsNot(path, names) => {
            let names = names.as_ref();
            Some(Cow::Owned(filter_fields(
                message_of(top, path.as_ref())?,
                names,
                false,
            )))
        }
    }
}

/// A message or a MIME part (header and body), as a slice of the stored message.
#[derive(Clone, Copy)]
struct Entity<'m> {
    raw: &'m [u8],
    is_part: bool,
    /// Parts of a multipart/digest default to message/rfc822 (RFC 2046 §5.1.5).
    default_message: bool,
}

impl<'m> Entity<'m> {
    /// The encapsulated message when this part is message/rfc822.
    fn encapsulated(self) -> Option<&'m [u8]> {
        let parsed = MessageParser::default().parse(self.raw)?;
        let part = parsed.parts.first()?;
        let is_message = match part.content_type() {
            Some(ct) => {
                ct.c_type.eq_ignore_ascii_case("message")
                    && ct.c_subtype.as_deref().is_some_and(|s| {
                        s.eq_ignore_ascii_case("rfc822") || s.eq_ignore_ascii_case("global")
                    })
            }
            None => self.default_message,
        };
        is_message.then(|| body(self.raw))
    }
}

/// The message whose HEADER/TEXT is asked: the top message, or a message/rfc822 part.
fn message_of<'m>(top: Entity<'m>, path: Option<&Part>) -> Option<&'m [u8]> {
    match path {
        None => Some(top.raw),
        Some(path) => locate(top, path)?.encapsulated(),
    }
}

fn locate<'m>(top: Entity<'m>, path: &Part) -> Option<Entity<'m>> {
    // Each level re-parses its container: past the cap a part is opaque (see MAX_MIME_DEPTH).
    if path.0.as_ref().len() > MAX_MIME_DEPTH {
        return None;
    }
    let mut current = top;
    for number in path.0.as_ref() {
        current = child(current, number.get() as usize)?;
    }
    Some(current)
}

/// Part `number` (1-based) of a message or of a multipart part. A message/rfc822 part's children
/// are those of the message it encapsulates; a non-multipart message has one part: itself.
fn child(entity: Entity<'_>, number: usize) -> Option<Entity<'_>> {
    let container = match entity.is_part {
        true => match entity.encapsulated() {
            Some(message) => Entity {
                raw: message,
                is_part: false,
                default_message: false,
            },
            None => entity,
        },
        false => entity,
    };
    let parsed = MessageParser::default().parse(container.raw)?;
    let top = parsed.parts.first()?;
    match &top.body {
        PartType::Multipart(children) => {
            let is_digest = top
                .content_type()
                .and_then(|ct| ct.c_subtype.as_deref())
                .is_some_and(|s| s.eq_ignore_ascii_case("digest"));
            let part = parsed
                .parts
                .get(*children.get(number.checked_sub(1)?)? as usize)?;
            let raw = container
                .raw
                .get(part.offset_header as usize..part.offset_end as usize)?;
            Some(Entity {
                raw,
                is_part: true,
                default_message: is_digest,
            })
        }
        _ if !container.is_part && number == 1 => Some(Entity {
            raw: container.raw,
            is_part: true,
            default_message: false,
        }),
        _ => None,
    }
}

fn header(message: &[u8]) -> &[u8] {
    split_header_body(message).0
}

fn body(message: &[u8]) -> &[u8] {
    split_header_body(message).1
}

/// The raw fields whose name is (`keep`) or is not (`!keep`) in `names`, then the empty line.
fn filter_fields(message: &[u8], names: &[AString<'_>], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for field in header_fields(header(message)) {
        let listed = names
            .iter()
            .any(|name| name.as_ref().eq_ignore_ascii_case(field.name));
        if listed == keep {
            out.extend_from_slice(field.raw);
            if !field.raw.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `<offset.length>`: an offset past the end gives an empty string (RFC 3501 §6.4.5).
fn cut(data: Cow<'_, [u8]>, offset: usize, length: usize) -> Cow<'_, [u8]> {
    let start = offset.min(data.len());
    let end = start.saturating_add(length).min(data.len());
    match data {
        Cow::Borrowed(bytes) => Cow::Borrowed(&bytes[start..end]),
        Cow::Owned(bytes) => Cow::Owned(bytes[start..end].to_vec()),
    }
}
