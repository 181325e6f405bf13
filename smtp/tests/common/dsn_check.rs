//! Reading a DSN back: top-level fields, the three MIME parts, and the delivery-status
//! fields (per message, then per recipient). Strict enough to catch a malformed report.

/// One header/field block as (lower-case name, unfolded value).
pub type Fields = Vec<(String, String)>;

pub struct ParsedDsn {
    pub headers: Fields,
    /// (part headers, part body) in order.
    pub parts: Vec<(Fields, Vec<u8>)>,
    pub per_message: Fields,
    pub per_recipient: Vec<Fields>,
}

pub fn get<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == &name.to_ascii_lowercase())
        .map(|(_, v)| v.as_str())
}

/// Fields of `text` up to its first empty line, unfolded; panics on a line without colon.
pub fn parse_fields(text: &str) -> Fields {
    let mut fields: Fields = Vec::new();
    for line in text.split("\r\n") {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            let last = fields
                .last_mut()
                .expect("a continuation line without a field");
            last.1.push(' ');
            last.1.push_str(line.trim());
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a field: {line:?}"));
        fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    fields
}

fn split_head(bytes: &[u8]) -> (&[u8], &[u8]) {
    let at = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no end of headers");
    (&bytes[..at + 2], &bytes[at + 4..])
}

pub fn parse(report: &[u8]) -> ParsedDsn {
    let (head, body) = split_head(report);
    let headers = parse_fields(std::str::from_utf8(head).expect("headers are UTF-8"));
    let content_type = get(&headers, "Content-Type").expect("Content-Type");
    assert!(
        content_type.starts_with("multipart/report;"),
        "{content_type}"
    );
    assert!(
        content_type.contains("report-type=delivery-status"),
        "{content_type}"
    );
    let boundary = content_type
        .split("boundary=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("boundary");
    let delimiter = format!("\r\n--{boundary}");
    let text = body;
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(at) = rest
        .windows(delimiter.len())
        .position(|w| w == delimiter.as_bytes())
    {
        pieces.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    assert!(
        rest.starts_with(b"--\r\n"),
        "the report must end with the closing delimiter"
    );
    // pieces[0] is the preamble.
    let parts: Vec<(Fields, Vec<u8>)> = pieces[1..]
        .iter()
        .map(|piece| {
            let piece = piece
                .strip_prefix(b"\r\n")
                .expect("CRLF after the delimiter");
            let (h, b) = split_head(piece);
            (parse_fields(std::str::from_utf8(h).unwrap()), b.to_vec())
        })
        .collect();
    assert_eq!(parts.len(), 3, "human text, delivery-status, original");
    assert!(
        get(&parts[0].0, "Content-Type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(
        get(&parts[1].0, "Content-Type"),
        Some("message/delivery-status")
    );
    let status = std::str::from_utf8(&parts[1].1).expect("delivery-status is UTF-8");
    let mut groups = status.split("\r\n\r\n").filter(|g| !g.trim().is_empty());
    let per_message = parse_fields(groups.next().expect("per-message fields"));
    let per_recipient = groups.map(parse_fields).collect();
    ParsedDsn {
        headers,
        parts,
        per_message,
        per_recipient,
    }
}
