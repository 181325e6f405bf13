//! What one delivery attempt did for one recipient: handed over to the next hop, deferred
//! (temporary failure, retried on schedule), or failed for good.

use std::fmt;

use crate::reply::Reply;

/// RFC 3463 enhanced status code `class.subject.detail`.
pub type Status = (u8, u16, u16);

pub fn status_text(status: Status) -> String {
    format!("{}.{}.{}", status.0, status.1, status.2)
}

/// Why an attempt, or one recipient of it, did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub permanent: bool,
    pub status: Status,
    /// The peer's reply (`550 5.1.1 No such mailbox here`) when the peer gave one.
    pub reply: Option<String>,
    /// What went wrong, in words: queue detail, audit trail, DSN.
    pub reason: String,
    /// `host:port` of the peer concerned, when we reached one.
    pub remote_mta: Option<String>,
}

impl Failure {
    pub fn temporary(status: Status, reason: impl Into<String>) -> Failure {
        Failure {
            permanent: false,
            status,
            reply: None,
            reason: reason.into(),
            remote_mta: None,
        }
    }

    pub fn permanent(status: Status, reason: impl Into<String>) -> Failure {
        Failure {
            permanent: true,
            status,
            reply: None,
            reason: reason.into(),
            remote_mta: None,
        }
    }

    /// A negative reply of the peer to `stage` (`RCPT`, `DATA`, ...). Any code that is neither
    /// 4xx nor 5xx (a 2xx/3xx where it makes no sense) is a protocol error: temporary.
    pub fn from_reply(stage: &str, reply: &Reply) -> Failure {
        let negative = (400..600).contains(&reply.code);
        let permanent = negative && reply.is_permanent_failure();
        // RFC 3463 X.5.0: other or undefined protocol status.
        let status = if negative {
            reply_status(reply)
        } else {
            (4, 5, 0)
        };
        Failure {
            permanent,
            status,
            reply: Some(reply.summary()),
            reason: format!("the peer answered {stage} with {}", reply.summary()),
            remote_mta: None,
        }
    }

    pub fn at(mut self, remote_mta: &str) -> Failure {
        self.remote_mta
            .get_or_insert_with(|| remote_mta.to_string());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.permanent {
            "permanent"
        } else {
            "temporary"
        };
        write!(
            f,
            "{kind} failure {}: {}",
            status_text(self.status),
            self.reason
        )
    }
}

/// The enhanced status of a reply: its own when it gave one of the right class, else the
/// generic one of its code's class (RFC 3463 §3.1: X.0.0).
pub fn reply_status(reply: &Reply) -> Status {
    let class = match reply.code / 100 {
        2 => 2,
        5 => 5,
        _ => 4,
    };
    match reply.status {
        Some(status) if status.0 == class => status,
        _ => (class, 0, 0),
    }
}

/// The peer took responsibility for the message for this recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// `host:port` of the peer.
    pub remote_mta: String,
    /// The peer's final reply to the message content.
    pub reply: String,
    /// The peer advertised DSN (RFC 3461), so NOTIFY/ORCPT were passed on.
    pub peer_has_dsn: bool,
}

/// The result of an attempt for one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered(Handoff),
    /// Temporary: retried on schedule until the entry expires.
    Deferred(Failure),
    /// Permanent: reported to the sender.
    Failed(Failure),
}

impl Outcome {
    /// Deferred or Failed according to the failure's kind.
    pub fn from_failure(failure: Failure) -> Outcome {
        if failure.permanent {
            Outcome::Failed(failure)
        } else {
            Outcome::Deferred(failure)
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered(_) => "delivered",
            Outcome::Deferred(_) => "deferred",
            Outcome::Failed(_) => "failed",
        }
    }

    /// One line for the queue entry's recipient detail and the audit trail.
    pub fn detail(&self) -> String {
        match self {
            Outcome::Delivered(h) => format!("{}: {}", h.remote_mta, h.reply),
            Outcome::Deferred(f) | Outcome::Failed(f) => match &f.remote_mta {
                Some(peer) => format!("{peer}: {f}"),
                None => f.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_classification() {
        // (code, enhanced status given, permanent, status kept)
        let cases: &[(u16, Option<Status>, bool, Status)] = &[
            (550, Some((5, 1, 1)), true, (5, 1, 1)),
            (550, None, true, (5, 0, 0)),
            (451, Some((4, 3, 0)), false, (4, 3, 0)),
            (452, Some((5, 2, 2)), false, (4, 0, 0)),
            (421, None, false, (4, 0, 0)),
            (250, None, false, (4, 5, 0)),
            (354, None, false, (4, 5, 0)),
            (999, None, false, (4, 5, 0)),
        ];
        for &(code, status, permanent, expected) in cases {
            let reply = Reply {
                code,
                status,
                lines: vec!["text".into()],
            };
            let failure = Failure::from_reply("RCPT", &reply);
            assert_eq!(failure.permanent, permanent, "{code}");
            assert_eq!(failure.status, expected, "{code}");
            assert!(
                failure
                    .reason
                    .starts_with(&format!("the peer answered RCPT with {code} ")),
                "{}",
                failure.reason
            );
        }
    }

    #[test]
    fn details() {
        let failure = Failure::temporary((4, 4, 1), "connection refused").at("mx.b.fr:25");
        assert_eq!(
            Outcome::from_failure(failure.clone()).detail(),
            "mx.b.fr:25: temporary failure 4.4.1: connection refused"
        );
        assert_eq!(
            Outcome::from_failure(Failure {
                permanent: true,
                ..failure
            })
            .label(),
            "failed"
        );
    }
}
