//! SMTP replies (RFC 5321 §4.2): one or more lines `CODE-text` ending with `CODE text`.

use std::fmt;

use crate::error::{Error, Result};

/// One parsed reply line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyLine {
    pub code: u16,
    /// False when the line is `CODE-…`, i.e. more lines follow.
    pub last: bool,
    pub text: String,
}

/// Parses one line, without its CRLF. The code must be three digits 2xx–5xx, followed by
/// nothing, a space or a hyphen.
pub fn parse_reply_line(line: &str) -> Result<ReplyLine> {
    let bad = || Error::MalformedReply(line.to_string());
    let digits = line.get(..3).ok_or_else(bad)?;
    let bytes = digits.as_bytes();
    if !(b'2'..=b'5').contains(&bytes[0]) || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let code = digits.parse().map_err(|_| bad())?;
    let (last, text) = match line.as_bytes().get(3) {
        None => (true, ""),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => return Err(bad()),
    };
    Ok(ReplyLine {
        code,
        last,
        text: text.to_string(),
    })
}

/// A complete reply: its code and the text of every line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.lines.join(" / "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines_table() {
        let valid = [
            ("250 2.0.0 Ok: queued", 250, true, "2.0.0 Ok: queued"),
            ("250-PIPELINING", 250, false, "PIPELINING"),
            ("354", 354, true, ""),
            ("220 ", 220, true, ""),
            (
                "550 5.7.1 Relaying denied",
                550,
                true,
                "5.7.1 Relaying denied",
            ),
        ];
        for (line, code, last, text) in valid {
            let parsed = parse_reply_line(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            assert_eq!(
                parsed,
                ReplyLine {
                    code,
                    last,
                    text: text.to_string()
                },
                "{line:?}"
            );
        }
        let invalid = [
            "",
            "25",
            "abc hello",
            "150 too low",
            "650 too high",
            "2x0 x",
            "250+x",
            "é50 x",
        ];
        for line in invalid {
            assert!(
                matches!(parse_reply_line(line), Err(Error::MalformedReply(l)) if l == line),
                "{line:?} should be refused"
            );
        }
    }

    #[test]
    fn positive_replies_are_2xx_and_3xx() {
        for (code, positive) in [
            (220, true),
            (250, true),
            (354, true),
            (421, false),
            (554, false),
        ] {
            let reply = Reply {
                code,
                lines: vec![],
            };
            assert_eq!(reply.is_positive(), positive, "{code}");
        }
    }
}
