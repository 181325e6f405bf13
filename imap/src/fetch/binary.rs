//! BINARY[section] (RFC 3516): a leaf part's body with its Content-Transfer-Encoding removed.

use std::borrow::Cow;
use std::num::NonZeroU32;

use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::fetch::{Part, Section};
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;

use super::FetchError;
use crate::mime::{header_fields, section, split_header_body};

/// The decoded content of part `path` (empty path = the whole message, as stored); None when the
/// part does not exist.
pub(super) fn decoded_part<'m>(
    message: &'m [u8],
    path: &[NonZeroU32],
) -> Result<Option<Cow<'m, [u8]>>, FetchError> {
    let Ok(numbers) = Vec1::try_from(path.to_vec()) else {
        return Ok(Some(Cow::Borrowed(message)));
    };
    let part = Part(numbers);
    let Some(body) = section(message, Some(&Section::Part(part.clone())), None) else {
        return Ok(None);
    };
    let mime_header = section(message, Some(&Section::Mime(part)), None).unwrap_or_default();
    let encoding = transfer_encoding(&mime_header);
    let decoded = match encoding.as_str() {
        "" | "7bit" | "8bit" | "binary" => return Ok(Some(body)),
        "base64" => base64_decode(&body),
        "quoted-printable" => quoted_printable_decode(&body),
        _ => return Err(FetchError::UnknownTransferEncoding(encoding)),
    };
    decoded
        .map(|bytes| Some(Cow::Owned(bytes)))
        .ok_or(FetchError::UndecodablePart(encoding))
}

/// The part's Content-Transfer-Encoding, lowercased and trimmed; empty when absent.
fn transfer_encoding(mime_header: &[u8]) -> String {
    let (header, _) = split_header_body(mime_header);
    header_fields(header)
        .into_iter()
        .find(|field| {
            field
                .name
                .eq_ignore_ascii_case(b"Content-Transfer-Encoding")
        })
        .map(|field| {
            String::from_utf8_lossy(field.value)
                .split_whitespace()
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}
