//! One mail transaction on an open client session: MAIL FROM with SIZE (and RET/ENVID when
//! the peer has DSN), RCPT TO for each recipient (with NOTIFY/ORCPT when the peer has DSN),
//! pipelined when the peer allows, then the content by BDAT (CHUNKING) or by DATA with
//! dot-stuffing. The result is per recipient.

use std::fmt::Write as _;

use mssd_core::Address;
use tokio::io::{AsyncRead, AsyncWrite};

use super::client::SmtpClient;
use super::envelope::{QueuedEnvelope, notify_parameter, xtext};
use super::outcome::{Failure, Handoff, Outcome};
use crate::reply::Reply;

/// DATA content is written in blocks, each with the data-block timeout.
const DATA_BLOCK: usize = 64 * 1024;

/// A message to hand over.
pub struct OutboundMessage<'a> {
    /// None: the null reverse-path `<>` (DSNs).
    pub sender: Option<&'a Address>,
    pub recipients: &'a [Address],
    pub message: &'a [u8],
    pub envelope: &'a QueuedEnvelope,
}

/// Outcomes in the order of `OutboundMessage::recipients`.
#[derive(Debug)]
pub struct SendResult {
    pub outcomes: Vec<Outcome>,
    /// The connection can carry another transaction.
    pub reusable: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SmtpClient<S> {
    pub async fn send(&mut self, m: &OutboundMessage<'_>) -> SendResult {
        let all = |failure: Failure, reusable: bool| SendResult {
            outcomes: m
                .recipients
                .iter()
                .map(|_| Outcome::from_failure(failure.clone()))
                .collect(),
            reusable,
        };
        if m.envelope.smtputf8 && !self.caps.smtputf8 {
            let failure = Failure::permanent(
                (5, 6, 7),
                "the message needs SMTPUTF8, which the peer does not offer",
            );
            return all(failure.at(&self.peer), true);
        }
        if self.caps.too_big(m.message.len()) {
            let limit = self.caps.size.unwrap_or(0);
            let reason = format!(
                "the message ({} octets) exceeds the peer's limit of {limit} octets",
                m.message.len()
            );
            return all(Failure::permanent((5, 3, 4), reason).at(&self.peer), true);
        }
        if self.transactions > 0
            && let Err(failure) = self.reset().await
        {
            return all(failure, false);
        }
        self.transactions += 1;
        let outcome = self.transact(m).await;
        match outcome {
            Ok(outcomes) => SendResult {
                outcomes,
                reusable: true,
            },
            Err((mut outcomes, failure)) => {
                // The connection broke: recipients without a final answer are deferred.
                let failure = failure.at(&self.peer);
                outcomes.resize_with(m.recipients.len(), || {
                    Outcome::from_failure(failure.clone())
                });
                for outcome in outcomes.iter_mut() {
                    if matches!(outcome, Outcome::Delivered(_)) {
                        *outcome = Outcome::from_failure(failure.clone());
                    }
                }
                SendResult {
                    outcomes,
                    reusable: false,
                }
            }
        }
    }

    /// Ok: one outcome per recipient. Err: the connection failed; the outcomes known so far
    /// (a `Delivered` there only means "RCPT accepted") and the failure.
    async fn transact(
        &mut self,
        m: &OutboundMessage<'_>,
    ) -> Result<Vec<Outcome>, (Vec<Outcome>, Failure)> {
        let t = self.settings.timeouts;
        let peer = self.peer.clone();
        let mail = mail_command(m, &self.caps);
        let rcpts: Vec<String> = m
            .recipients
            .iter()
            .map(|r| rcpt_command(r, m.envelope, self.caps.dsn))
            .collect();

        let mut replies: Vec<Reply> = Vec::with_capacity(rcpts.len() + 1);
        if self.caps.pipelining {
            // RFC 2920: the whole envelope in one write, then the replies in order.
            let mut batch = format!("{mail}\r\n");
            for rcpt in &rcpts {
                batch.push_str(rcpt);
                batch.push_str("\r\n");
            }
            self.wire
                .send(batch.as_bytes(), t.command)
                .await
                .map_err(|f| (Vec::new(), f))?;
            for _ in 0..=rcpts.len() {
                replies.push(
                    self.wire
                        .reply(t.command)
                        .await
                        .map_err(|f| (Vec::new(), f))?,
                );
            }
        } else {
            replies.push(
                self.wire
                    .command(&mail, t.command)
                    .await
                    .map_err(|f| (Vec::new(), f))?,
            );
            if replies[0].code / 100 == 2 {
                for rcpt in &rcpts {
                    replies.push(
                        self.wire
                            .command(rcpt, t.command)
                            .await
                            .map_err(|f| (Vec::new(), f))?,
                    );
                }
            }
        }
        let mail_reply = &replies[0];
        if mail_reply.code / 100 != 2 {
            let failure = Failure::from_reply("MAIL FROM", mail_reply).at(&peer);
            return Ok(m
                .recipients
                .iter()
                .map(|_| Outcome::from_failure(failure.clone()))
                .collect());
        }
        // Until the content is accepted, `Delivered` marks an accepted RCPT.
        let placeholder = Handoff {
            remote_mta: peer.clone(),
            reply: String::new(),
            peer_has_dsn: self.caps.dsn,
        };
        let mut outcomes: Vec<Outcome> = replies[1..]
            .iter()
            .map(|reply| match reply.code / 100 {
                2 => Outcome::Delivered(placeholder.clone()),
                _ => Outcome::from_failure(Failure::from_reply("RCPT TO", reply).at(&peer)),
            })
            .collect();
        if !outcomes.iter().any(|o| matches!(o, Outcome::Delivered(_))) {
            return Ok(outcomes);
        }
        let final_reply = match self.content(m.message).await {
            Ok(reply) => reply,
            Err(failure) => return Err((outcomes, failure)),
        };
        for outcome in outcomes.iter_mut() {
            if let Outcome::Delivered(handoff) = outcome {
                if final_reply.code / 100 == 2 {
                    handoff.reply = final_reply.summary();
                } else {
                    *outcome = Outcome::from_failure(
                        Failure::from_reply("the message content", &final_reply).at(&peer),
                    );
                }
            }
        }
        Ok(outcomes)
    }

    /// BDAT LAST in one chunk, or DATA, the dot-stuffed content and the final dot.
    async fn content(&mut self, message: &[u8]) -> Result<Reply, Failure> {
        let t = self.settings.timeouts;
        if self.caps.chunking && self.settings.use_chunking {
            let mut chunk = format!("BDAT {} LAST\r\n", message.len()).into_bytes();
            chunk.extend_from_slice(message);
            self.wire.send(&chunk, t.data_block.max(t.command)).await?;
            return self.wire.reply(t.data_end).await;
        }
        let go = self.wire.command("DATA", t.data_start).await?;
        if go.code != 354 {
            return Ok(go);
        }
        let stuffed = dot_stuff(message);
        for block in stuffed.chunks(DATA_BLOCK) {
            self.wire.send(block, t.data_block).await?;
        }
        self.wire.reply(t.data_end).await
    }
}

fn has_eight_bit(message: &[u8]) -> bool {
    message.iter().any(|b| *b >= 0x80)
}

/// `MAIL FROM:<sender> SIZE=n [BODY=8BITMIME] [SMTPUTF8] [RET=FULL] [ENVID=xtext]`.
pub fn mail_command(m: &OutboundMessage<'_>, caps: &super::capabilities::Capabilities) -> String {
    let mut command = format!(
        "MAIL FROM:<{}>",
        m.sender.map(Address::as_str).unwrap_or("")
    );
    if caps.size.is_some() {
        let _ = write!(command, " SIZE={}", m.message.len());
    }
    if caps.eight_bit_mime && has_eight_bit(m.message) {
        command.push_str(" BODY=8BITMIME");
    }
    if m.envelope.smtputf8 {
        command.push_str(" SMTPUTF8");
    }
    if caps.dsn {
        if m.envelope.ret_full {
            command.push_str(" RET=FULL");
        }
        if let Some(env_id) = &m.envelope.env_id {
            let _ = write!(command, " ENVID={}", xtext(env_id));
        }
    }
    command
}

/// `RCPT TO:<addr> [NOTIFY=...] [ORCPT=rfc822;xtext]`, the DSN parameters only when the
/// peer has DSN (RFC 3461 §5.2.1 forbids them otherwise).
pub fn rcpt_command(recipient: &Address, envelope: &QueuedEnvelope, peer_has_dsn: bool) -> String {
    let mut command = format!("RCPT TO:<{}>", recipient.as_str());
    if peer_has_dsn {
        if let Some(notify) = notify_parameter(envelope.notify_bits(recipient)) {
            let _ = write!(command, " NOTIFY={notify}");
        }
        if let Some(original) = envelope.original_recipient(recipient) {
            let _ = write!(command, " ORCPT=rfc822;{}", xtext(original));
        }
    }
    command
}

/// DATA content (RFC 5321 §4.5.2): a `.` starting a line is doubled, the content ends with
/// CRLF (added when missing), then `.` CRLF.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut line_start = true;
    for &byte in message {
        if line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        line_start = byte == b'\n' && out.len() >= 2 && out[out.len() - 2] == b'\r';
    }
    if !message.is_empty() && !message.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::capabilities::Capabilities;
    use smtp_proto::{RCPT_NOTIFY_FAILURE, RCPT_NOTIFY_SUCCESS};

