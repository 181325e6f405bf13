//! SEARCH criteria (RFC 3501 §6.4.4, RFC 9051 §6.4.4) evaluated on one message at a time.
//!
//! Flag, size, date, sequence and UID criteria use the metadata only; the string criteria and
//! SENT* need the message bytes, which the caller reads only when [`needs_message_bytes`] says so.
//! Strings match as case-insensitive substrings of decoded values. RECENT, NEW and OLD use the
//! session's recent UIDs (RFC 3501 2.3.2).

mod dates;
mod text;

pub use text::decode_unstructured;

use std::cmp::Ordering;

use chrono::NaiveDate;
use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::search::SearchKey;
use mssd_store::MessageMeta;

use crate::sequence;
use text::MessageText;

/// The view the search runs on (for SequenceSet / UID criteria and `*`).
#[derive(Debug, Clone, Copy)]
pub struct SearchScope<'a> {
    /// UIDs of the selected view, ascending: `uids[i]` has sequence number `i + 1`.
    pub uids: &'a [u32],
    /// The UIDs recent for this session, ascending.
    pub recent: &'a [u32],
}

/// Whether evaluating needs the message bytes (header/body/text criteria), so the caller reads
/// blobs only then.
pub fn needs_message_bytes(criteria: &[SearchKey<'_>]) -> bool {
    criteria.iter().any(key_needs_bytes)
}

/// Evaluates the AND of `criteria` for message at `index` (0-based seq index). `message` is Some
/// when needs_message_bytes said so (if None while needed, text criteria do not match).
pub fn matches(
    criteria: &[SearchKey<'_>],
    scope: &SearchScope<'_>,
    index: usize,
    meta: &MessageMeta,
    message: Option<&[u8]>,
) -> bool {
    let context = Context {
        scope,
        index,
        meta,
        text: message.map(MessageText::new),
    };
    context.all(criteria)
}

/// Whether evaluating needs the message body (BODY, TEXT); when it does not, the header
/// block alone answers every criterion, so callers can serve it from the summary cache.
pub fn needs_body(criteria: &[SearchKey<'_>]) -> bool {
    criteria.iter().any(key_needs_body)
}

/// Whether a MODSEQ criterion is among `criteria` (RFC 7162 3.1.5: the result then carries the
/// highest mod-sequence of the messages returned).
pub fn uses_modseq(criteria: &[SearchKey<'_>]) -> bool {
    criteria.iter().any(key_uses_modseq)
}

fn key_uses_modseq(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().any(key_uses_modseq),
        SearchKey::Not(key) => key_uses_modseq(key),
        SearchKey::Or(left, right) => key_uses_modseq(left) || key_uses_modseq(right),
        SearchKey::ModSequence { .. } => true,
        _ => false,
    }
}

fn key_needs_body(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().any(key_needs_body),
        SearchKey::Not(key) => key_needs_body(key),
        SearchKey::Or(left, right) => key_needs_body(left) || key_needs_body(right),
        SearchKey::Body(_) | SearchKey::Text(_) => true,
        _ => false,
    }
}

fn key_needs_bytes(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::And(keys) => keys.as_ref().iter().any(key_needs_bytes),
        SearchKey::Not(key) => key_needs_bytes(key),
        SearchKey::Or(left, right) => key_needs_bytes(left) || key_needs_bytes(right),
        SearchKey::Bcc(_)
        | SearchKey::Body(_)
        | SearchKey::Cc(_)
        | SearchKey::From(_)
        | SearchKey::Header(_, _)
        | SearchKey::Subject(_)
        | SearchKey::Text(_)
        | SearchKey::To(_)
        | SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_) => true,
        _ => false,
    }
}

struct Context<'a> {
    scope: &'a SearchScope<'a>,
    index: usize,
    meta: &'a MessageMeta,
    text: Option<MessageText<'a>>,
}

