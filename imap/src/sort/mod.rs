//! SORT (RFC 5256, with SORT=DISPLAY of RFC 5957) and THREAD (see `thread`): the keys of each
//! message, computed from its header block and metadata with no I/O, and the order they give. Strings compare with the
//! `i;ascii-casemap` collation (ASCII letters folded to upper case, other bytes as they are);
//! messages equal on every key keep their sequence order.

mod base_subject;
mod thread;

use std::cmp::Ordering;

use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use mail_parser::DateTime;
use mssd_store::MessageMeta;

use crate::mime::{AddressItem, MailboxAddress, header_fields, parse_address_list};
use crate::search::decode_unstructured;

pub(crate) use base_subject::strip_prefix_ci;
pub use base_subject::{base_subject, base_subject_of_reply};
pub use thread::{Forest, ThreadMessage, ordered_subject, references};

/// What SORT compares, for one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortKeys {
    pub arrival: i64,
    /// The Date: field in UTC seconds; the internal date when missing or unparsable.
    pub sent: i64,
    pub size: u64,
    /// Base subject, case-folded.
    pub subject: Vec<u8>,
    /// The local part (addr-mailbox) of the first address of each field, case-folded.
    pub from: Vec<u8>,
    pub to: Vec<u8>,
    pub cc: Vec<u8>,
    /// RFC 5957: the first address's display name, or its addr-spec, case-folded.
    pub display_from: Vec<u8>,
    pub display_to: Vec<u8>,
}

impl SortKeys {
    /// The keys `criteria` compare, from a message's header block and metadata (the others
    /// stay empty: a SORT by date decodes no subject or address).
    pub fn of(header: &[u8], meta: &MessageMeta, criteria: &[SortCriterion]) -> SortKeys {
        let wants = |wanted: &[SortKey]| criteria.iter().any(|c| wanted.contains(&c.key));
        let (date, subject) = (wants(&[SortKey::Date]), wants(&[SortKey::Subject]));
        let from = wants(&[SortKey::From, SortKey::DisplayFrom]);
        let to = wants(&[SortKey::To, SortKey::DisplayTo]);
        let cc = wants(&[SortKey::Cc]);
        let mut keys = SortKeys {
            arrival: meta.internal_date,
            sent: meta.internal_date,
            size: meta.size,
            ..SortKeys::default()
        };
        let (mut first_from, mut first_to, mut first_cc) = (None, None, None);
        for field in header_fields(header) {
            let name = field.name;
            if date && name.eq_ignore_ascii_case(b"Date") {
                keys.sent = sent_date(field.value).unwrap_or(keys.sent);
            } else if subject && name.eq_ignore_ascii_case(b"Subject") {
                keys.subject = subject_key(field.value).0;
            } else if from && name.eq_ignore_ascii_case(b"From") && first_from.is_none() {
                first_from = first_address(field.value);
            } else if to && name.eq_ignore_ascii_case(b"To") && first_to.is_none() {
                first_to = first_address(field.value);
            } else if cc && name.eq_ignore_ascii_case(b"Cc") && first_cc.is_none() {
                first_cc = first_address(field.value);
            }
        }
        if let Some(from) = first_from {
            keys.from = casemap(&from.mailbox);
            keys.display_from = display(&from);
        }
        if let Some(to) = first_to {
            keys.to = casemap(&to.mailbox);
            keys.display_to = display(&to);
        }
        if let Some(cc) = first_cc {
            keys.cc = casemap(&cc.mailbox);
        }
        keys
    }

    fn compare(&self, other: &SortKeys, key: &SortKey) -> Ordering {
        match key {
            SortKey::Arrival => self.arrival.cmp(&other.arrival),
            SortKey::Date => self.sent.cmp(&other.sent),
            SortKey::Size => self.size.cmp(&other.size),
            SortKey::Subject => self.subject.cmp(&other.subject),
            SortKey::From => self.from.cmp(&other.from),
            SortKey::To => self.to.cmp(&other.to),
            SortKey::Cc => self.cc.cmp(&other.cc),
            SortKey::DisplayFrom => self.display_from.cmp(&other.display_from),
            SortKey::DisplayTo => self.display_to.cmp(&other.display_to),
        }
    }
}

