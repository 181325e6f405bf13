//! Helpers for submission tests: SASL responses the harness does not build yet, base64 both
//! ways, SMTP replies read over any line stream (implicit TLS on 465 included), and readings
//! of replies, EHLO keywords, stored messages and audit details.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::LineClient;

/// The SASL OAUTHBEARER initial response (RFC 7628 §3.1) naming `user`, base64.
pub fn oauthbearer(user: &str, token: &str) -> String {
    BASE64.encode(format!("n,a={user},\x01auth=Bearer {token}\x01\x01"))
}

/// `text` in base64, as SASL responses (AUTH LOGIN) are sent.
pub fn base64(text: &str) -> String {
    BASE64.encode(text)
}

/// Decodes a base64 challenge; panics with the text when it is not base64.
pub fn decode_base64(text: &str) -> String {
    let bytes = BASE64
        .decode(text)
        .unwrap_or_else(|e| panic!("challenge {text:?} is not base64: {e}"));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// One SMTP reply; multi-line replies are joined with '\n'.
pub fn reply<S: Read + Write>(client: &mut LineClient<S>) -> String {
    let mut lines = Vec::new();
    loop {
        let line = client.read_line();
        let more = line.as_bytes().get(3) == Some(&b'-');
        lines.push(line);
        if !more {
            break;
        }
    }
    lines.join("\n")
}

/// Sends a command line and returns the whole reply.
pub fn command<S: Read + Write>(client: &mut LineClient<S>, line: &str) -> String {
    client.send(line);
    reply(client)
}

/// The EHLO reply announces exactly `extension` on one of its lines.
pub fn announces(ehlo: &str, extension: &str) -> bool {
    ehlo.lines().any(|l| l.get(4..) == Some(extension))
}

/// The queue id from `250 2.0.0 OK, stored as <id>`; panics on any other reply.
pub fn stored_id(reply: &str) -> String {
    reply
        .strip_prefix("250 2.0.0 OK, stored as ")
        .unwrap_or_else(|| panic!("not an acceptance: {reply}"))
        .to_string()
}

/// The header block of a stored message, with the CRLF of its last field.
pub fn header_block(message: &str) -> &str {
    &message[..message.find("\r\n\r\n").expect("end of headers") + 2]
}

/// The fields called `name` (case-insensitive), unfolded lines only.
pub fn fields_named<'a>(headers: &'a str, name: &str) -> Vec<&'a str> {
    let prefix = format!("{}:", name.to_lowercase());
    headers
        .split("\r\n")
        .filter(|l| l.to_lowercase().starts_with(&prefix))
        .collect()
}

/// A string field of an audit detail ("" when absent).
pub fn text(value: &serde_json::Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_string()
}