impl Context<'_> {
    fn is_recent(&self) -> bool {
        self.scope.recent.binary_search(&self.meta.uid).is_ok()
    }

    /// AND of `keys`: the metadata-only ones first, so a message they reject is never parsed.
    fn all(&self, keys: &[SearchKey<'_>]) -> bool {
        keys.iter()
            .filter(|key| !key_needs_bytes(key))
            .all(|key| self.key(key))
            && keys
                .iter()
                .filter(|key| key_needs_bytes(key))
                .all(|key| self.key(key))
    }

    fn key(&self, key: &SearchKey<'_>) -> bool {
        let meta = self.meta;
        match key {
            SearchKey::And(keys) => self.all(keys.as_ref()),
            SearchKey::Not(key) => !self.key(key),
            SearchKey::Or(left, right) => self.key(left) || self.key(right),
            SearchKey::All => true,
            SearchKey::SequenceSet(set) => {
                let count = u32::try_from(self.scope.uids.len()).unwrap_or(u32::MAX);
                let number = u32::try_from(self.index + 1).unwrap_or(u32::MAX);
                sequence::contains(set, number, count)
            }
            SearchKey::Uid(set) => {
                let largest = self.scope.uids.last().copied().unwrap_or(meta.uid);
                sequence::contains(set, meta.uid, largest)
            }

            SearchKey::Answered => has_flag(meta, "\\Answered"),
            SearchKey::Deleted => has_flag(meta, "\\Deleted"),
            SearchKey::Draft => has_flag(meta, "\\Draft"),
            SearchKey::Flagged => has_flag(meta, "\\Flagged"),
            SearchKey::Seen => has_flag(meta, "\\Seen"),
            SearchKey::Unanswered => !has_flag(meta, "\\Answered"),
            SearchKey::Undeleted => !has_flag(meta, "\\Deleted"),
            SearchKey::Undraft => !has_flag(meta, "\\Draft"),
            SearchKey::Unflagged => !has_flag(meta, "\\Flagged"),
            SearchKey::Unseen => !has_flag(meta, "\\Seen"),
            SearchKey::Keyword(keyword) => has_flag(meta, keyword.as_ref()),
            SearchKey::Unkeyword(keyword) => !has_flag(meta, keyword.as_ref()),
            SearchKey::Recent => self.is_recent(),
            SearchKey::New => self.is_recent() && !has_flag(meta, "\\Seen"),
            SearchKey::Old => !self.is_recent(),

            SearchKey::Larger(size) => meta.size > u64::from(*size),
            SearchKey::Smaller(size) => meta.size < u64::from(*size),
            SearchKey::ModSequence { modseq, .. } => meta.modseq >= *modseq,

            SearchKey::Before(date) => self.internal_day_is(date.as_ref(), &[Ordering::Less]),
            SearchKey::On(date) => self.internal_day_is(date.as_ref(), &[Ordering::Equal]),
            SearchKey::Since(date) => {
                self.internal_day_is(date.as_ref(), &[Ordering::Equal, Ordering::Greater])
            }
            SearchKey::SentBefore(date) => self.sent_day_is(date.as_ref(), &[Ordering::Less]),
            SearchKey::SentOn(date) => self.sent_day_is(date.as_ref(), &[Ordering::Equal]),
            SearchKey::SentSince(date) => {
                self.sent_day_is(date.as_ref(), &[Ordering::Equal, Ordering::Greater])
            }

            SearchKey::Bcc(needle) => self.address(b"Bcc", needle),
            SearchKey::Cc(needle) => self.address(b"Cc", needle),
            SearchKey::From(needle) => self.address(b"From", needle),
            SearchKey::To(needle) => self.address(b"To", needle),
            SearchKey::Subject(needle) => self.header(b"Subject", needle),
            SearchKey::Header(name, needle) => self.header(name.as_ref(), needle),
            SearchKey::Body(needle) => self
                .text
                .as_ref()
                .is_some_and(|text| text.body_contains(&lowercase(needle))),
            SearchKey::Text(needle) => self
                .text
                .as_ref()
                .is_some_and(|text| text.text_contains(&lowercase(needle))),
        }
    }

    fn header(&self, name: &[u8], needle: &AString<'_>) -> bool {
        self.text
            .as_ref()
            .is_some_and(|text| text.header_contains(name, &lowercase(needle)))
    }

    /// FROM, TO, CC, BCC: the field's text, or an address in it as parsed (comments and
    /// display names out, so `<a (c)@ (c) b.org>` matches `a@b.org`).
    fn address(&self, name: &[u8], needle: &AString<'_>) -> bool {
        self.text
            .as_ref()
            .is_some_and(|text| text.address_contains(name, &lowercase(needle)))
    }

    fn internal_day_is(&self, date: &NaiveDate, wanted: &[Ordering]) -> bool {
        dates::internal_day(self.meta.internal_date)
            .is_some_and(|day| wanted.contains(&day.cmp(date)))
    }

    /// A message without a (parsable) Date: header matches no SENT* criterion.
    fn sent_day_is(&self, date: &NaiveDate, wanted: &[Ordering]) -> bool {
        self.text
            .as_ref()
            .and_then(|text| text.sent_date())
            .and_then(|sent| dates::sent_day(&sent))
            .is_some_and(|day| wanted.contains(&day.cmp(date)))
    }
}

/// Flags and keywords compare case-insensitively (RFC 9051 §2.3.2).
fn has_flag(meta: &MessageMeta, flag: &str) -> bool {
    meta.flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
}

fn lowercase(needle: &AString<'_>) -> String {
    String::from_utf8_lossy(needle.as_ref()).to_lowercase()
}
