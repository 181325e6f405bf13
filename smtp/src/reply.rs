//! SMTP replies: a code, an RFC 3463 enhanced status code and a text. Every reply mssd sends is
//! built here or in `replies.rs`, so the texts stay consistent and reviewable in one place.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// RFC 3463 class.subject.detail; absent only for the greeting and EHLO.
    pub status: Option<(u8, u16, u16)>,
    pub lines: Vec<Cow<'static, str>>,
}

impl Reply {
    pub fn new(code: u16, status: (u8, u16, u16), text: impl Into<Cow<'static, str>>) -> Reply {
        Reply {
            code,
            status: Some(status),
            lines: vec![text.into()],
        }
    }

    /// A reply without enhanced status code (220 greeting, EHLO).
    pub fn plain(code: u16, lines: Vec<Cow<'static, str>>) -> Reply {
        Reply {
            code,
            status: None,
            lines,
        }
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    pub fn is_permanent_failure(&self) -> bool {
        self.code >= 500
    }

    /// Wire form: `250-…` continuation lines, then `250 …`. Texts never contain CR or LF
    /// (they are replaced) so a value from the peer cannot inject a line.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.extend_from_slice(format!("{}{sep}", self.code).as_bytes());
            if let Some((class, subject, detail)) = self.status {
                out.extend_from_slice(format!("{class}.{subject}.{detail} ").as_bytes());
            }
            out.extend(
                line.bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.extend_from_slice(b"\r\n");
        }
        if self.lines.is_empty() {
            out.extend_from_slice(format!("{} \r\n", self.code).as_bytes());
        }
    }

    /// "550 5.7.1 text" on one line, for logs and the audit trail.
    pub fn summary(&self) -> String {
        let mut out = Vec::new();
        Reply {
            lines: self.lines.iter().take(1).cloned().collect(),
            ..self.clone()
        }
        .write_to(&mut out);
        String::from_utf8_lossy(&out).trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms() {
        let cases: Vec<(Reply, &str)> = vec![
            (
                Reply::new(250, (2, 1, 0), "Sender OK"),
                "250 2.1.0 Sender OK\r\n",
            ),
            (Reply::new(550, (5, 7, 1), "a\r\nb"), "550 5.7.1 a  b\r\n"),
            (
                Reply::plain(220, vec!["mx ESMTP".into()]),
                "220 mx ESMTP\r\n",
            ),
            (
                Reply::plain(
                    250,
                    vec!["mx".into(), "PIPELINING".into(), "SIZE 10".into()],
                ),
                "250-mx\r\n250-PIPELINING\r\n250 SIZE 10\r\n",
            ),
        ];
        for (reply, wire) in cases {
            let mut out = Vec::new();
            reply.write_to(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), wire);
        }
        assert_eq!(
            Reply::new(552, (5, 3, 4), "too big").summary(),
            "552 5.3.4 too big"
        );
    }
}
