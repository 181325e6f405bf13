//! RFC 4514 string representation of distinguished names: a pure parser.
//!
//! Accepts what operators and the ANS whitelist write: whitespace around `=`, `,` and `+`,
//! `\`-escapes of special characters and `\XX` hex bytes (UTF-8), legacy `"quoted"` values,
//! `#`-hex BER values holding a string, multi-valued RDNs joined by `+`.

use crate::dn_types::{Attribute, canonical_type};
use crate::error::{Error, Result};

/// Parses `input` into RDNs (each a non-empty list of attributes), in the order written.
pub(crate) fn parse_rdns(input: &str) -> Result<Vec<Vec<Attribute>>> {
    let mut cursor = Cursor {
        input,
        bytes: input.as_bytes(),
        pos: 0,
    };
    cursor.skip_spaces();
    if cursor.at_end() {
        return Err(Error::bad_dn(input, "empty distinguished name"));
    }
    let mut rdns = Vec::new();
    loop {
        rdns.push(parse_rdn(&mut cursor)?);
        cursor.skip_spaces();
        match cursor.bump() {
            None => return Ok(rdns),
            Some(b',') => {
                cursor.skip_spaces();
                if cursor.at_end() {
                    return Err(cursor.error("trailing ',' with no RDN after it"));
                }
            }
            Some(other) => {
                return Err(cursor.error(format!("unexpected {:?}", other as char)));
            }
        }
    }
}

fn parse_rdn(cursor: &mut Cursor<'_>) -> Result<Vec<Attribute>> {
    let mut attributes = vec![parse_attribute(cursor)?];
    loop {
        cursor.skip_spaces();
        if cursor.peek() != Some(b'+') {
            return Ok(attributes);
        }
        cursor.bump();
        attributes.push(parse_attribute(cursor)?);
    }
}

fn parse_attribute(cursor: &mut Cursor<'_>) -> Result<Attribute> {
    cursor.skip_spaces();
    let start = cursor.pos;
    while let Some(b) = cursor.peek() {
        if matches!(b, b'=' | b',' | b'+') {
            break;
        }
        cursor.bump();
    }
    let raw_type = cursor.input[start..cursor.pos].trim();
    if cursor.peek() != Some(b'=') {
        return Err(if raw_type.is_empty() {
            cursor.error_at(start, "empty RDN")
        } else {
            cursor.error_at(start, format!("{raw_type:?} has no '=' and value"))
        });
    }
    if raw_type.is_empty() {
        return Err(cursor.error_at(start, "missing attribute type before '='"));
    }
    if !raw_type
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(cursor.error_at(start, format!("invalid attribute type {raw_type:?}")));
    }
    let kind = canonical_type(raw_type)
        .ok_or_else(|| cursor.error_at(start, format!("unknown attribute type {raw_type:?}")))?;
    cursor.bump(); // '='
    cursor.skip_spaces();
    let value_start = cursor.pos;
    let value = match cursor.peek() {
        Some(b'"') => parse_quoted(cursor)?,
        Some(b'#') => parse_hex_string(cursor)?,
        _ => parse_unquoted(cursor)?,
    };
    if value.trim().is_empty() {
        return Err(cursor.error_at(value_start, format!("empty value for {kind}")));
    }
    Ok(Attribute { kind, value })
}

/// A plain value: ends at an unescaped `,` or `+`; unescaped trailing spaces are dropped.
fn parse_unquoted(cursor: &mut Cursor<'_>) -> Result<String> {
    let mut out = Vec::new();
    let mut kept = 0;
    while let Some(b) = cursor.peek() {
        match b {
            b',' | b'+' => break,
            b'\\' => {
                cursor.bump();
                out.push(parse_escape(cursor)?);
                kept = out.len();
            }
            b'"' => return Err(cursor.error("unescaped '\"' inside a value")),
            b';' => {
                return Err(cursor.error("unescaped ';' (separate RDNs with ',' or write '\\;')"));
            }
            _ => {
                cursor.bump();
                out.push(b);
                if !is_space(b) {
                    kept = out.len();
                }
            }
        }
    }
    out.truncate(kept);
    into_utf8(cursor, out)
}

