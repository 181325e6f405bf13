//! Splitting a raw message (or MIME part) into its header block and body, and the header block into
//! fields, keeping every byte as stored.

/// One header field as stored: `raw` is the whole field with its folded lines and line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderField<'a> {
    pub name: &'a [u8],
    /// Bytes after the colon up to (excluding) the final line ending; may contain folding CRLFs.
    pub value: &'a [u8],
    pub raw: &'a [u8],
}

/// Splits `raw` at the first empty line. The header part keeps that empty line (as BODY[HEADER]
/// must); the body is everything after it. Without an empty line, everything is header.
pub fn split_header_body(raw: &[u8]) -> (&[u8], &[u8]) {
    let mut line_start = 0;
    while line_start < raw.len() {
        let line_end = match raw[line_start..].iter().position(|&b| b == b'\n') {
            Some(at) => line_start + at + 1,
            None => raw.len(),
        };
        let line = &raw[line_start..line_end];
        if line == b"\r\n" || line == b"\n" {
            return raw.split_at(line_end);
        }
        line_start = line_end;
    }
    (raw, &raw[raw.len()..])
}

/// The fields of a header block (as returned by [`split_header_body`]), in order. Lines that are
/// neither a field nor a continuation (no colon) are skipped: they cannot be selected by name.
pub fn header_fields(header: &[u8]) -> Vec<HeaderField<'_>> {
    let mut fields = Vec::new();
    let mut start = 0;
    while start < header.len() {
        let mut end = line_end(header, start);
        // Continuation lines start with a space or a tab (RFC 5322 folding).
        while end < header.len() && matches!(header[end], b' ' | b'\t') {
            end = line_end(header, end);
        }
        let raw = &header[start..end];
        if let Some(colon) = raw.iter().position(|&b| b == b':') {
            let name = trim(&raw[..colon]);
            if !name.is_empty() {
                let value = strip_line_ending(&raw[colon + 1..]);
                fields.push(HeaderField { name, value, raw });
            }
        }
        start = end;
    }
    fields
}

/// The value of the first field called `name` (case-insensitive), unfolded and trimmed.
pub(crate) fn first_value(header: &[u8], name: &str) -> Option<Vec<u8>> {
    first_value_in(&header_fields(header), name)
}

/// `first_value` on fields already split (a caller reading several fields splits once).
pub(crate) fn first_value_in(fields: &[HeaderField<'_>], name: &str) -> Option<Vec<u8>> {
    fields
        .iter()
        .find(|field| field.name.eq_ignore_ascii_case(name.as_bytes()))
        .map(|field| unfold(field.value))
}

/// Removes the CR/LF of folded lines (keeping the whitespace that follows) and trims the ends.
pub(crate) fn unfold(value: &[u8]) -> Vec<u8> {
    let unfolded: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    trim(&unfolded).to_vec()
}

fn line_end(data: &[u8], from: usize) -> usize {
    match data[from..].iter().position(|&b| b == b'\n') {
        Some(at) => from + at + 1,
        None => data.len(),
    }
}

fn strip_line_ending(data: &[u8]) -> &[u8] {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    data.strip_suffix(b"\r").unwrap_or(data)
}

pub(crate) fn trim(data: &[u8]) -> &[u8] {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = data.iter().position(|b| !is_space(b)).unwrap_or(data.len());
    let end = data
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |at| at + 1);
    &data[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_header_body_cases() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"A: 1\r\n\r\nbody\r\n", b"A: 1\r\n\r\n", b"body\r\n"),
            (b"A: 1\n\nbody", b"A: 1\n\n", b"body"),
            (b"\r\nonly body", b"\r\n", b"only body"),
            (b"A: 1\r\nB: 2\r\n", b"A: 1\r\nB: 2\r\n", b""),
            (b"A: 1\r\n\r\n\r\nx", b"A: 1\r\n\r\n", b"\r\nx"),
            (b"", b"", b""),
        ];
        for (raw, header, body) in cases {
            assert_eq!(split_header_body(raw), (*header, *body), "{raw:?}");
        }
    }

    #[test]
    fn header_fields_cases() {
        let header = b"Subject: a\r\n b\r\nFrom:x@y\r\nbroken line\r\nTo: z\r\n\r\n";
        let fields = header_fields(header);
        let got: Vec<(&[u8], &[u8], &[u8])> =
            fields.iter().map(|f| (f.name, f.value, f.raw)).collect();
        let want: Vec<(&[u8], &[u8], &[u8])> = vec![
            (b"Subject", b" a\r\n b", b"Subject: a\r\n b\r\n"),
            (b"From", b"x@y", b"From:x@y\r\n"),
            (b"To", b" z", b"To: z\r\n"),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn first_value_unfolds_and_ignores_case() {
        let header = b"subject: Hello\r\n\tworld \r\nSubject: second\r\n\r\n";
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("Subject", Some(b"Hello\tworld")),
            ("SUBJECT", Some(b"Hello\tworld")),
            ("From", None),
        ];
        for (name, want) in cases {
            assert_eq!(first_value(header, name).as_deref(), *want, "{name}");
        }
    }
}
