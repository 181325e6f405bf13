//! Checks shared by the SASL parsers.

use crate::error::{Error, Result};

/// RFC 4616: authzid, authcid and passwd are at most 255 octets each. We apply the same
/// bound to LOGIN fields and to identities named in bearer messages.
pub(crate) const MAX_FIELD_OCTETS: usize = 255;

/// Bound of a whole XOAUTH2/OAUTHBEARER message: Pro Santé Connect tokens are a few KiB.
pub(crate) const MAX_BEARER_MESSAGE_OCTETS: usize = 16 * 1024;

/// A non-secret text field: UTF-8, no NUL, at most 255 octets. `what` names it in errors.
pub(crate) fn utf8_field<'a>(
    mechanism: &'static str,
    what: &str,
    bytes: &'a [u8],
) -> Result<&'a str> {
    if bytes.len() > MAX_FIELD_OCTETS {
        return Err(Error::sasl(
            mechanism,
            format!(
                "{what} is {} octets, longer than the {MAX_FIELD_OCTETS} allowed",
                bytes.len()
            ),
        ));
    }
    if bytes.contains(&0) {
        return Err(Error::sasl(
            mechanism,
            format!("{what} contains a NUL octet"),
        ));
    }
    std::str::from_utf8(bytes)
        .map_err(|_| Error::sasl(mechanism, format!("{what} is not valid UTF-8")))
}

/// `None` for an empty field, else the field checked by [`utf8_field`].
pub(crate) fn optional_field(
    mechanism: &'static str,
    what: &str,
    bytes: &[u8],
) -> Result<Option<String>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    utf8_field(mechanism, what, bytes).map(|s| Some(s.to_owned()))
}

/// Like [`utf8_field`] but the field may not be empty.
pub(crate) fn required_field(mechanism: &'static str, what: &str, bytes: &[u8]) -> Result<String> {
    if bytes.is_empty() {
        return Err(Error::sasl(mechanism, format!("{what} is empty")));
    }
    utf8_field(mechanism, what, bytes).map(str::to_owned)
}
