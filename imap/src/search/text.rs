//! The decoded text of one message for the string criteria (RFC 9051 §6.4.4): header values with
//! RFC 2047 encoded words decoded and folding removed, and the body's text parts with transfer
//! encodings and charsets decoded. Each view is computed on first use and at most once.

use std::cell::OnceCell;

use mail_parser::decoders::html::html_to_text;
use mail_parser::parsers::MessageStream;
use mail_parser::{DateTime, HeaderValue, Message, MessageParser, PartType};

use crate::mime::{AddressItem, header_fields, parse_address_list, split_header_body};

/// One top-level header field: its name as stored and its decoded value, lowercased.
struct DecodedField<'m> {
    name: &'m [u8],
    value: String,
}

/// Lazily decoded views of a message for SEARCH.
pub(super) struct MessageText<'m> {
    raw: &'m [u8],
    fields: OnceCell<Vec<DecodedField<'m>>>,
    body: OnceCell<String>,
}

impl<'m> MessageText<'m> {
    pub(super) fn new(raw: &'m [u8]) -> Self {
        MessageText {
            raw,
            fields: OnceCell::new(),
            body: OnceCell::new(),
        }
    }

    /// Whether a field called `name` contains `needle` (already lowercased); an empty needle
    /// matches any message having the field.
    pub(super) fn header_contains(&self, name: &[u8], needle: &str) -> bool {
        if let Some(fields) = self.fields.get() {
            return fields.iter().any(|field| {
                field.name.eq_ignore_ascii_case(name) && field.value.contains(needle)
            });
        }
        // One criterion on one field (the usual SEARCH SUBJECT/FROM): decode only that field.
        let (header, _) = split_header_body(self.raw);
        header_fields(header)
            .into_iter()
            .filter(|field| field.name.eq_ignore_ascii_case(name))
            .any(|field| {
                decode_unstructured(field.value)
                    .to_lowercase()
                    .contains(needle)
            })
    }

    /// `header_contains`, or an address of a field called `name` as parsed (`local@domain`,
    /// or its decoded display name) contains `needle` (lowercased).
    pub(super) fn address_contains(&self, name: &[u8], needle: &str) -> bool {
        if self.header_contains(name, needle) {
            return true;
        }
        let (header, _) = split_header_body(self.raw);
        header_fields(header)
            .into_iter()
            .filter(|field| field.name.eq_ignore_ascii_case(name))
            .flat_map(|field| parse_address_list(field.value))
            .flat_map(|item| match item {
                AddressItem::Mailbox(mailbox) => vec![mailbox],
                AddressItem::Group { members, .. } => members,
            })
            .any(|mailbox| {
                let address = format!(
                    "{}@{}",
                    String::from_utf8_lossy(&mailbox.mailbox),
                    String::from_utf8_lossy(&mailbox.host)
                );
                address.to_lowercase().contains(needle)
                    || mailbox.name.is_some_and(|name| {
                        decode_unstructured(&name).to_lowercase().contains(needle)
                    })
            })
    }

    /// BODY: the decoded body text contains `needle` (lowercased).
    pub(super) fn body_contains(&self, needle: &str) -> bool {
        self.body().contains(needle)
    }

    /// TEXT: any header field (name or value) or the body contains `needle` (lowercased).
    pub(super) fn text_contains(&self, needle: &str) -> bool {
        self.fields().iter().any(|field| {
            field.value.contains(needle)
                || String::from_utf8_lossy(field.name)
                    .to_lowercase()
                    .contains(needle)
        }) || self.body_contains(needle)
    }

    /// The Date: header as written (its own offset), None when absent or unparsable.
    pub(super) fn sent_date(&self) -> Option<DateTime> {
        let (header, _) = split_header_body(self.raw);
        let field = header_fields(header)
            .into_iter()
            .find(|field| field.name.eq_ignore_ascii_case(b"Date"))?;
        let value = String::from_utf8_lossy(field.value);
        DateTime::parse_rfc822(value.trim())
    }

    fn fields(&self) -> &[DecodedField<'m>] {
        self.fields.get_or_init(|| {
            let (header, _) = split_header_body(self.raw);
            header_fields(header)
                .into_iter()
                .map(|field| DecodedField {
                    name: field.name,
                    value: decode_unstructured(field.value).to_lowercase(),
                })
                .collect()
        })
    }

    fn body(&self) -> &str {
        self.body.get_or_init(|| {
            let mut text = String::new();
            if let Some(parsed) = MessageParser::default().parse(self.raw) {
                collect_body_text(&parsed, &mut text);
            }
            text.to_lowercase()
        })
    }
}

/// A header value with folding removed and encoded words decoded.
pub fn decode_unstructured(value: &[u8]) -> String {
    // The unstructured parser stops at a line end not followed by whitespace: give it one.
    let mut line = Vec::with_capacity(value.len() + 1);
    line.extend_from_slice(value);
    line.push(b'\n');
    match MessageStream::new(&line).parse_unstructured() {
        HeaderValue::Text(text) => text.into_owned(),
        HeaderValue::TextList(list) => list.join(" "),
        _ => String::new(),
    }
}

/// The text parts of a message body (not its own header), nested messages' header and text
/// included since they are part of this body. Binary parts are not text and are skipped.
fn collect_body_text(message: &Message<'_>, out: &mut String) {
    for part in &message.parts {
        match &part.body {
            PartType::Text(text) => push_line(out, text),
            PartType::Html(html) => push_line(out, &html_to_text(html)),
            PartType::Message(nested) => {
                if let Some(root) = nested.parts.first() {
                    let raw = nested.raw_message.as_ref();
                    let header = raw
                        .get(root.offset_header as usize..root.offset_body as usize)
                        .unwrap_or_default();
                    for field in header_fields(header) {
                        push_line(out, &String::from_utf8_lossy(field.name));
                        out.push_str(": ");
                        out.push_str(&decode_unstructured(field.value));
                    }
                }
                collect_body_text(nested, out);
            }
            PartType::Multipart(_) | PartType::Binary(_) | PartType::InlineBinary(_) => {}
        }
    }
}

fn push_line(out: &mut String, text: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(text);
}
