//! Conversions from raw header bytes to IMAP strings. Quoted when possible, literal otherwise
//! (8-bit UTF-8 headers, RFC 6532); NUL bytes, which no IMAP string can carry, are dropped.

use imap_codec::imap_types::core::{IString, Literal, NString};

pub(crate) fn istring(bytes: &[u8]) -> IString<'static> {
    let clean: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
    // Without NUL a literal accepts every byte, so the fallback is never taken.
    IString::try_from(clean).unwrap_or_else(|_| IString::Literal(Literal::unvalidated(Vec::new())))
}

pub(crate) fn nstring(bytes: Option<&[u8]>) -> NString<'static> {
    NString(bytes.map(istring))
}

/// NIL for an absent or empty value.
pub(crate) fn nstring_non_empty(bytes: Option<&[u8]>) -> NString<'static> {
    nstring(bytes.filter(|b| !b.is_empty()))
}
