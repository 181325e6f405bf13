//! BODY and BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2) of a stored message. mail-parser gives
//! the MIME tree and byte offsets; sizes are byte counts of the part bodies as stored (never decoded
//! lengths), and strings come from the raw header text.

use imap_codec::imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_codec::imap_types::core::{IString, NString, Vec1};
use mail_parser::{ContentType, Message, MessageParser, MimeHeaders, PartType};

use super::envelope::envelope;
use super::header_block::{first_value, split_header_body};
use super::imap_string::{istring, nstring_non_empty};

use std::cell::Cell;

use super::{MAX_MIME_DEPTH, MAX_MIME_PARTS};

/// Deeper message/rfc822 nesting is reported as an opaque part rather than recursed into.
const MAX_MESSAGE_DEPTH: usize = 16;

/// BODYSTRUCTURE when `extended`, BODY otherwise.
pub fn body_structure(message: &[u8], extended: bool) -> BodyStructure<'static> {
    let budget = Cell::new(MAX_MIME_PARTS);
    message_structure(message, extended, 0, &budget)
}

fn message_structure(
    message: &[u8],
    extended: bool,
    depth: usize,
    budget: &Cell<usize>,
) -> BodyStructure<'static> {
    let walker = Walker {
        raw: message,
        extended,
        depth,
        budget,
    };
    match MessageParser::default().parse(message) {
        Some(parsed) => walker.part(&parsed, 0, false, 0),
        // mail-parser gives up on empty or header-less input: describe it as plain text.
        None => walker.plain_text(split_header_body(message).1),
    }
}

struct Walker<'r> {
    raw: &'r [u8],
    extended: bool,
    depth: usize,
    /// Parts left to describe in the whole structure (MAX_MIME_PARTS).
    budget: &'r Cell<usize>,
}

impl Walker<'_> {
    /// The structure of part `id`, `level` multiparts below the top. The recursion follows the
    /// input's nesting, so it stops at MAX_MIME_DEPTH: a deeper multipart is an opaque part (a
    /// 139 KB message of 2,000 nested multiparts overflowed the stack before).
    fn part(
        &self,
        parsed: &Message<'_>,
        id: usize,
        in_digest: bool,
        level: usize,
    ) -> BodyStructure<'static> {
        let Some(part) = parsed.parts.get(id) else {
            return self.plain_text(b"");
        };
        let exhausted = self.budget.get() == 0;
        self.budget.set(self.budget.get().saturating_sub(1));
        if exhausted || (level >= MAX_MIME_DEPTH && matches!(part.body, PartType::Multipart(_))) {
            let body = slice(self.raw, part.offset_body, part.offset_end);
            return self.opaque(body);
        }
        let header = slice(self.raw, part.offset_header, part.offset_body);
        let body = slice(self.raw, part.offset_body, part.offset_end);
        let content_type = part.content_type();
        let (main_type, subtype) = media_type(content_type, in_digest);
        let disposition = part.content_disposition();

        if let PartType::Multipart(children) = &part.body {
            let is_digest = subtype.eq_ignore_ascii_case("digest");
            let bodies: Vec<BodyStructure<'static>> = children
                .iter()
                .map(|&child| self.part(parsed, child as usize, is_digest, level + 1))
                .collect();
            // An empty multipart still needs one body in IMAP syntax.
            let bodies = Vec1::try_from(bodies).unwrap_or_else(|_| self.plain_text(b"").into());
            let extension_data = self.extended.then(|| MultiPartExtensionData {
                parameter_list: parameters(content_type),
                tail: Some(self.disposition_tail(header, disposition)),
            });
            return BodyStructure::Multi {
                bodies,
                subtype: istring(subtype.as_bytes()),
                extension_data,
            };
        }

        let mut parameter_list = parameters(content_type);
        if content_type.is_none() && main_type == "text" {
            // RFC 2045 §5.2: no Content-Type means text/plain; charset=us-ascii.
            parameter_list.push((istring(b"charset"), istring(b"us-ascii")));
        }
        let encoding = first_value(header, "Content-Transfer-Encoding")
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| b"7BIT".to_vec());
        let basic = BasicFields {
            parameter_list,
            id: nstring_non_empty(first_value(header, "Content-ID").as_deref()),
            description: nstring_non_empty(first_value(header, "Content-Description").as_deref()),
            content_transfer_encoding: istring(&encoding),
            size: octets(body),
        };
        let specific = self.specific(&main_type, &subtype, &encoding, body);
        let extension_data = self.extended.then(|| SinglePartExtensionData {
            md5: NString::NIL,
            tail: Some(self.disposition_tail(header, disposition)),
        });
        BodyStructure::Single {
            body: Body { basic, specific },
            extension_data,
        }
    }

    fn specific(
        &self,
        main_type: &str,
        subtype: &str,
        encoding: &[u8],
        body: &[u8],
    ) -> SpecificFields<'static> {
        // An encoded message/rfc822 is not a message as stored: describe it as an opaque part.
        let identity_encoding = [b"7bit".as_slice(), b"8bit", b"binary"]
            .iter()
            .any(|e| e.eq_ignore_ascii_case(encoding));
        if main_type == "text" {
            SpecificFields::Text {
                subtype: istring(subtype.as_bytes()),
                number_of_lines: lines(body),
            }
        } else if main_type == "message"
            && (subtype.eq_ignore_ascii_case("rfc822") || subtype.eq_ignore_ascii_case("global"))
            && identity_encoding
            && self.depth < MAX_MESSAGE_DEPTH
        {
            SpecificFields::Message {
                envelope: Box::new(envelope(body)),
                body_structure: Box::new(message_structure(
                    body,
                    self.extended,
                    self.depth + 1,
                    self.budget,
                )),
                number_of_lines: lines(body),
            }
        } else {
            SpecificFields::Basic {
                r#type: istring(main_type.as_bytes()),
                subtype: istring(subtype.as_bytes()),
            }
        }
    }

    fn disposition_tail(
        &self,
        header: &[u8],
        disposition: Option<&ContentType<'_>>,
    ) -> Disposition<'static> {
        let language: Vec<IString<'static>> = first_value(header, "Content-Language")
            .map(|value| {
                value
                    .split(|&b| b == b',')
                    .map(super::header_block::trim)
                    .filter(|tag| !tag.is_empty())
                    .map(istring)
                    .collect()
            })
            .unwrap_or_default();
        Disposition {
            disposition: disposition.map(|d| (istring(d.c_type.as_bytes()), parameters(Some(d)))),
            tail: Some(Language {
                language,
                tail: Some(Location {
                    location: nstring_non_empty(first_value(header, "Content-Location").as_deref()),
                    extensions: Vec::new(),
                }),
            }),
        }
    }

    /// application/octet-stream: what a part too deep to describe is reported as.
    fn opaque(&self, body: &[u8]) -> BodyStructure<'static> {
        BodyStructure::Single {
            body: Body {
                basic: BasicFields {
                    parameter_list: Vec::new(),
                    id: NString::NIL,
                    description: NString::NIL,
                    content_transfer_encoding: istring(b"7BIT"),
                    size: octets(body),
                },
                specific: SpecificFields::Basic {
                    r#type: istring(b"application"),
                    subtype: istring(b"octet-stream"),
                },
            },
            extension_data: self.extended.then(|| SinglePartExtensionData {
                md5: NString::NIL,
                tail: Some(self.disposition_tail(b"", None)),
            }),
        }
    }

    fn plain_text(&self, body: &[u8]) -> BodyStructure<'static> {
        BodyStructure::Single {
            body: Body {
                basic: BasicFields {
                    parameter_list: vec![(istring(b"charset"), istring(b"us-ascii"))],
                    id: NString::NIL,
                    description: NString::NIL,
                    content_transfer_encoding: istring(b"7BIT"),
                    size: octets(body),
                },
                specific: SpecificFields::Text {
                    subtype: istring(b"plain"),
                    number_of_lines: lines(body),
                },
            },
            extension_data: self.extended.then(|| SinglePartExtensionData {
                md5: NString::NIL,
                tail: Some(self.disposition_tail(b"", None)),
            }),
        }
    }
}

