//! One message as the reader sees it: the header fields, the text, the HTML body
//! sanitised, the attachments listed. Parsed by mail-parser (MIME, encodings, charsets).

use mail_parser::{Address, MessageParser, MimeHeaders, PartType};
use serde::Serialize;
use utoipa::ToSchema;

use super::sanitize;
use super::summaries::rfc3339;
use mssd_store::MessageMeta;

/// Bound on what a body shows: a larger text is cut (the whole message stays downloadable).
const MAX_SHOWN_BODY: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    /// Position among the message's attachments, for download.
    pub index: usize,
    pub name: String,
    pub content_type: String,
    pub size: usize,
    /// An `IHE_XDM.zip`: its documents are listed under /documents.
    pub health_documents: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub folder: i64,
    pub uid: u32,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub date: String,
    pub message_id: Option<String>,
    pub seen: bool,
    /// The text body (text/plain, or the HTML body's text).
    pub text: String,
    /// The HTML body through the allow-list sanitiser; absent when the message has none.
    pub html: Option<String>,
    /// Remote images were taken out of `html` (ask with `images=true`).
    pub remote_images_blocked: bool,
    pub attachments: Vec<AttachmentView>,
}

fn addresses(list: Option<&Address<'_>>) -> Vec<String> {
    list.map(|a| {
        a.iter()
            .map(|addr| match (addr.name(), addr.address()) {
                (Some(name), Some(address)) => format!("{name} <{address}>"),
                (None, Some(address)) => address.to_string(),
                (Some(name), None) => name.to_string(),
                (None, None) => String::new(),
            })
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

fn cut(mut text: String) -> String {
    if text.len() > MAX_SHOWN_BODY {
        let mut end = MAX_SHOWN_BODY;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n[…]");
    }
    text
}

pub fn view(
    folder: i64,
    meta: &MessageMeta,
    bytes: &[u8],
    allow_remote_images: bool,
) -> MessageView {
    let parsed = MessageParser::default().parse(bytes);
    let Some(m) = parsed else {
        return MessageView {
            folder,
            uid: meta.uid,
            from: vec![],
            to: vec![],
            cc: vec![],
            subject: "(message illisible)".into(),
            date: rfc3339(meta.internal_date),
            message_id: None,
            seen: false,
            text: String::new(),
            html: None,
            remote_images_blocked: false,
            attachments: vec![],
        };
    };
    let html_part = m
        .html_body
        .iter()
        .filter_map(|i| m.parts.get(*i as usize))
        .find_map(|p| match &p.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        });
    let sanitised = html_part.map(|h| sanitize::message_html(&cut(h), allow_remote_images));
    let text = m
        .body_text(0)
        .map(|t| cut(t.into_owned()))
        .unwrap_or_default();
    let attachments = m
        .attachments()
        .enumerate()
        .map(|(index, part)| {
            let name = part.attachment_name().unwrap_or("piece-jointe").to_string();
            let content_type = content_type_of(part);
            AttachmentView {
                index,
                health_documents: name.eq_ignore_ascii_case("IHE_XDM.zip"),
                name,
                content_type,
                size: part.contents().len(),
            }
        })
        .collect();
    MessageView {
        folder,
        uid: meta.uid,
        from: addresses(m.from()),
        to: addresses(m.to()),
        cc: addresses(m.cc()),
        subject: m.subject().unwrap_or("(sans objet)").to_string(),
        date: m
            .date()
            .map(|d| d.to_rfc3339())
            .unwrap_or_else(|| rfc3339(meta.internal_date)),
        message_id: m.message_id().map(str::to_string),
        seen: meta.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Seen")),
        text,
        remote_images_blocked: sanitised.as_ref().is_some_and(|s| s.remote_images_blocked),
        html: sanitised.map(|s| s.html),
        attachments,
    }
}

/// Attachment `index` of the message: its name, content type and decoded bytes.
pub fn attachment(bytes: &[u8], index: usize) -> Option<(String, String, Vec<u8>)> {
    let m = MessageParser::default().parse(bytes)?;
    let part = m.attachments().nth(index)?;
    let name = part.attachment_name().unwrap_or("piece-jointe").to_string();
    Some((name, content_type_of(part), part.contents().to_vec()))
}

/// `type/subtype` of a part, `application/octet-stream` when it says nothing.
fn content_type_of(part: &mail_parser::MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".into())
}

/// What a reply needs from the original: to whom, the subject, the thread.
pub struct ReplyContext {
    pub to: String,
    pub subject: String,
    pub message_id: Option<String>,
    pub references: Vec<String>,
}

pub fn reply_context(bytes: &[u8]) -> Option<ReplyContext> {
    let m = MessageParser::default().parse_headers(bytes)?;
    let to = m
        .reply_to()
        .and_then(|a| a.first())
        .or_else(|| m.from().and_then(|a| a.first()))?
        .address()?
        .to_string();
    let subject = m.subject().unwrap_or("").to_string();
    let subject = if subject.to_ascii_lowercase().starts_with("re:") {
        subject
    } else {
        format!("Re: {subject}")
    };
    let message_id = m.message_id().map(str::to_string);
    let mut references: Vec<String> = m
        .references()
        .as_text_list()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    if let Some(id) = &message_id {
        references.push(id.clone());
    }
    Some(ReplyContext {
        to,
        subject,
        message_id,
        references,
    })
}
