//! Header handling on raw message bytes, without parsing the whole message: where the header
//! block ends, whether a field is present, a field's unfolded value, and the trace fields
//! mssd adds (RFC 5321 §4.4 Received, RFC 5322 Message-ID and Date).

use std::fmt::Write;

/// Length of the header block including its terminating empty line, or the whole input when
/// there is no body.
pub fn header_block_len(message: &[u8]) -> usize {
    if message.starts_with(b"\r\n") {
        return 2;
    }
    message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(message.len())
}

/// Where a new field can be inserted: just before the empty line that ends the headers.
pub fn header_insert_point(message: &[u8]) -> usize {
    let len = header_block_len(message);
    if message[..len].ends_with(b"\r\n\r\n") {
        len - 2
    } else if len == 2 {
        0
    } else {
        len
    }
}

/// The unfolded value of the first field called `name` (case-insensitive), trimmed.
pub fn field_value(headers: &[u8], name: &str) -> Option<String> {
    let mut lines = headers.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            continue;
        }
        if !line[..colon]
            .trim_ascii()
            .eq_ignore_ascii_case(name.as_bytes())
        {
            continue;
        }
        let mut value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_string();
        while let Some(next) = lines.peek() {
            if !next.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                break;
            }
            let next = lines.next().unwrap_or_default();
            let next = next.strip_suffix(b"\r").unwrap_or(next);
            value.push(' ');
            value.push_str(String::from_utf8_lossy(next).trim());
        }
        return Some(value);
    }
    None
}

pub fn has_field(headers: &[u8], name: &str) -> bool {
    field_value(headers, name).is_some()
}

/// What the Received field records about how a message came in.
pub struct TraceInfo<'a> {
    pub helo: &'a str,
    pub peer_ip: std::net::IpAddr,
    pub by_host: &'a str,
    /// "ESMTPS", "ESMTPSA" (RFC 3848).
    pub with: &'a str,
    pub tls: Option<(&'a str, &'a str)>,
    pub peer_dn: Option<&'a str>,
    pub id: &'a str,
    /// Named only when the message has a single recipient (RFC 5321 §7.2 privacy).
    pub for_recipient: Option<&'a str>,
}

/// An RFC 5321 §4.4 Received field, folded, ending in CRLF.
pub fn received_field(info: &TraceInfo<'_>, date: &str) -> String {
    let mut f = format!(
        "Received: from {} ([{}])\r\n\tby {} with {}",
        info.helo, info.peer_ip, info.by_host, info.with
    );
    if let Some((version, cipher)) = info.tls {
        let _ = write!(f, "\r\n\t(version={version} cipher={cipher}");
        match info.peer_dn {
            Some(dn) => {
                let _ = write!(f, "\r\n\t peer=\"{}\")", dn.replace(['"', '\r', '\n'], ""));
            }
            None => f.push(')'),
        }
    }
    let _ = write!(f, "\r\n\tid {}", info.id);
    if let Some(rcpt) = info.for_recipient {
        let _ = write!(f, "\r\n\tfor <{rcpt}>");
    }
    let _ = write!(f, ";\r\n\t{date}\r\n");
    f
}

/// RFC 5322 date-time, e.g. `Mon, 23 Nov 2026 03:12:00 +0000`.
pub fn rfc5322_date(now: time::OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let utc = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[utc.weekday().number_days_from_monday() as usize],
        utc.day(),
        MONTHS[utc.month() as usize - 1],
        utc.year(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// A unique Message-ID field value, `<id@host>`.
pub fn new_message_id(id: &str, host: &str) -> String {
    format!("<{id}@{host}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] =
        b"From: a@b.fr\r\nSubject: hello\r\n  world\r\nX-MSS-INS: O\r\nmessage-id: <1@x>\r\n\r\nbody\r\nMessage-ID: <not-a-header>\r\n";

    #[test]
    fn header_block_and_insert_point() {
        let cases: &[(&[u8], usize, usize)] = &[
            (MESSAGE, 74, 72),
            (b"Subject: x\r\n\r\n", 14, 12),
            (b"Subject: x\r\n", 12, 12),
            (b"\r\nbody", 2, 0),
            (b"", 0, 0),
        ];
        for (input, block, insert) in cases {
            assert_eq!(
                header_block_len(input),
                *block,
                "{:?}",
                String::from_utf8_lossy(input)
            );
            assert_eq!(
                header_insert_point(input),
                *insert,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn field_values() {
        let headers = &MESSAGE[..header_block_len(MESSAGE)];
        let cases: &[(&str, Option<&str>)] = &[
            ("subject", Some("hello world")),
            ("Message-ID", Some("<1@x>")),
            ("X-MSS-INS", Some("O")),
            ("Date", None),
            ("world", None),
        ];
        for (name, expected) in cases {
            assert_eq!(field_value(headers, name).as_deref(), *expected, "{name}");
        }
    }

    #[test]
    fn received_and_date() {
        let date = rfc5322_date(time::macros::datetime!(2026-11-23 03:12:05 UTC));
        assert_eq!(date, "Mon, 23 Nov 2026 03:12:05 +0000");
        let field = received_field(
            &TraceInfo {
                helo: "mx.b.fr",
                peer_ip: "127.0.0.1".parse().unwrap(),
                by_host: "mail.a.fr",
                with: "ESMTPS",
                tls: Some(("TLSv1_3", "TLS13_AES_256_GCM_SHA384")),
                peer_dn: Some("CN=mx.b.fr,O=\"B\"\r\nX: y"),
                id: "abc",
                for_recipient: Some("x@a.fr"),
            },
            &date,
        );
        assert!(
            field.starts_with("Received: from mx.b.fr ([127.0.0.1])\r\n\tby mail.a.fr with ESMTPS")
        );
        assert!(field.contains("peer=\"CN=mx.b.fr,O=BX: y\")"), "{field}");
        assert!(field.ends_with(";\r\n\tMon, 23 Nov 2026 03:12:05 +0000\r\n"));
        assert_eq!(
            field.matches("\r\n").count(),
            field.matches("\r\n\t").count() + 1
        );
    }
}
