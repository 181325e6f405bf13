//! What a peer's EHLO reply offers, read from its lines (RFC 5321 §4.1.1.1: the first line
//! is the greeting, each further line an extension keyword and its parameters).

use crate::reply::Reply;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub starttls: bool,
    pub pipelining: bool,
    pub eight_bit_mime: bool,
    pub smtputf8: bool,
    /// RFC 3461 delivery status notifications.
    pub dsn: bool,
    /// RFC 3030 BDAT.
    pub chunking: bool,
    pub enhanced_status_codes: bool,
    /// RFC 1870: `Some(0)` is SIZE without a limit.
    pub size: Option<usize>,
}

impl Capabilities {
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "STARTTLS" => caps.starttls = true,
                "PIPELINING" => caps.pipelining = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "DSN" => caps.dsn = true,
                "CHUNKING" => caps.chunking = true,
                "ENHANCEDSTATUSCODES" => caps.enhanced_status_codes = true,
                "SIZE" => caps.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                _ => {}
            }
        }
        caps
    }

    /// Whether a message of `size` octets exceeds the limit the peer announced.
    pub fn too_big(&self, size: usize) -> bool {
        matches!(self.size, Some(limit) if limit > 0 && size > limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ehlo_replies() {
        let all = Capabilities {
            starttls: true,
            pipelining: true,
            eight_bit_mime: true,
            smtputf8: true,
            dsn: true,
            chunking: true,
            enhanced_status_codes: true,
            size: Some(52_428_800),
        };
        let cases: Vec<(Vec<&str>, Capabilities)> = vec![
            (vec!["mx.b.fr"], Capabilities::default()),
            (
                vec![
                    "mx.b.fr",
                    "PIPELINING",
                    "8BITMIME",
                    "SMTPUTF8",
                    "ENHANCEDSTATUSCODES",
                    "DSN",
                    "CHUNKING",
                    "SIZE 52428800",
                    "STARTTLS",
                ],
                all,
            ),
            (
                vec!["mx", "starttls", "size"],
                Capabilities {
                    starttls: true,
                    size: Some(0),
                    ..Default::default()
                },
            ),
            (
                vec!["mx", "SIZE many", "AUTH PLAIN", ""],
                Capabilities {
                    size: Some(0),
                    ..Default::default()
                },
            ),
            // The greeting line is not a keyword even when it looks like one.
            (vec!["STARTTLS"], Capabilities::default()),
            (vec!["mx", "X-STARTTLS", "DSNX"], Capabilities::default()),
        ];
        for (lines, expected) in cases {
            let reply = Reply::plain(250, lines.iter().map(|l| l.to_string().into()).collect());
            assert_eq!(Capabilities::from_ehlo(&reply), expected, "{lines:?}");
        }
    }

    #[test]
    fn size_limits() {
        let cases: &[(Option<usize>, usize, bool)] = &[
            (None, 10, false),
            (Some(0), usize::MAX, false),
            (Some(100), 100, false),
            (Some(100), 101, true),
        ];
        for &(size, message, too_big) in cases {
            assert_eq!(
                Capabilities {
                    size,
                    ..Default::default()
                }
                .too_big(message),
                too_big,
                "{size:?} {message}"
            );
        }
    }
}
