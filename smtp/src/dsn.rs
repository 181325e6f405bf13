//! Delivery status notifications (RFC 3464): the MSSanté "accusé de réception" on success,
//! the bounce on failure. A `multipart/report; report-type=delivery-status` with a
//! human-readable part in French and English, the `message/delivery-status` part, and the
//! original message (RET=FULL) or its headers. Pure: bytes in, bytes out.

use std::fmt::Write as _;

use mssd_core::Address;

use crate::message::headers::{field_value, header_block_len, rfc5322_date};
use crate::outbound::outcome::{Status, status_text};

/// RFC 3464 §2.3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
    /// Handed to a peer that will not report further (no DSN support).
    Relayed,
    Expanded,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
        }
    }
}

/// What the report says about one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    pub final_recipient: Address,
    /// RFC 3461 ORCPT, when the sender gave one.
    pub original_recipient: Option<String>,
    pub action: Action,
    pub status: Status,
    /// `host` or `host:port` of the peer concerned.
    pub remote_mta: Option<String>,
    /// The peer's reply (`550 5.1.1 ...`): `Diagnostic-Code: smtp; ...`.
    pub smtp_reply: Option<String>,
    /// Our own explanation when there is no reply (connection refused, expired, DN refused).
    pub reason: Option<String>,
    /// Unix seconds.
    pub last_attempt: Option<i64>,
}

/// One report to the sender of a message.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// Our host name: `Reporting-MTA: dns; <host>`.
    pub reporting_mta: &'a str,
    /// The domain of `MAILER-DAEMON@<domain>`.
    pub from_domain: &'a str,
    /// The original envelope sender, who receives the report.
    pub to: &'a Address,
    /// RFC 3461 ENVID of the original message.
    pub envelope_id: Option<&'a str>,
    /// Unix seconds when we received the original message.
    pub arrival_date: i64,
    /// Unix seconds, for the report's Date field.
    pub date: i64,
    /// Our identifier of the report (Message-ID local part, MIME boundary).
    pub id: &'a str,
    pub recipients: Vec<RecipientReport>,
    pub original: &'a [u8],
    /// RET=FULL: the whole original message, else its header block.
    pub return_full: bool,
}

impl Report<'_> {
    fn any(&self, action: Action) -> bool {
        self.recipients.iter().any(|r| r.action == action)
    }

    /// The Subject: ASCII, with the French part as an RFC 2047 encoded word.
    pub fn subject(&self) -> &'static str {
        if self.any(Action::Failed) {
            "Undelivered Mail Returned to Sender - Message non remis"
        } else if self.any(Action::Delayed) {
            "Delivery Status Notification (Delay) - Message en attente"
        } else {
            "Delivery Status Notification (Success) - =?UTF-8?Q?Accus=C3=A9_de_r=C3=A9ception?="
        }
    }
}