/// Type and subtype, lowercased; the default depends on the parent (RFC 2046 §5.1.5 digest).
fn media_type(content_type: Option<&ContentType<'_>>, in_digest: bool) -> (String, String) {
    let default = if in_digest {
        ("message", "rfc822")
    } else {
        ("text", "plain")
    };
    match content_type {
        Some(ct) if !ct.c_type.is_empty() => (
            ct.c_type.to_ascii_lowercase(),
            ct.c_subtype
                .as_deref()
                .filter(|s| !s.is_empty())
                .map_or_else(|| default_subtype(&ct.c_type), str::to_ascii_lowercase),
        ),
        _ => (default.0.to_owned(), default.1.to_owned()),
    }
}

fn default_subtype(main_type: &str) -> String {
    match main_type.to_ascii_lowercase().as_str() {
        "text" => "plain",
        "multipart" => "mixed",
        "message" => "rfc822",
        _ => "octet-stream",
    }
    .to_owned()
}

fn parameters(content_type: Option<&ContentType<'_>>) -> Vec<(IString<'static>, IString<'static>)> {
    content_type
        .and_then(|ct| ct.attributes.as_ref())
        .map(|attributes| {
            attributes
                .iter()
                .map(|a| (istring(a.name.as_bytes()), istring(a.value.as_bytes())))
                .collect()
        })
        .unwrap_or_default()
}

fn slice(raw: &[u8], start: u32, end: u32) -> &[u8] {
    raw.get(start as usize..end as usize).unwrap_or_default()
}

fn octets(body: &[u8]) -> u32 {
    u32::try_from(body.len()).unwrap_or(u32::MAX)
}

/// Lines as Dovecot counts them: the number of LF characters in the part body.
fn lines(body: &[u8]) -> u32 {
    let count = body.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(count).unwrap_or(u32::MAX)
}
