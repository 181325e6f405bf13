//! FETCH (RFC 9051 §6.4.5, RFC 3516 BINARY, RFC 7162 MODSEQ): which data a request needs
//! ([`plan`]), then the data items of one message ([`items`]).

mod binary;
mod flags;
mod names;
pub mod wire;

use std::borrow::Cow;
use std::num::{NonZeroU32, NonZeroU64};

use chrono::FixedOffset;
use imap_codec::imap_types::core::{IString, Literal, LiteralMode, NString, NString8, Vec1};
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::Literal8;
use imap_codec::imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName,
};
use mssd_store::MessageMeta;

pub use flags::flags_to_imap;

use crate::mime::{Partial, section, split_header_body};
use crate::summary::Summary;

/// What one FETCH request asks for, computed once per command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPlan {
    /// Macros expanded (ALL/FAST/FULL), UID added for UID FETCH, MODSEQ added when `condstore`;
    /// duplicates removed.
    pub items: Vec<MessageDataItemName<'static>>,
    /// A body section / RFC822* / BINARY needs the full message.
    pub needs_bytes: bool,
    /// ENVELOPE / BODY / BODYSTRUCTURE (served from the summary cache).
    pub needs_summary: bool,
    /// BODY / BODYSTRUCTURE: the summary must hold its structures (computed from the bytes
    /// the first time).
    pub needs_structures: bool,
    /// BODY[...] without PEEK, RFC822, RFC822.TEXT, BINARY[...] without PEEK.
    pub marks_seen: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the FETCH plan asks for no data item")]
    NoItems,
    #[error("the message bytes are needed for this FETCH but were not given")]
    MissingMessage,
    #[error("the message summary is needed for ENVELOPE/BODY/BODYSTRUCTURE but was not given")]
    MissingSummary,
    /// RFC 3516: answer NO with the UNKNOWN-CTE response code.
    #[error("cannot decode content-transfer-encoding \"{0}\" for BINARY")]
    UnknownTransferEncoding(String),
    /// RFC 3516: answer NO with the UNKNOWN-CTE response code.
    #[error("the part's \"{0}\" content is corrupt and cannot be decoded for BINARY")]
    UndecodablePart(String),
    #[error("message UID 0 is invalid")]
    InvalidUid,
    #[error("message mod-sequence 0 is invalid")]
    InvalidModSeq,
    #[error("message size {0} does not fit RFC822.SIZE (32 bits)")]
    SizeTooLarge(u64),
    #[error("internal date {0} (unix seconds) is outside years 0 to 9999")]
    InternalDateOutOfRange(i64),
}

pub fn plan(
    names: &MacroOrMessageDataItemNames<'_>,
    uid_command: bool,
    condstore: bool,
) -> FetchPlan {
    let requested: Vec<MessageDataItemName<'static>> = match names {
        MacroOrMessageDataItemNames::Macro(name) => {
            name.expand().iter().map(names::owned_name).collect()
        }
        MacroOrMessageDataItemNames::MessageDataItemNames(list) => {
            list.iter().map(names::owned_name).collect()
        }
    };
    let mut items: Vec<MessageDataItemName<'static>> = Vec::with_capacity(requested.len() + 2);
    // UID first: clients read it before the rest of a UID FETCH response.
    if uid_command {
        items.push(MessageDataItemName::Uid);
    }
    for item in requested {
        if !items.contains(&item) {
            items.push(item);
        }
    }
    if condstore && !items.contains(&MessageDataItemName::ModSeq) {
        items.push(MessageDataItemName::ModSeq);
    }
    use MessageDataItemName as N;
    let needs_bytes = items.iter().any(|item| {
        matches!(
            item,
            N::BodyExt { .. }
                | N::Binary { .. }
                | N::BinarySize { .. }
                | N::Rfc822
                | N::Rfc822Header
                | N::Rfc822Text
        )
    });
    let needs_summary = items
        .iter()
        .any(|item| matches!(item, N::Envelope | N::Body | N::BodyStructure));
    let needs_structures = items
        .iter()
        .any(|item| matches!(item, N::Body | N::BodyStructure));
    let marks_seen = items.iter().any(|item| {
        matches!(
            item,
            N::BodyExt { peek: false, .. }
                | N::Binary { peek: false, .. }
                | N::Rfc822
                | N::Rfc822Text
        )
    });
    FetchPlan {
        items,
        needs_bytes,
        needs_summary,
        needs_structures,
        marks_seen,
    }
}

