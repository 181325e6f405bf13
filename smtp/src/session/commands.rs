//! SMTP commands (RFC 5321 §4.1) and the ESMTP extensions mssd offers.

use std::borrow::Cow;

use smtp_proto::request::receiver::{BdatReceiver, DataReceiver, DummyDataReceiver};
use smtp_proto::{MailFrom, RcptTo, Request};

use super::state::{Input, Transaction};
use super::{Flow, Role, Session};
use crate::replies;
use crate::reply::Reply;

impl Session<'_> {
    pub(super) async fn command(&mut self, request: Request<String>) -> Flow {
        match request {
            Request::Ehlo { host } => self.hello(host, true),
            Request::Helo { host } => self.hello(host, false),
            Request::Lhlo { .. } => self.reply(replies::unknown_command()),
            Request::StartTls => return self.starttls(),
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth_command(mechanism, initial_response).await,
            Request::Mail { from } => self.mail(from).await,
            Request::Rcpt { to } => self.rcpt(to).await,
            Request::Data => self.data(),
            Request::Bdat {
                chunk_size,
                is_last,
            } => self.bdat(chunk_size, is_last),
            Request::Rset => {
                self.tx = None;
                self.reply(replies::reset());
            }
            Request::Noop { .. } => self.reply(replies::ok()),
            // Address harvesting is not a service we offer (RFC 5321 §7.3).
            Request::Vrfy { .. } => self.reply(replies::vrfy_refused()),
            Request::Quit => {
                self.reply(replies::bye());
                return Flow::Close;
            }
            Request::Help { .. } => self.reply(Reply::new(
                214,
                (2, 0, 0),
                "See RFC 5321; this is an MSSanté operator",
            )),
            Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.reply(replies::not_implemented()),
        }
        Flow::Continue
    }

    fn hello(&mut self, host: String, extended: bool) {
        self.tx = None;
        let host = if host.is_empty() {
            "unknown".to_string()
        } else {
            host
        };
        self.helo = Some(host);
        if !extended {
            self.reply(replies::helo(&self.ctx.config.hostname));
            return;
        }
        let mut lines: Vec<Cow<'static, str>> = vec![self.ctx.config.hostname.clone().into()];
        for ext in [
            "PIPELINING",
            "8BITMIME",
            "SMTPUTF8",
            "ENHANCEDSTATUSCODES",
            "DSN",
            "CHUNKING",
        ] {
            lines.push(ext.into());
        }
        lines.push(format!("SIZE {}", self.ctx.config.max_message_size).into());
        if self.tls.is_none() {
            lines.push("STARTTLS".into());
        } else if self.role == Role::Submission && self.user.is_none() {
            let mechanisms = self.offered_mechanisms();
            if !mechanisms.is_empty() {
                lines.push(format!("AUTH {}", mechanisms.join(" ")).into());
            }
        }
        self.reply(Reply::plain(250, lines));
    }

    fn starttls(&mut self) -> Flow {
        if self.tls.is_some() {
            self.reply(replies::tls_active());
            return Flow::Continue;
        }
        self.reply(replies::start_tls());
        Flow::StartTls
    }

    async fn mail(&mut self, from: MailFrom<String>) {
        if self.helo.is_none() {
            return self.reply(replies::bad_sequence("Send EHLO first"));
        }
        if self.tx.is_some() {
            return self.reply(replies::bad_sequence("Nested MAIL command"));
        }
        if self.tls.is_none() {
            let reply = replies::tls_required();
            self.audit_refusal("mail", &reply, Some(from.address.clone()))
                .await;
            return self.reply(reply);
        }
        let sender = if from.address.is_empty() {
            None
        } else {
            if !from.address.is_ascii() && from.flags & smtp_proto::MAIL_SMTPUTF8 == 0 {
                return self.reply(replies::utf8_needs_smtputf8());
            }
            match mssd_core::Address::parse(&from.address) {
                Ok(address) => Some(address),
                Err(e) => return self.reply(replies::bad_sender(e.to_string())),
            }
        };
        if from.size > self.ctx.config.max_message_size {
            return self.reply(replies::message_too_big(self.ctx.config.max_message_size));
        }
        let allowed = match self.role {
            Role::Mta => self.check_operator(sender.as_ref()).await,
            Role::Submission => self.check_sender(sender.as_ref()).await,
        };
        if let Err(reply) = allowed {
            return self.reply(reply);
        }
        self.tx = Some(Transaction::new(sender, from.flags, from.env_id, from.size));
        self.reply(replies::sender_ok());
    }

    async fn rcpt(&mut self, to: RcptTo<String>) {
        let Some(tx) = &self.tx else {
            return self.reply(replies::bad_sequence("Need MAIL before RCPT"));
        };
        if tx.recipients.len() >= self.ctx.config.max_recipients {
            return self.reply(replies::too_many_recipients());
        }
        if !to.address.is_ascii() && tx.mail_flags & smtp_proto::MAIL_SMTPUTF8 == 0 {
            return self.reply(replies::utf8_needs_smtputf8());
        }
        let address = match mssd_core::Address::parse(&to.address) {
            Ok(address) => address,
            Err(e) => return self.reply(replies::bad_recipient(e.to_string())),
        };
        let checked = match self.check_recipient(&address).await {
            Ok(mailbox) => self
                .check_citizen_first_contact(&address)
                .await
                .map(|()| mailbox),
            Err(reply) => Err(reply),
        };
        match checked {
            Ok(mailbox) => {
                let recipient = super::state::Recipient {
                    address,
                    mailbox,
                    notify: to.flags,
                    orcpt: to.orcpt,
                };
                if let Some(tx) = &mut self.tx {
                    tx.recipients.push(recipient);
                }
                if std::mem::take(&mut self.directory_warning) {
                    self.reply(replies::recipient_ok_unknown_to_directory());
                } else {
                    self.reply(replies::recipient_ok());
                }
            }
            Err(reply) => self.reply(reply),
        }
    }

    fn data(&mut self) {
        match self.ready_for_content() {
            Err(reply) => self.reply(reply),
            Ok(()) => {
                self.begin_body();
                self.input = Input::Data(DataReceiver::new());
                self.reply(replies::start_data());
            }
        }
    }

    /// RFC 3030 BDAT: chunks of announced size; the last one ends the message.
    fn bdat(&mut self, chunk_size: usize, is_last: bool) {
        let refusal = match self.tx.as_ref().and_then(|tx| tx.failed.clone()) {
            Some(failed) => Some(failed),
            None => self.ready_for_content().err(),
        };
        if let Some(reply) = refusal {
            // The chunk's bytes follow the command: they must be consumed, not parsed.
            if let Some(tx) = &mut self.tx {
                tx.failed = Some(reply);
            }
            self.input = Input::Discard {
                receiver: DummyDataReceiver::new_bdat(chunk_size),
                last: is_last,
            };
            return;
        }
        if self.tx.as_ref().is_some_and(|tx| tx.body.is_empty()) {
            self.begin_body();
        }
        let size = self.tx.as_ref().map_or(0, |tx| tx.size());
        if size.saturating_add(chunk_size) > self.ctx.config.max_message_size {
            let reply = replies::message_too_big(self.ctx.config.max_message_size);
            if let Some(tx) = &mut self.tx {
                tx.failed = Some(reply);
                tx.body = Vec::new();
                tx.spool = None;
            }
            self.input = Input::Discard {
                receiver: DummyDataReceiver::new_bdat(chunk_size),
                last: is_last,
            };
            return;
        }
        self.input = Input::Bdat(BdatReceiver::new(chunk_size, is_last));
    }

    fn ready_for_content(&self) -> Result<(), Reply> {
        match &self.tx {
            None => Err(replies::bad_sequence(
                "Need MAIL and RCPT before message content",
            )),
            Some(tx) if tx.recipients.is_empty() => Err(replies::no_valid_recipients()),
            Some(_) => Ok(()),
        }
    }

    /// Content that was discarded ends: answer with the refusal, end the transaction.
    pub(super) async fn refuse_oversize(&mut self, last: bool) {
        let reply = self
            .tx
            .as_ref()
            .and_then(|tx| tx.failed.clone())
            .unwrap_or_else(|| replies::message_too_big(self.ctx.config.max_message_size));
        self.audit_refusal("content", &reply, None).await;
        if last {
            self.tx = None;
        }
        self.reply(reply);
    }
}