/// `messages` (sequence index, keys) in the order `criteria` give; ties keep sequence order.
pub fn sorted(mut messages: Vec<(usize, SortKeys)>, criteria: &[SortCriterion]) -> Vec<usize> {
    messages.sort_by(|(a_index, a), (b_index, b)| {
        criteria
            .iter()
            .map(|criterion| {
                let order = a.compare(b, &criterion.key);
                if criterion.reverse {
                    order.reverse()
                } else {
                    order
                }
            })
            .find(|order| order.is_ne())
            .unwrap_or_else(|| a_index.cmp(b_index))
    });
    messages.into_iter().map(|(index, _)| index).collect()
}

/// A Date: field in UTC seconds, when it can be read (RFC 5256: otherwise the internal date).
fn sent_date(value: &[u8]) -> Option<i64> {
    let value = String::from_utf8_lossy(value);
    DateTime::parse_rfc822(value.trim()).map(|date| date.to_timestamp())
}

/// A Subject: field's base subject, case-folded, and whether it marked a reply or forward.
fn subject_key(value: &[u8]) -> (Vec<u8>, bool) {
    let (subject, reply) = base_subject_of_reply(&decode_unstructured(value));
    (casemap(subject.as_bytes()), reply)
}

/// The first mailbox of an address list (a group's first member counts).
fn first_address(value: &[u8]) -> Option<MailboxAddress> {
    parse_address_list(value)
        .into_iter()
        .find_map(|item| match item {
            AddressItem::Mailbox(mailbox) => Some(mailbox),
            AddressItem::Group { members, .. } => members.into_iter().next(),
        })
}

/// RFC 5957 §3: the decoded display name when there is one, else `mailbox@host`.
fn display(address: &MailboxAddress) -> Vec<u8> {
    let name = address
        .name
        .as_deref()
        .map(decode_unstructured)
        .filter(|name| !name.trim().is_empty());
    match name {
        Some(name) => casemap(name.trim().as_bytes()),
        None => {
            let mut spec = address.mailbox.clone();
            spec.push(b'@');
            spec.extend_from_slice(&address.host);
            casemap(&spec)
        }
    }
}

/// i;ascii-casemap: ASCII letters in upper case, everything else as it is.
fn casemap(bytes: &[u8]) -> Vec<u8> {
    bytes.to_ascii_uppercase()
}

impl ThreadMessage {
    /// What THREAD needs of the message at view index `index`, from its header block.
    pub fn of(index: usize, header: &[u8], meta: &MessageMeta) -> ThreadMessage {
        let mut message = ThreadMessage {
            index,
            sent: meta.internal_date,
            ..ThreadMessage::default()
        };
        let mut in_reply_to = None;
        for field in header_fields(header) {
            let name = field.name;
            if name.eq_ignore_ascii_case(b"Message-ID") && message.message_id.is_none() {
                message.message_id = msg_ids(field.value).into_iter().next();
            } else if name.eq_ignore_ascii_case(b"References") && message.references.is_empty() {
                message.references = msg_ids(field.value);
            } else if name.eq_ignore_ascii_case(b"In-Reply-To") && in_reply_to.is_none() {
                in_reply_to = msg_ids(field.value).into_iter().next();
            } else if name.eq_ignore_ascii_case(b"Date") {
                message.sent = sent_date(field.value).unwrap_or(message.sent);
            } else if name.eq_ignore_ascii_case(b"Subject") {
                (message.subject, message.reply) = subject_key(field.value);
            }
        }
        if message.references.is_empty() {
            message.references.extend(in_reply_to);
        }
        message
    }
}

/// The `<…>` msg-ids of a field, without their brackets and white space; text between them
/// (comments, phrases of old In-Reply-To fields) is skipped.
fn msg_ids(value: &[u8]) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.iter().position(|&b| b == b'<') {
        let after = &rest[open + 1..];
        let Some(close) = after.iter().position(|&b| b == b'>') else {
            break;
        };
        let id: Vec<u8> = after[..close]
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        if !id.is_empty() {
            ids.push(String::from_utf8_lossy(&id).into_owned());
        }
        rest = &after[close + 1..];
    }
    ids
}