/// The data items of one message, in the order of `plan.items`. `flags` are the flags to report
/// (the caller may have just added \Seen). `summary` is Some when plan.needs_summary; `message`
/// Some when plan.needs_bytes.
pub fn items(
    plan: &FetchPlan,
    meta: &MessageMeta,
    flags: &[String],
    summary: Option<&Summary>,
    message: Option<&[u8]>,
) -> Result<Vec1<MessageDataItem<'static>>, FetchError> {
    let summary = || summary.ok_or(FetchError::MissingSummary);
    let structures = || summary()?.structures().ok_or(FetchError::MissingSummary);
    let message = || message.ok_or(FetchError::MissingMessage);
    let mut out = Vec::with_capacity(plan.items.len());
    for name in &plan.items {
        use MessageDataItemName as N;
        out.push(match name {
            N::Body => MessageDataItem::Body(structures()?.body.clone()),
            N::BodyStructure => {
                MessageDataItem::BodyStructure(structures()?.body_structure.clone())
            }
            N::Envelope => MessageDataItem::Envelope(summary()?.envelope().clone()),
            N::Flags => MessageDataItem::Flags(flags_to_imap(flags)),
            N::InternalDate => MessageDataItem::InternalDate(internal_date(meta.internal_date)?),
            N::Rfc822Size => MessageDataItem::Rfc822Size(
                u32::try_from(meta.size).map_err(|_| FetchError::SizeTooLarge(meta.size))?,
            ),
            N::Uid => {
                MessageDataItem::Uid(NonZeroU32::new(meta.uid).ok_or(FetchError::InvalidUid)?)
            }
            N::ModSeq => MessageDataItem::ModSeq(
                NonZeroU64::new(meta.modseq).ok_or(FetchError::InvalidModSeq)?,
            ),
            N::Rfc822 => MessageDataItem::Rfc822(literal(message()?)),
            N::Rfc822Header => {
                MessageDataItem::Rfc822Header(literal(split_header_body(message()?).0))
            }
            N::Rfc822Text => MessageDataItem::Rfc822Text(literal(split_header_body(message()?).1)),
            N::BodyExt {
                section: spec,
                partial,
                ..
            } => MessageDataItem::BodyExt {
                section: spec.clone(),
                origin: partial.map(|(offset, _)| offset),
                // A part that does not exist is NIL.
                data: section(message()?, spec.as_ref(), *partial)
                    .map(|data| literal(&data))
                    .unwrap_or(NString::NIL),
            },
            N::Binary {
                section: path,
                partial,
                ..
            } => MessageDataItem::Binary {
                section: path.clone(),
                value: match binary::decoded_part(message()?, path)? {
                    Some(data) => NString8::Literal8(Literal8 {
                        data: Cow::Owned(cut(&data, *partial).to_vec()),
                        mode: LiteralMode::Sync,
                    }),
                    None => NString8::NString(NString::NIL),
                },
            },
            N::BinarySize { section: path } => MessageDataItem::BinarySize {
                section: path.clone(),
                // A part that does not exist has no content: size 0.
                size: match binary::decoded_part(message()?, path)? {
                    Some(data) => u32::try_from(data.len())
                        .map_err(|_| FetchError::SizeTooLarge(data.len() as u64))?,
                    None => 0,
                },
            },
        });
    }
    Vec1::try_from(out).map_err(|_| FetchError::NoItems)
}

/// INTERNALDATE from unix seconds, written in UTC (+0000).
fn internal_date(unix_seconds: i64) -> Result<DateTime, FetchError> {
    let out_of_range = || FetchError::InternalDateOutOfRange(unix_seconds);
    let utc = FixedOffset::east_opt(0).ok_or_else(out_of_range)?;
    let at = chrono::DateTime::from_timestamp(unix_seconds, 0).ok_or_else(out_of_range)?;
    DateTime::try_from(at.with_timezone(&utc)).map_err(|_| out_of_range())
}

/// Message bytes as a literal. IMAP literals cannot carry NUL: a stored NUL is sent as 0x80, which
/// keeps every size and offset unchanged (as other servers do).
fn literal(data: &[u8]) -> NString<'static> {
    let bytes: Vec<u8> = data
        .iter()
        .map(|&byte| if byte == 0 { 0x80 } else { byte })
        .collect();
    NString(Some(IString::Literal(Literal::unvalidated(bytes))))
}

/// `<offset.length>` of decoded BINARY content; an offset past the end gives an empty string.
fn cut(data: &[u8], partial: Option<Partial>) -> &[u8] {
    match partial {
        None => data,
        Some((offset, length)) => {
            let start = (offset as usize).min(data.len());
            let end = start.saturating_add(length.get() as usize).min(data.len());
            &data[start..end]
        }
    }
}
