//! The citizens' side in a session: citizen addresses at RCPT (INS check, provisioning,
//! closed mailboxes), the rules between professionals and citizens (`mssd_citizen::rules`),
//! and at the end of DATA the INS checks that put a document only in its patient's mailbox.
//! Refusals name their rule or ANS code, and are audited; an INS is never logged.

use mssd_citizen::rules::{self, History, Party, Rule};
use mssd_citizen::{Provisioning, check_for_citizen, citizen_ins};
use mssd_core::{Address, MailboxKind};
use mssd_store::{CitizenExchange, MailboxId, MailboxStatus, NewMailbox};

use super::Session;
use super::documents::DocumentFacts;
use super::state::{Recipient, Transaction};
use crate::message::headers;
use crate::replies;
use crate::reply::Reply;

impl Session<'_> {
    /// Whether the message comes from a citizen: a citizen mailbox logged in, or an envelope
    /// `sender` at a citizens' domain.
    fn sender_is_citizen(&self, sender: Option<&Address>) -> bool {
        if self
            .user
            .as_ref()
            .is_some_and(|u| u.mailbox.kind == MailboxKind::Citizen)
        {
            return true;
        }
        sender.is_some_and(|s| self.ctx.config.is_citizen_domain(s.domain()))
    }

    /// The envelope sender of the transaction in progress (RCPT time).
    fn current_sender(&self) -> Option<Address> {
        self.tx.as_ref().and_then(|tx| tx.sender.clone())
    }

    /// RCPT to our citizen domain: a valid INS, not from another citizen, an open mailbox
    /// (created on the spot under `provisioning = "auto"`).
    pub(super) async fn check_citizen_recipient(
        &mut self,
        address: &Address,
        domain: &str,
    ) -> Result<Option<MailboxId>, Reply> {
        let refusal = match citizen_ins(address, domain) {
            Err(e) => Reply::new(550, (5, 1, 3), format!("Bad recipient address: {e}")),
            Ok(_) if self.sender_is_citizen(self.current_sender().as_ref()) => {
                rule_reply(Rule::CitizenToCitizen)
            }
            Ok(_) => match self.ctx.store.mailbox(address).await {
                Ok(Some(m)) if m.status == MailboxStatus::Active => return Ok(Some(m.id)),
                Ok(Some(_)) => replies::mailbox_disabled(),
                Ok(None) if self.ctx.config.citizen.provisioning == Provisioning::Auto => {
                    return self.provision_citizen(address).await;
                }
                Ok(None) => Reply::new(
                    550,
                    (5, 1, 1),
                    "No such citizen here: this operator hosts registered citizens only",
                ),
                Err(e) => {
                    tracing::error!(error = %e, "smtp: mailbox lookup failed");
                    return Err(replies::local_error());
                }
            },
        };
        self.audit_refusal("rcpt", &refusal, Some(address.to_string()))
            .await;
        Err(refusal)
    }

    async fn provision_citizen(&mut self, address: &Address) -> Result<Option<MailboxId>, Reply> {
        let new = NewMailbox::citizen(address.clone(), None);
        let created = match self.ctx.store.create_mailbox(new).await {
            Ok(m) => m,
            // Another session created it meanwhile.
            Err(mssd_store::Error::AlreadyExists { .. }) => {
                match self.ctx.store.mailbox(address).await {
                    Ok(Some(m)) => return Ok(Some(m.id)),
                    _ => return Err(replies::local_error()),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "smtp: provisioning a citizen mailbox failed");
                return Err(replies::local_error());
            }
        };
        let detail = serde_json::json!({ "mailbox": address.to_string(), "by": self.peer_dn() });
        self.ctx
            .audit(
                "citizen.provisioned",
                self.peer.to_string(),
                address.to_string(),
                "created",
                detail,
            )
            .await;
        Ok(Some(created.id))
    }

    /// RCPT from a citizen to a professional: first contacts only to allowed mailboxes.
    pub(super) async fn check_citizen_first_contact(
        &mut self,
        recipient: &Address,
    ) -> Result<(), Reply> {
        let sender = self.current_sender();
        if !self.sender_is_citizen(sender.as_ref())
            || self.ctx.config.is_citizen_domain(recipient.domain())
        {
            return Ok(());
        }
        let citizen = self.citizen_sender(sender.as_ref());
        let history = self.history(&recipient.canonical(), &citizen).await?;
        let allowed = self
            .ctx
            .config
            .citizen
            .allows_first_contact(&recipient.canonical());
        match rules::at_rcpt(Party::Citizen, Party::Professional, history, allowed) {
            Ok(()) => Ok(()),
            Err(rule) => {
                let reply = rule_reply(rule);
                self.audit_rule(rule, recipient).await;
                self.audit_refusal("rcpt", &reply, Some(recipient.to_string()))
                    .await;
                Err(reply)
            }
        }
    }

    /// End of DATA: the INS checks for each citizen recipient, the reply rules for a citizen
    /// sender; refused recipients join `facts.refused` (the whole message is refused when no
    /// recipient is left). Returns the exchanges to record with the message.
    pub(super) async fn apply_citizen_rules(
        &self,
        tx: &mut Transaction,
        facts: &mut DocumentFacts,
    ) -> Result<Vec<CitizenExchange>, Reply> {
        let from_citizen = self.sender_is_citizen(tx.sender.as_ref());
        // Mail between professionals (nearly all of it) has nothing to check here.
        if !from_citizen
            && !tx
                .recipients
                .iter()
                .any(|r| self.ctx.config.is_citizen_domain(r.address.domain()))
        {
            return Ok(Vec::new());
        }
        let block = &tx.body[..headers::header_block_len(&tx.body)];
        let closed = headers::field_value(block, "X-MSS-MES")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("FIN"));
        let message_id = headers::field_value(block, "Message-ID").map(|v| strip_angles(&v));
        let answered: Vec<String> = ["In-Reply-To", "References"]
            .iter()
            .filter_map(|f| headers::field_value(block, f))
            .flat_map(|v| message_ids(&v))
            .collect();
        let citizen = self.citizen_sender(tx.sender.as_ref());
        let mut kept = Vec::with_capacity(tx.recipients.len());
        let mut refused = Vec::new();
        let mut mdns = Vec::new();
        for r in std::mem::take(&mut tx.recipients) {
            match self
                .citizen_refusal(
                    &r,
                    facts,
                    from_citizen.then_some(citizen.as_str()),
                    &answered,
                )
                .await?
            {
                None => kept.push(r),
                Some((reply, code)) => {
                    if let Some(code) = code {
                        mdns.push((r.clone(), code));
                    }
                    refused.push((r, reply));
                }
            }
        }
        tx.recipients = kept;
        self.send_refusal_mdns(tx, &mdns).await;
        for (r, reply) in &refused {
            let detail = serde_json::json!({ "id": tx.id, "recipient": r.address.to_string(), "reply": reply.summary() });
            self.ctx
                .audit(
                    "citizen.refused",
                    self.peer.to_string(),
                    tx.id.clone(),
                    "refused",
                    detail,
                )
                .await;
        }
        if tx.recipients.is_empty()
            && let Some((_, reply)) = refused.first()
        {
            return Err(reply.clone());
        }
        facts.refused.extend(refused);
        if from_citizen {
            return Ok(Vec::new());
        }
        let Some(professional) = tx.sender.as_ref().map(Address::canonical) else {
            return Ok(Vec::new());
        };
        Ok(tx
            .recipients
            .iter()
            .filter(|r| self.ctx.config.is_citizen_domain(r.address.domain()))
            .map(|r| CitizenExchange {
                professional: professional.clone(),
                citizen: r.address.canonical(),
                closed,
                message_id: message_id.clone().filter(|_| closed),
            })
            .collect())
    }

    /// Why `r` may not receive this message, if it may not.
    async fn citizen_refusal(
        &self,
        r: &Recipient,
        facts: &DocumentFacts,
        citizen: Option<&str>,
        answered: &[String],
    ) -> Result<Option<(Reply, Option<mssd_citizen::AnsCode>)>, Reply> {
        let domain = r.address.domain();
        if self.ctx.config.is_citizen_domain(domain) {
            let (Some(package), Ok(ins)) = (&facts.package, citizen_ins(&r.address, domain)) else {
                return Ok(None);
            };
            return Ok(
                check_for_citizen(package, &ins, &self.ctx.config.cda.accepted_ins_oids)
                    .err()
                    .map(|refusal| {
                        let reply = Reply::new(
                            550,
                            (5, 7, 1),
                            format!(
                                "{} {}: {} (document {})",
                                refusal.code.code(),
                                refusal.code.label(),
                                refusal.detail,
                                refusal.document
                            ),
                        );
                        (reply, Some(refusal.code))
                    }),
            );
        }
        let Some(citizen) = citizen else {
            return Ok(None);
        };
        let history = self.history(&r.address.canonical(), citizen).await?;
        let allowed = self
            .ctx
            .config
            .citizen
            .allows_first_contact(&r.address.canonical());
        let replies_to_closed = !answered.is_empty()
            && self
                .ctx
                .store
                .answers_closed_message(citizen, answered.to_vec())
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "smtp: reading closed messages failed");
                    replies::local_error()
                })?;
        match rules::at_data(history, allowed, replies_to_closed) {
            Ok(()) => Ok(None),
            Err(rule) => {
                self.audit_rule(rule, &r.address).await;
                Ok(Some((rule_reply(rule), None)))
            }
        }
    }

    /// The ANS integration-error MDN for each citizen refused a document, when the sender
    /// asked for one (`Disposition-Notification-To` equal to the return path, ref §5.1).
    async fn send_refusal_mdns(
        &self,
        tx: &Transaction,
        refused: &[(Recipient, mssd_citizen::AnsCode)],
    ) {
        let Some(sender) = &tx.sender else { return };
        if refused.is_empty() {
            return;
        }
        let block = &tx.body[..headers::header_block_len(&tx.body)];
        let asked = headers::field_value(block, "Disposition-Notification-To")
            .map(|v| strip_angles(v.rsplit('<').next().unwrap_or(&v)))
            .is_some_and(|v| Address::parse(&v).is_ok_and(|a| a.canonical() == sender.canonical()));
        if !asked {
            return;
        }
        let subject = headers::field_value(block, "Subject").unwrap_or_default();
        let original_id = headers::field_value(block, "Message-ID");
        let xdm = mssd_cda::attachment::find(&tx.body).ok().flatten();
        let now = time::OffsetDateTime::now_utc();
        for (r, code) in refused {
            let id = headers::new_message_id(
                &format!("{}.mdn", self.ctx.counters.next_id()),
                &self.ctx.config.hostname,
            );
            let bytes = crate::mdn::build(&crate::mdn::MdnError {
                host: &self.ctx.config.hostname,
                from_domain: r.address.domain(),
                to: sender,
                final_recipient: &r.address,
                original_recipient: r.orcpt.as_deref(),
                original_message_id: original_id.as_deref(),
                original_subject: &subject,
                code: code.code(),
                label: code.label(),
                message_id: &id,
                date: &headers::rfc5322_date(now),
                xdm: xdm.as_deref(),
            });
            if let Err(e) = crate::outbound::bounce::send_report(
                self.ctx,
                &id,
                sender,
                bytes,
                now.unix_timestamp(),
            )
            .await
            {
                tracing::error!(error = %e, "smtp: the integration-error MDN could not be stored");
            }
        }
    }

    /// The citizen's canonical address: the logged-in citizen mailbox, else the sender.
    fn citizen_sender(&self, sender: Option<&Address>) -> String {
        match &self.user {
            Some(u) if u.mailbox.kind == MailboxKind::Citizen => u.mailbox.address.canonical(),
            _ => sender.map(Address::canonical).unwrap_or_default(),
        }
    }

    async fn history(&self, professional: &str, citizen: &str) -> Result<History, Reply> {
        match self.ctx.store.exchange_history(professional, citizen).await {
            Ok(h) => Ok(History {
                wrote: h.wrote,
                wrote_open: h.wrote_open,
            }),
            Err(e) => {
                tracing::error!(error = %e, "smtp: reading citizen exchanges failed");
                Err(replies::local_error())
            }
        }
    }

    async fn audit_rule(&self, rule: Rule, recipient: &Address) {
        let detail = serde_json::json!({ "rule": rule.name(), "recipient": recipient.to_string() });
        self.ctx
            .audit(
                "citizen.rule",
                self.peer.to_string(),
                recipient.to_string(),
                "refused",
                detail,
            )
            .await;
    }
}

/// `550 5.7.1` naming the rule.
fn rule_reply(rule: Rule) -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        format!("{} (rule {})", rule.text(), rule.name()),
    )
}

fn strip_angles(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

/// The `<id>`s of an In-Reply-To or References field.
fn message_ids(value: &str) -> Vec<String> {
    value
        .split('<')
        .skip(1)
        .filter_map(|part| part.split_once('>').map(|(id, _)| id.trim().to_string()))
        .filter(|id| !id.is_empty())
        .take(100)
        .collect()
}