/// A legacy `"quoted"` value: `,`, `+` and `;` need no escape inside.
fn parse_quoted(cursor: &mut Cursor<'_>) -> Result<String> {
    let open = cursor.pos;
    cursor.bump();
    let mut out = Vec::new();
    loop {
        match cursor.bump() {
            None => return Err(cursor.error_at(open, "unterminated quoted value")),
            Some(b'"') => break,
            Some(b'\\') => out.push(parse_escape(cursor)?),
            Some(b) => out.push(b),
        }
    }
    cursor.skip_spaces();
    match cursor.peek() {
        None | Some(b',') | Some(b'+') => into_utf8(cursor, out),
        Some(_) => Err(cursor.error("unexpected text after a quoted value")),
    }
}

/// `#` followed by the hex of a BER/DER string value (RFC 4514 §2.4).
fn parse_hex_string(cursor: &mut Cursor<'_>) -> Result<String> {
    let start = cursor.pos;
    cursor.bump();
    let hex_start = cursor.pos;
    while cursor.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
        cursor.bump();
    }
    let hex = &cursor.input[hex_start..cursor.pos];
    cursor.skip_spaces();
    if !matches!(cursor.peek(), None | Some(b',') | Some(b'+')) {
        return Err(cursor.error("invalid character in a '#' hex value"));
    }
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return Err(cursor.error_at(
            start,
            "a '#' value needs an even, non-zero number of hex digits",
        ));
    }
    let der: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    decode_der_string(&der).ok_or_else(|| {
        cursor.error_at(
            start,
            "a '#' value must be the DER of a UTF8/Printable/IA5 string",
        )
    })
}

/// Decodes a DER UTF8String, PrintableString, IA5String, NumericString or VisibleString.
fn decode_der_string(der: &[u8]) -> Option<String> {
    let (&tag, rest) = der.split_first()?;
    if !matches!(tag, 0x0c | 0x12 | 0x13 | 0x16 | 0x1a) {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, content) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => (usize::from(*rest.first()?), rest.get(1..)?),
        0x82 => (
            usize::from(*rest.first()?) << 8 | usize::from(*rest.get(1)?),
            rest.get(2..)?,
        ),
        _ => return None,
    };
    if content.len() != len {
        return None;
    }
    String::from_utf8(content.to_vec()).ok()
}

/// After a `\`: a special character taken literally, or two hex digits giving one byte.
fn parse_escape(cursor: &mut Cursor<'_>) -> Result<u8> {
    let at = cursor.pos.saturating_sub(1);
    match cursor.bump() {
        None => Err(cursor.error_at(at, "trailing backslash")),
        Some(b) if b"\\,+\"<>;=# ".contains(&b) => Ok(b),
        Some(high) if high.is_ascii_hexdigit() => match cursor.bump() {
            Some(low) if low.is_ascii_hexdigit() => Ok((hex_value(high) << 4) | hex_value(low)),
            _ => Err(cursor.error_at(
                at,
                "'\\' must be followed by two hex digits or a special character",
            )),
        },
        Some(_) => Err(cursor.error_at(
            at,
            "invalid escape: '\\' must precede a special character or two hex digits",
        )),
    }
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn into_utf8(cursor: &Cursor<'_>, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| cursor.error("escaped bytes are not valid UTF-8"))
}

struct Cursor<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    fn error(&self, reason: impl Into<String>) -> Error {
        self.error_at(self.pos, reason)
    }

    fn error_at(&self, pos: usize, reason: impl Into<String>) -> Error {
        Error::bad_dn(self.input, format!("{} at byte {pos}", reason.into()))
    }
}
