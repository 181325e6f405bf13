//! Test messages of an exact size, each with its own Message-ID, that need no dot-stuffing.

/// Longest body line we write, without its CRLF (RFC 5322 recommends at most 78).
const LINE: usize = 76;

/// Distinguishes one run's Message-IDs from earlier runs' (nanoseconds since the epoch).
pub fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}")
}

/// A unique Message-ID for message `index` of connection `connection` in run `run`.
pub fn message_id(run: &str, connection: usize, index: usize, domain: &str) -> String {
    format!("<load-{run}-{connection}-{index}@{domain}>")
}

/// A message of exactly `size` bytes, ending with CRLF (just its headers when `size` is less
/// than 3 bytes more than they are).
/// Body lines start with a letter, so the message goes on the wire as is, before `.\r\n`.
pub fn build_message(from: &str, to: &str, message_id: &str, size: usize) -> Vec<u8> {
    let mut out = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: mssd load test\r\nMessage-ID: {message_id}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    )
    .into_bytes();
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut next = 0;
    // Each line is at least one letter and its CRLF (3 bytes): when 1 or 2 bytes would be
    // left after a full line, shorten that line so the last one can take them.
    while size.saturating_sub(out.len()) >= 3 {
        let remaining = size - out.len();
        let mut len = (remaining - 2).min(LINE);
        if (1..3).contains(&(remaining - len - 2)) {
            len -= 2;
        }
        for _ in 0..len {
            out.push(alphabet[next % alphabet.len()]);
            next += 1;
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_table() {
        let id = message_id("r1", 3, 42, "b.fr");
        assert_eq!(id, "<load-r1-3-42@b.fr>");
        let headers = build_message("a@b.fr", "c@d.fr", &id, 0).len();
        // (requested size, expected length)
        let cases = [
            (0, headers),
            (headers, headers),
            (headers + 1, headers),
            (headers + 2, headers),
            (headers + 3, headers + 3),
            (headers + 78, headers + 78),
            (headers + 79, headers + 79),
            (10_240, 10_240),
            (100_000, 100_000),
        ];
        for (size, expected) in cases {
            let message = build_message("a@b.fr", "c@d.fr", &id, size);
            assert_eq!(message.len(), expected, "size {size}");
            assert!(message.ends_with(b"\r\n"), "size {size}");
            let text = String::from_utf8(message).unwrap();
            assert!(text.contains("\r\nMessage-ID: <load-r1-3-42@b.fr>\r\n"));
            for line in text.split("\r\n") {
                assert!(
                    !line.starts_with('.'),
                    "line needing dot-stuffing: {line:?}"
                );
                assert!(line.len() <= 78, "line too long: {line:?}");
                assert!(!line.contains('\n') && !line.contains('\r'));
            }
        }
    }
}
