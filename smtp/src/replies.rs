//! The catalogue of replies mssd's SMTP server sends (RFC 5321 codes, RFC 3463 enhanced
//! status codes). Texts for refusals of trust say which check failed: an operator reading a
//! bounce must be able to fix the cause without calling us.

use crate::reply::Reply;

pub fn greeting(host: &str) -> Reply {
    Reply::plain(220, vec![format!("{host} ESMTP mssd").into()])
}
pub fn helo(host: &str) -> Reply {
    Reply::plain(250, vec![host.to_string().into()])
}
pub fn ok() -> Reply {
    Reply::new(250, (2, 0, 0), "OK")
}
pub fn sender_ok() -> Reply {
    Reply::new(250, (2, 1, 0), "Sender OK")
}
pub fn recipient_ok() -> Reply {
    Reply::new(250, (2, 1, 5), "Recipient OK")
}
pub fn start_data() -> Reply {
    Reply::plain(354, vec!["End data with <CR><LF>.<CR><LF>".into()])
}
pub fn accepted(id: &str) -> Reply {
    Reply::new(250, (2, 0, 0), format!("OK, stored as {id}"))
}
pub fn chunk_ok(bytes: usize) -> Reply {
    Reply::new(250, (2, 0, 0), format!("{bytes} octets received"))
}
pub fn bye() -> Reply {
    Reply::new(221, (2, 0, 0), "Bye")
}
pub fn reset() -> Reply {
    Reply::new(250, (2, 0, 0), "Reset")
}
pub fn start_tls() -> Reply {
    Reply::new(220, (2, 0, 0), "Ready to start TLS")
}
pub fn tls_active() -> Reply {
    Reply::new(503, (5, 5, 1), "TLS is already active")
}
pub fn tls_required() -> Reply {
    Reply::new(530, (5, 7, 0), "Must issue a STARTTLS command first")
}
pub fn auth_required() -> Reply {
    Reply::new(530, (5, 7, 0), "Authentication required")
}
pub fn auth_ok() -> Reply {
    Reply::new(235, (2, 7, 0), "Authentication successful")
}
pub fn auth_failed() -> Reply {
    Reply::new(535, (5, 7, 8), "Authentication credentials invalid")
}
pub fn auth_throttled(seconds: u64) -> Reply {
    Reply::new(
        454,
        (4, 7, 0),
        format!("Too many failed authentications, try again in {seconds} s"),
    )
}
pub fn auth_unavailable() -> Reply {
    Reply::new(
        504,
        (5, 5, 4),
        "Authentication mechanism not available here",
    )
}
pub fn auth_temporary() -> Reply {
    Reply::new(454, (4, 7, 0), "Temporary authentication failure")
}
pub fn auth_cancelled() -> Reply {
    Reply::new(501, (5, 0, 0), "Authentication cancelled")
}
pub fn already_authenticated() -> Reply {
    Reply::new(503, (5, 5, 1), "Already authenticated")
}
pub fn mailbox_disabled_auth() -> Reply {
    Reply::new(
        535,
        (5, 7, 8),
        "Authentication credentials invalid or mailbox disabled",
    )
}
pub fn bad_sequence(text: &'static str) -> Reply {
    Reply::new(503, (5, 5, 1), text)
}
pub fn syntax(text: String) -> Reply {
    Reply::new(501, (5, 5, 4), text)
}
pub fn unknown_command() -> Reply {
    Reply::new(500, (5, 5, 1), "Command unrecognized")
}
pub fn not_implemented() -> Reply {
    Reply::new(502, (5, 5, 1), "Command not implemented")
}
pub fn line_too_long() -> Reply {
    Reply::new(500, (5, 5, 2), "Line too long")
}
pub fn too_many_recipients() -> Reply {
    Reply::new(452, (4, 5, 3), "Too many recipients")
}
pub fn message_too_big(limit: usize) -> Reply {
    Reply::new(
        552,
        (5, 3, 4),
        format!("Message size exceeds the maximum of {limit} octets"),
    )
}
pub fn relay_denied(domain: &str) -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        format!("Relaying denied: {domain} is not a domain of this operator"),
    )
}
pub fn unknown_mailbox() -> Reply {
    Reply::new(550, (5, 1, 1), "No such mailbox here")
}
/// RFC 3463 X.2.2: temporary, so the sender retries once the user has made room.
pub fn mailbox_full() -> Reply {
    Reply::new(452, (4, 2, 2), "Mailbox full, try again later")
}
pub fn mailbox_disabled() -> Reply {
    Reply::new(550, (5, 2, 1), "Mailbox disabled, not accepting messages")
}
pub fn outside_trust_space(domain: &str) -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        format!("{domain} is outside the MSSanté trust space (not on the liste blanche)"),
    )
}
pub fn no_client_certificate() -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        "No client certificate: MSSanté operators must present their IGC-Santé certificate",
    )
}
pub fn certificate_refused(reason: &str) -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        format!("Client certificate refused: {reason}"),
    )
}
pub fn dn_not_listed(dn: &str, domain: &str) -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        format!("Certificate subject {dn} is not listed for {domain} in the MSSanté liste blanche"),
    )
}
pub fn dn_not_listed_anywhere(dn: &str) -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        format!(
            "Certificate subject {dn} is not listed for any domain in the MSSanté liste blanche"
        ),
    )
}
pub fn sender_not_owned() -> Reply {
    Reply::new(
        553,
        (5, 7, 1),
        "Sender address is not a mailbox the authenticated identity may send as",
    )
}
pub fn bad_sender(reason: String) -> Reply {
    Reply::new(553, (5, 1, 7), format!("Bad sender address: {reason}"))
}
pub fn bad_recipient(reason: String) -> Reply {
    Reply::new(553, (5, 1, 3), format!("Bad recipient address: {reason}"))
}
pub fn utf8_needs_smtputf8() -> Reply {
    Reply::new(
        553,
        (5, 6, 7),
        "Non-ASCII address requires the SMTPUTF8 parameter",
    )
}
pub fn no_valid_recipients() -> Reply {
    Reply::new(554, (5, 5, 1), "No valid recipients")
}
pub fn local_error() -> Reply {
    Reply::new(
        451,
        (4, 3, 0),
        "Temporary local problem, please try again later",
    )
}
pub fn shutting_down(host: &str) -> Reply {
    Reply::new(
        421,
        (4, 3, 2),
        format!("{host} shutting down, try again later"),
    )
}
pub fn timeout(host: &str) -> Reply {
    Reply::new(
        421,
        (4, 4, 2),
        format!("{host} timeout, closing connection"),
    )
}
pub fn too_many_commands(host: &str) -> Reply {
    Reply::new(
        421,
        (4, 7, 0),
        format!("{host} too many commands or errors, closing connection"),
    )
}
pub fn vrfy_refused() -> Reply {
    Reply::new(252, (2, 5, 0), "Cannot VRFY user; try RCPT")
}
pub fn unknown_to_directory(address: &str) -> Reply {
    Reply::new(
        550,
        (5, 1, 1),
        format!("{address} is not in the national directory (Annuaire Santé)"),
    )
}
pub fn recipient_ok_unknown_to_directory() -> Reply {
    Reply::new(
        250,
        (2, 1, 5),
        "Recipient OK, but unknown to the national directory (Annuaire Santé): check the address",
    )
}
