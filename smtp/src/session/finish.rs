//! The end of a message: trace fields, then durable delivery to local mailboxes and the
//! outbound queue, and only then `250` (durable before acknowledged), with an audit line.

use mssd_store::{
    Acceptance, AuditEvent, Delivery, Direction, MessageBytes, NewQueued, QueuedRecipient,
    RecipientStatus, UsageCount,
};

use super::state::PeerVerdict;
use super::{Role, Session};
use crate::message::headers::{self, TraceInfo};
use crate::replies;

impl Session<'_> {
    /// Starts the message buffer with our Received field (RFC 5321 §4.4), so the message is
    /// never copied to prepend it.
    pub(super) fn begin_body(&mut self) {
        let id = self.ctx.counters.next_id();
        let authenticated = self.user.is_some();
        let with = match (self.tls.is_some(), authenticated) {
            (true, true) => "ESMTPSA",
            (true, false) => "ESMTPS",
            (false, _) => "ESMTP",
        };
        let peer_dn = match &self.verdict {
            Some(PeerVerdict::Valid(info)) => Some(info.subject.to_string()),
            _ => None,
        };
        let Some(tx) = &self.tx else { return };
        let single = match tx.recipients.as_slice() {
            [one] => Some(one.address.to_string()),
            _ => None,
        };
        let field = headers::received_field(
            &TraceInfo {
                helo: self.helo.as_deref().unwrap_or("unknown"),
                peer_ip: self.peer.ip(),
                by_host: &self.ctx.config.hostname,
                with,
                tls: self
                    .tls
                    .as_ref()
                    .map(|t| (t.version.as_str(), t.cipher.as_str())),
                peer_dn: peer_dn.as_deref(),
                id: &id,
                for_recipient: single.as_deref(),
            },
            &headers::rfc5322_date(time::OffsetDateTime::now_utc()),
        );
        let capacity = field.len() + tx.declared_size.min(self.ctx.config.max_message_size) + 1024;
        if let Some(tx) = &mut self.tx {
            tx.id = id;
            tx.body = Vec::with_capacity(capacity);
            tx.body.extend_from_slice(field.as_bytes());
        }
    }

    pub(super) async fn end_of_message(&mut self) {
        let Some(mut tx) = self.tx.take() else {
            return self.reply(replies::bad_sequence("No transaction"));
        };
        if let Some(failed) = tx.failed.take() {
            return self.reply(failed);
        }
        if tx.size() > self.ctx.config.max_message_size {
            let reply = replies::message_too_big(self.ctx.config.max_message_size);
            self.audit_refusal("content", &reply, None).await;
            return self.reply(reply);
        }
        let size = tx.size();
        let body_file = match self.finish_spool(&mut tx).await {
            Ok(file) => file,
            Err(reply) => return self.reply(reply),
        };
        tx.body_in_file = body_file.is_some();
        if self.role == Role::Submission {
            if let Err(reply) = self.check_authors(&mut tx).await {
                self.audit_refusal("content", &reply, tx.sender.as_ref().map(|s| s.to_string()))
                    .await;
                return self.reply(reply);
            }
            self.complete_headers(&mut tx);
        }
        let mut facts = match self.examine_documents(&mut tx).await {
            Ok(facts) => facts,
            Err(reply) => {
                self.audit_refusal("content", &reply, tx.sender.as_ref().map(|s| s.to_string()))
                    .await;
                return self.reply(reply);
            }
        };
        let exchanges = match self.apply_citizen_rules(&mut tx, &mut facts).await {
            Ok(exchanges) => exchanges,
            Err(reply) => {
                self.audit_refusal("content", &reply, tx.sender.as_ref().map(|s| s.to_string()))
                    .await;
                return self.reply(reply);
            }
        };
        let message_id = headers::field_value(
            &tx.body[..headers::header_block_len(&tx.body)],
            "Message-ID",
        );
        let base = serde_json::json!({
                "id": tx.id,
                "message_id": message_id,
                "sender": tx.sender.as_ref().map_or_else(|| "<>".to_string(), |s| s.to_string()),
                "recipients": tx.recipients.iter().map(|r| r.address.to_string()).collect::<Vec<_>>(),
                "size": size,
                "helo": self.helo,
                "tls": self.tls.as_ref().map(|t| format!("{} {}", t.version, t.cipher)),
                "peer_dn": self.peer_dn(),
                "identity": self.user.as_ref().map(|u| u.identity.audit_label()),
        });
        let detail = |reply: &crate::reply::Reply| {
            let mut detail = base.clone();
            detail["reply"] = reply.summary().into();
            detail
        };
        // The audit line of an accepted message commits with it: one fsync, and no message
        // without its line (nor a line without its message).
        let accepted = replies::accepted(&tx.id);
        let kind = format!("{}.message", self.role_name());
        let audit = AuditEvent {
            at: crate::context::now_ms() as i64,
            kind: kind.clone(),
            actor: self.peer.to_string(),
            subject: tx.id.clone(),
            outcome: "accepted".into(),
            detail: detail(&accepted),
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let delivered_report = self.delivered_report(&tx, now);
        let refused_report = self.refused_report(&tx, &facts.refused, now);
        let notify = self.citizens_to_notify(&tx);
        let mut acceptance = self.acceptance(&mut tx, body_file, now, audit, facts);
        acceptance.exchanges = exchanges;
        acceptance.notify = notify;
        match self.ctx.store.accept(acceptance).await {
            Ok(done) => {
                if done.queued.is_some() {
                    self.ctx.queue_notify.notify_one();
                }
                for report in [delivered_report, refused_report].into_iter().flatten() {
                    self.send_delivered_report(report, now).await;
                }
                self.accepted += 1;
                self.commands_since_message = 0;
                self.notify_unknown_recipients(&tx, message_id.as_deref())
                    .await;
                let counters = &self.ctx.counters;
                counters
                    .messages_accepted
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                counters
                    .bytes_accepted
                    .fetch_add(size as u64, std::sync::atomic::Ordering::Relaxed);
                self.reply(accepted);
            }
            Err(e) => {
                tracing::error!(id = %tx.id, error = %e, "smtp: storing the message failed");
                let reply = match e {
                    mssd_store::Error::QuotaExceeded { .. } => replies::mailbox_full(),
                    _ => replies::local_error(),
                };
                let detail = detail(&reply);
                self.ctx
                    .audit(
                        &kind,
                        self.peer.to_string(),
                        tx.id.clone(),
                        "failed",
                        detail,
                    )
                    .await;
                self.reply(reply);
            }
        }
    }

    /// Policy "warn": a note in the sender's INBOX naming the recipients the national directory
    /// does not know (the message itself went on). Only for our own senders (submission).
    async fn notify_unknown_recipients(
        &self,
        tx: &super::state::Transaction,
        message_id: Option<&str>,
    ) {
        let (Some(user), false) = (&self.user, tx.unknown_to_directory.is_empty()) else {
            return;
        };
        let host = &self.ctx.config.hostname;
        let list: Vec<String> = tx
            .unknown_to_directory
            .iter()
            .map(|a| format!("  {a}"))
            .collect();
        let about = message_id.unwrap_or(&tx.id);
        let note = format!(
            "From: Mail Delivery System <MAILER-DAEMON@{host}>\r\nTo: <{to}>\r\nSubject: Avertissement : destinataire inconnu de l'Annuaire Santé / Warning: recipient unknown to the national directory\r\nDate: {date}\r\nMessage-ID: {id}\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nVotre message {about} a été accepté, mais ces destinataires ne figurent pas\r\ndans l'Annuaire Santé ; vérifiez leur adresse :\r\nYour message {about} was accepted, but these recipients are not in the national\r\nhealth directory (Annuaire Santé); please check their address:\r\n\r\n{list}\r\n",
            to = user.mailbox.address,
            date = headers::rfc5322_date(time::OffsetDateTime::now_utc()),
            id = headers::new_message_id(&format!("{}.notice", tx.id), host),
            list = list.join("\r\n"),
        );
        let delivery = Delivery {
            recipients: vec![user.mailbox.id],
            message: note.into_bytes().into(),
            internal_date: time::OffsetDateTime::now_utc().unix_timestamp(),
            documents: Vec::new(),
        };
        if let Err(e) = self.ctx.store.deliver(delivery).await {
            tracing::warn!(id = %tx.id, error = %e, "smtp: the unknown-recipient notice could not be stored");
        }
    }

    /// Local recipients to their INBOX, remote ones to the outbound queue, with the audit
    /// line. The bytes move into the store, stored once when a message has both kinds (the
    /// queue entry's empty message means "the delivery's").
    fn acceptance(
        &self,
        tx: &mut super::state::Transaction,
        body_file: Option<mssd_store::StagedBlob>,
        now: i64,
        audit: AuditEvent,
        facts: super::documents::DocumentFacts,
    ) -> Acceptance {
        let usage = self.usage(tx, &facts);
        let local: Vec<_> = tx.recipients.iter().filter_map(|r| r.mailbox).collect();
        let remote: Vec<_> = tx
            .recipients
            .iter()
            .filter(|r| r.mailbox.is_none())
            .collect();
        let mut body = MessageBytes {
            head: std::mem::take(&mut tx.body),
            body: body_file,
        };
        let queued = if remote.is_empty() {
            None
        } else {
            let envelope = serde_json::json!({
                "id": tx.id,
                "env_id": tx.env_id,
                "ret_full": tx.mail_flags & smtp_proto::MAIL_RET_FULL != 0,
                "smtputf8": tx.mail_flags & smtp_proto::MAIL_SMTPUTF8 != 0,
                "notify": remote.iter().map(|r| (r.address.to_string(), r.notify)).collect::<std::collections::BTreeMap<_, _>>(),
                "orcpt": remote.iter().filter_map(|r| r.orcpt.clone().map(|o| (r.address.to_string(), o))).collect::<std::collections::BTreeMap<_, _>>(),
            });
            let message = if local.is_empty() {
                std::mem::take(&mut body)
            } else {
                MessageBytes::default()
            };
            let recipients = remote
                .iter()
                .map(|r| QueuedRecipient {
                    address: r.address.clone(),
                    status: RecipientStatus::Pending,
                    detail: None,
                })
                .collect();
            Some(NewQueued {
                sender: tx.sender.clone(),
                recipients,
                message,
                next_attempt: now,
                envelope,
            })
        };
        let delivery = (!local.is_empty()).then_some(Delivery {
            recipients: local,
            message: body,
            internal_date: now,
            documents: facts.documents,
        });
        Acceptance {
            delivery,
            queued,
            audit,
            usage,
            exchanges: Vec::new(),
            notify: Vec::new(),
        }
    }

    /// The usage counters of the message: sent for the authenticated mailbox, received for
    /// each local recipient.
    fn usage(
        &self,
        tx: &super::state::Transaction,
        facts: &super::documents::DocumentFacts,
    ) -> Vec<UsageCount> {
        let count = |mailbox: String, direction| UsageCount {
            mailbox,
            direction,
            xdm: facts.xdm,
            documents: facts.documents.len() as u32,
            qualified_ins: facts.qualified_ins,
        };
        let sent = self
            .user
            .as_ref()
            .map(|u| count(u.mailbox.address.canonical(), Direction::Sent));
        let received = tx
            .recipients
            .iter()
            .filter(|r| r.mailbox.is_some())
            .map(|r| count(r.address.canonical(), Direction::Received));
        sent.into_iter().chain(received).collect()
    }

    /// Our citizen mailboxes among the recipients, when `[citizen] notify_url` is set.
    fn citizens_to_notify(&self, tx: &super::state::Transaction) -> Vec<mssd_store::MailboxId> {
        let (true, Some(domain)) = (
            self.ctx.config.citizen.notify,
            &self.ctx.config.citizen_domain,
        ) else {
            return Vec::new();
        };
        tx.recipients
            .iter()
            .filter(|r| r.address.domain() == domain)
            .filter_map(|r| r.mailbox)
            .collect()
    }

    /// Submission (RFC 6409 §8): add Message-ID and Date when the client did not.
    fn complete_headers(&self, tx: &mut super::state::Transaction) {
        let block = &tx.body[..headers::header_block_len(&tx.body)];
        let mut extra = String::new();
        if !headers::has_field(block, "Message-ID") {
            let id = headers::new_message_id(&tx.id, &self.ctx.config.hostname);
            extra.push_str(&format!("Message-ID: {id}\r\n"));
        }
        if !headers::has_field(block, "Date") {
            extra.push_str(&format!(
                "Date: {}\r\n",
                headers::rfc5322_date(time::OffsetDateTime::now_utc())
            ));
        }
        if !extra.is_empty() {
            let at = headers::header_insert_point(&tx.body);
            tx.body.splice(at..at, extra.into_bytes());
        }
    }
}