/// The complete report message, CRLF line ends.
pub fn build(report: &Report<'_>) -> Vec<u8> {
    let original_part: &[u8] = if report.return_full {
        report.original
    } else {
        &report.original[..header_block_len(report.original)]
    };
    let human = human_text(report);
    let status = delivery_status(report);
    let boundary = boundary_for(report.id, &[original_part, human.as_bytes()]);
    let host = clean(report.reporting_mta);
    let original_id = field_value(
        &report.original[..header_block_len(report.original)],
        "Message-ID",
    );

    let mut head = String::new();
    let _ = write!(
        head,
        "From: Mail Delivery System <MAILER-DAEMON@{}>\r\n",
        clean(report.from_domain)
    );
    let _ = write!(head, "To: <{}>\r\n", report.to.as_str());
    let _ = write!(head, "Subject: {}\r\n", report.subject());
    let _ = write!(head, "Date: {}\r\n", date(report.date));
    let _ = write!(head, "Message-ID: <{}.dsn@{host}>\r\n", clean(report.id));
    if let Some(id) = original_id.filter(|id| id.starts_with('<') && id.ends_with('>')) {
        let _ = write!(
            head,
            "In-Reply-To: {}\r\nReferences: {}\r\n",
            clean(&id),
            clean(&id)
        );
    }
    head.push_str("Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
    let _ = write!(
        head,
        "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n"
    );
    head.push_str(
        "Content-Transfer-Encoding: 8bit\r\n\r\nThis is a MIME-encapsulated message.\r\n",
    );

    let mut out = head.into_bytes();
    write_part(
        &mut out,
        &boundary,
        "text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nContent-Description: Notification",
        human.as_bytes(),
    );
    write_part(
        &mut out,
        &boundary,
        "message/delivery-status\r\nContent-Description: Delivery report",
        status.as_bytes(),
    );
    let (kind, description) = if report.return_full {
        ("message/rfc822", "Original message")
    } else {
        ("text/rfc822-headers", "Original message headers")
    };
    let content_type =
        format!("{kind}\r\nContent-Transfer-Encoding: 8bit\r\nContent-Description: {description}");
    write_part(&mut out, &boundary, &content_type, original_part);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

fn write_part(out: &mut Vec<u8>, boundary: &str, content_type: &str, body: &[u8]) {
    // The CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
    out.extend_from_slice(
        format!("\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
    );
    out.extend_from_slice(body);
}

/// The `message/delivery-status` body: per-message fields, then one group per recipient,
/// each group ended by an empty line.
pub fn delivery_status(report: &Report<'_>) -> String {
    let mut s = String::new();
    let _ = write!(s, "Reporting-MTA: dns; {}\r\n", clean(report.reporting_mta));
    if let Some(id) = report.envelope_id {
        let _ = write!(s, "Original-Envelope-Id: {}\r\n", clean(id));
    }
    let _ = write!(s, "Arrival-Date: {}\r\n", date(report.arrival_date));
    for r in &report.recipients {
        s.push_str("\r\n");
        if let Some(original) = &r.original_recipient {
            let _ = write!(
                s,
                "Original-Recipient: {}; {}\r\n",
                address_type(original),
                clean(original)
            );
        }
        let _ = write!(
            s,
            "Final-Recipient: {}; {}\r\n",
            address_type(r.final_recipient.as_str()),
            r.final_recipient
        );
        let _ = write!(
            s,
            "Action: {}\r\nStatus: {}\r\n",
            r.action.as_str(),
            status_text(r.status)
        );
        if let Some(mta) = &r.remote_mta {
            let _ = write!(s, "Remote-MTA: dns; {}\r\n", clean(host_of(mta)));
        }
        match (&r.smtp_reply, &r.reason) {
            (Some(reply), _) => {
                let _ = write!(s, "Diagnostic-Code: smtp; {}\r\n", clean(reply));
            }
            (None, Some(reason)) => {
                let _ = write!(s, "Diagnostic-Code: X-mssd; {}\r\n", clean(reason));
            }
            (None, None) => {}
        }
        if let Some(at) = r.last_attempt {
            let _ = write!(s, "Last-Attempt-Date: {}\r\n", date(at));
        }
    }
    s
}

fn human_text(report: &Report<'_>) -> String {
    let mut s = format!(
        "Ceci est le système de messagerie de {host}.\r\nThis is the mail system at {host}.\r\n\r\n",
        host = clean(report.reporting_mta)
    );
    let groups: [(Action, &str, &str); 4] = [
        (
            Action::Failed,
            "Votre message n'a pas pu être remis aux destinataires suivants :",
            "Your message could not be delivered to the following recipients:",
        ),
        (
            Action::Delayed,
            "Votre message n'a pas encore pu être remis à :",
            "Your message has not been delivered yet to:",
        ),
        (
            Action::Delivered,
            "Votre message a été remis à :",
            "Your message was delivered to:",
        ),
        (
            Action::Relayed,
            "Votre message a été transmis, sans accusé de réception possible au-delà, pour :",
            "Your message was relayed, with no further delivery notification possible, for:",
        ),
    ];
    for (action, french, english) in groups {
        let recipients: Vec<&RecipientReport> = report
            .recipients
            .iter()
            .filter(|r| r.action == action)
            .collect();
        if recipients.is_empty() {
            continue;
        }
        let _ = write!(s, "{french}\r\n{english}\r\n\r\n");
        for r in recipients {
            let _ = write!(s, "  <{}>", r.final_recipient);
            if let Some(mta) = &r.remote_mta {
                let _ = write!(s, " ({})", clean(host_of(mta)));
            }
            s.push_str("\r\n");
            if let Some(why) = r.smtp_reply.as_ref().or(r.reason.as_ref()) {
                let _ = write!(s, "    {}\r\n", clean(why));
            }
        }
        s.push_str("\r\n");
    }
    s.push_str("Le rapport technique suit. / The technical report follows.\r\n");
    s
}

/// RFC 3464 address type: `rfc822`, or `utf-8` (RFC 6533) for a non-ASCII address.
fn address_type(address: &str) -> &'static str {
    if address.is_ascii() {
        "rfc822"
    } else {
        "utf-8"
    }
}

/// `host` of `host:port` / `[v6]:port`.
fn host_of(mta: &str) -> &str {
    if let Some(rest) = mta.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match mta.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => mta,
    }
}

/// Field values come from peers and senders: no line breaks, bounded.
fn clean(value: &str) -> String {
    const MAX: usize = 900;
    let mut out: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() > MAX {
        let mut cut = MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

fn date(unix: i64) -> String {
    let at =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    rfc5322_date(at)
}

/// A boundary that occurs in none of the parts.
fn boundary_for(id: &str, parts: &[&[u8]]) -> String {
    let safe: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect();
    let mut boundary = format!("=_mssd-dsn-{safe}");
    let mut n = 0u32;
    while parts
        .iter()
        .any(|p| p.windows(boundary.len()).any(|w| w == boundary.as_bytes()))
    {
        n += 1;
        boundary = format!("=_mssd-dsn-{safe}-{n}");
    }
    boundary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        let hosts: &[(&str, &str)] = &[
            ("mx.b.fr:25", "mx.b.fr"),
            ("mx.b.fr", "mx.b.fr"),
            ("[::1]:25", "::1"),
            ("127.0.0.1:2526", "127.0.0.1"),
            ("::1", "::1"),
        ];
        for (mta, host) in hosts {
            assert_eq!(host_of(mta), *host, "{mta}");
        }
        assert_eq!(clean("a\r\nb\tc"), "a  b c");
        assert_eq!(clean(&"é".repeat(600)).len(), 900);
        assert_eq!(address_type("a@b.fr"), "rfc822");
        assert_eq!(address_type("é@b.fr"), "utf-8");
        assert_eq!(boundary_for("ab/c", &[b"x"]), "=_mssd-dsn-abc");
        assert_eq!(
            boundary_for("x", &[b"--=_mssd-dsn-x-1 =_mssd-dsn-x"]),
            "=_mssd-dsn-x-2"
        );
    }
}
