//! Responses as the client reads them: the reply to a tagged command, untagged responses
//! with their literals, and the pure parser that cuts one complete response out of the
//! read buffer (lines and `{n}` literals, both bounded).

use std::io;

/// Longest line (without its literals) accepted from the server.
pub const MAX_LINE: usize = 1024 * 1024;
/// Largest literal accepted from the server.
pub const MAX_LITERAL: usize = 100 * 1024 * 1024;

/// The server's answer to one tagged command.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// The tagged line without its tag, e.g. "OK [READ-WRITE] SELECT completed".
    pub tag_line: String,
    pub untagged: Vec<Untagged>,
    /// Bytes read from the socket for this reply (untagged responses included).
    pub bytes: usize,
}

/// One untagged response (`* ...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Untagged {
    /// The response without "* " and CRLF; each literal is left as its `{n}` placeholder.
    pub line: String,
    /// The literals, in order of appearance.
    pub literals: Vec<Vec<u8>>,
}

impl Reply {
    pub fn is_ok(&self) -> bool {
        self.status() == "OK"
    }

    /// OK, NO or BAD (the first word of the tagged line).
    pub fn status(&self) -> &str {
        self.tag_line.split(' ').next().unwrap_or_default()
    }

    /// The response code: the text inside `[...]` right after the status.
    pub fn code(&self) -> Option<&str> {
        let rest = self.tag_line.split_once(' ')?.1;
        let inner = rest.strip_prefix('[')?;
        inner.find(']').map(|end| &inner[..end])
    }

    pub fn untagged_starting(&self, prefix: &str) -> Vec<&Untagged> {
        self.untagged
            .iter()
            .filter(|u| u.line.starts_with(prefix))
            .collect()
    }

    /// The number of the last `* n <keyword>` response (EXISTS, RECENT...), if any.
    pub fn count(&self, keyword: &str) -> Option<u32> {
        self.untagged.iter().rev().find_map(|u| {
            let (n, word) = u.line.split_once(' ')?;
            if word.eq_ignore_ascii_case(keyword) {
                n.parse().ok()
            } else {
                None
            }
        })
    }

    /// The tagged line and untagged lines, for assertion messages.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for u in &self.untagged {
            text.push_str("* ");
            text.push_str(&u.line);
            text.push('\n');
        }
        text.push_str(&self.tag_line);
        text
    }
}

/// One complete response parsed out of the read buffer.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Frame {
    Untagged(Untagged),
    /// A `+ ...` command continuation request, with its text.
    Continuation(String),
    Tagged {
        tag: String,
        rest: String,
    },
}

/// What the buffer holds: a complete response, or not yet (with how many bytes are missing
/// at least, so a large literal is read with one reservation).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Parsed {
    Complete(Frame, usize),
    Need(usize),
}

/// Parses one response from the start of `data` without consuming anything.
pub(super) fn parse_frame(data: &[u8]) -> io::Result<Parsed> {
    let mut pos = 0;
    let mut text = Vec::new();
    let mut literals = Vec::new();
    loop {
        let Some(end) = line_end(&data[pos..])? else {
            return Ok(Parsed::Need(1));
        };
        let line = strip_crlf(&data[pos..pos + end]);
        if text.len() + line.len() > MAX_LINE {
            return Err(io::Error::other(format!(
                "response line longer than {MAX_LINE} bytes"
            )));
        }
        text.extend_from_slice(line);
        pos += end;
        let Some(size) = literal_size(line)? else {
            break;
        };
        if data.len() - pos < size {
            return Ok(Parsed::Need(size - (data.len() - pos)));
        }
        literals.push(data[pos..pos + size].to_vec());
        pos += size;
    }
    let text = String::from_utf8_lossy(&text).into_owned();
    let frame = if let Some(rest) = text.strip_prefix("* ") {
        Frame::Untagged(Untagged {
            line: rest.to_string(),
            literals,
        })
    } else if let Some(rest) = text.strip_prefix('+') {
        Frame::Continuation(rest.trim_start().to_string())
    } else {
        let (tag, rest) = text.split_once(' ').unwrap_or((&text, ""));
        Frame::Tagged {
            tag: tag.to_string(),
            rest: rest.to_string(),
        }
    };
    Ok(Parsed::Complete(frame, pos))
}