    #[test]
    fn dot_stuffing() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"a\r\nb\r\n", b"a\r\nb\r\n.\r\n"),
            (b".a\r\n..b\r\n.\r\nc", b"..a\r\n...b\r\n..\r\nc\r\n.\r\n"),
            (b"a\r\n.", b"a\r\n..\r\n.\r\n"),
            (b"a\n.b\r\n", b"a\n.b\r\n.\r\n"),
            (b"x.y\r\n", b"x.y\r\n.\r\n"),
            (b"", b".\r\n"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                String::from_utf8_lossy(&dot_stuff(input)),
                String::from_utf8_lossy(expected),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn envelope_commands() {
        let sender = Address::parse("dr.a@a.fr").unwrap();
        let rcpt = Address::parse("b@b.fr").unwrap();
        let mut envelope = QueuedEnvelope {
            env_id: Some("id 1".into()),
            ret_full: true,
            ..Default::default()
        };
        envelope
            .notify
            .insert("b@b.fr".into(), RCPT_NOTIFY_SUCCESS | RCPT_NOTIFY_FAILURE);
        envelope.orcpt.insert("b@b.fr".into(), "B@B.fr".into());
        let plain = Capabilities::default();
        let rich = Capabilities {
            dsn: true,
            size: Some(0),
            eight_bit_mime: true,
            ..Default::default()
        };
        let recipients = [rcpt.clone()];
        let cases: Vec<(Option<&Address>, &[u8], &Capabilities, &str)> = vec![
            (Some(&sender), b"x", &plain, "MAIL FROM:<dr.a@a.fr>"),
            (
                Some(&sender),
                b"x\xc3\xa9",
                &rich,
                "MAIL FROM:<dr.a@a.fr> SIZE=3 BODY=8BITMIME RET=FULL ENVID=id+201",
            ),
            (
                None,
                b"xy",
                &rich,
                "MAIL FROM:<> SIZE=2 RET=FULL ENVID=id+201",
            ),
        ];
        for (sender, message, caps, expected) in cases {
            let m = OutboundMessage {
                sender,
                recipients: &recipients,
                message,
                envelope: &envelope,
            };
            assert_eq!(mail_command(&m, caps), expected);
        }
        assert_eq!(rcpt_command(&rcpt, &envelope, false), "RCPT TO:<b@b.fr>");
        assert_eq!(
            rcpt_command(&rcpt, &envelope, true),
            "RCPT TO:<b@b.fr> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;B@B.fr"
        );
        assert_eq!(
            rcpt_command(&rcpt, &QueuedEnvelope::default(), true),
            "RCPT TO:<b@b.fr>"
        );
    }
}