/// Index just past the LF ending the first line of `data`, if complete.
pub(super) fn line_end(data: &[u8]) -> io::Result<Option<usize>> {
    let scan = &data[..data.len().min(MAX_LINE + 2)];
    match scan.iter().position(|&b| b == b'\n') {
        Some(i) => Ok(Some(i + 1)),
        None if data.len() > MAX_LINE => Err(io::Error::other(format!(
            "server line longer than {MAX_LINE} bytes"
        ))),
        None => Ok(None),
    }
}

pub(super) fn strip_crlf(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The size announced by a line ending in `{n}` (or `{n+}`), if it does.
fn literal_size(line: &[u8]) -> io::Result<Option<usize>> {
    let Some(inner) = line.strip_suffix(b"}") else {
        return Ok(None);
    };
    let Some(open) = inner.iter().rposition(|&b| b == b'{') else {
        return Ok(None);
    };
    let digits = &inner[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    let size = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<usize>().ok())
        .filter(|&n| n <= MAX_LITERAL)
        .ok_or_else(|| {
            io::Error::other(format!(
                "server literal of {} bytes exceeds the {MAX_LITERAL}-byte limit",
                String::from_utf8_lossy(digits)
            ))
        })?;
    Ok(Some(size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn untagged(line: &str, literals: &[&[u8]]) -> Frame {
        Frame::Untagged(Untagged {
            line: line.to_string(),
            literals: literals.iter().map(|l| l.to_vec()).collect(),
        })
    }

    #[test]
    fn parses_frames() {
        let cases: Vec<(&[u8], Parsed)> = vec![
            (
                b"* 3 EXISTS\r\n",
                Parsed::Complete(untagged("3 EXISTS", &[]), 12),
            ),
            (
                b"* 1 FETCH (BODY[1] {5}\r\nhello)\r\nrest",
                Parsed::Complete(untagged("1 FETCH (BODY[1] {5})", &[b"hello"]), 32),
            ),
            (
                b"* 1 FETCH (A {2}\r\nab B {0}\r\n)\r\n",
                Parsed::Complete(untagged("1 FETCH (A {2} B {0})", &[b"ab", b""]), 31),
            ),
            (
                b"+ idling\r\n",
                Parsed::Complete(Frame::Continuation("idling".into()), 10),
            ),
            (
                b"+\r\n",
                Parsed::Complete(Frame::Continuation(String::new()), 3),
            ),
            (
                b"a1 OK [READ-WRITE] done\r\n",
                Parsed::Complete(
                    Frame::Tagged {
                        tag: "a1".into(),
                        rest: "OK [READ-WRITE] done".into(),
                    },
                    25,
                ),
            ),
            (b"* 3 EXI", Parsed::Need(1)),
            (b"* 1 FETCH (BODY[1] {10}\r\nhel", Parsed::Need(7)),
            (b"", Parsed::Need(1)),
        ];
        for (input, expected) in cases {
            let got = parse_frame(input).unwrap();
            assert_eq!(got, expected, "{}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn refuses_oversized_input() {
        let literal = format!("* 1 FETCH (BODY[] {{{}}}\r\n", MAX_LITERAL + 1);
        assert!(parse_frame(literal.as_bytes()).is_err());
        let long = vec![b'x'; MAX_LINE + 3];
        assert!(parse_frame(&long).is_err());
    }

    #[test]
    fn literal_sizes() {
        let cases: Vec<(&[u8], Option<usize>)> = vec![
            (b"A {12}", Some(12)),
            (b"A {12+}", Some(12)),
            (b"A {}", None),
            (b"A {1x}", None),
            (b"A 12}", None),
            (b"A", None),
        ];
        for (line, expected) in cases {
            assert_eq!(literal_size(line).unwrap(), expected);
        }
    }

    #[test]
    fn reply_accessors() {
        let reply = Reply {
            tag_line: "OK [APPENDUID 7 12] APPEND completed".into(),
            untagged: vec![
                Untagged {
                    line: "4 EXISTS".into(),
                    literals: vec![],
                },
                Untagged {
                    line: "0 RECENT".into(),
                    literals: vec![],
                },
            ],
            bytes: 0,
        };
        assert!(reply.is_ok());
        assert_eq!(reply.status(), "OK");
        assert_eq!(reply.code(), Some("APPENDUID 7 12"));
        assert_eq!(reply.count("EXISTS"), Some(4));
        assert_eq!(reply.untagged_starting("0 ").len(), 1);
        let bad = Reply {
            tag_line: "BAD no code".into(),
            ..Reply::default()
        };
        assert_eq!(bad.status(), "BAD");
        assert_eq!(bad.code(), None);
    }
}
