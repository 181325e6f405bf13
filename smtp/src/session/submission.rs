//! Submission: SASL authentication after TLS (shared with IMAP through mssd-auth) and the
//! rule that users send only as the mailboxes they may send as.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mssd_auth::{AuthContext, AuthFailure, FailureReason, Mechanism, SaslExchange, Step};
use mssd_core::Address;

use super::input::MAX_AUTH_LINE;
use super::state::{Input, PeerVerdict};
use super::{Flow, Role, Session};
use crate::replies;
use crate::reply::Reply;

/// An AUTH exchange waiting for the client, with the line being received.
pub struct AuthInProgress {
    exchange: SaslExchange,
    line: Vec<u8>,
}

impl Session<'_> {
    /// Mechanism names to advertise: none before TLS, EXTERNAL only with a valid certificate.
    pub(super) fn offered_mechanisms(&mut self) -> Vec<&'static str> {
        if self.role != Role::Submission || self.tls.is_none() {
            return Vec::new();
        }
        let certificate = matches!(self.peer_verdict(), PeerVerdict::Valid(_));
        self.ctx
            .auth
            .mechanisms(true, certificate)
            .into_iter()
            .map(Mechanism::as_str)
            .collect()
    }

    pub(super) async fn auth_command(&mut self, mechanism: u64, initial: String) {
        if self.role != Role::Submission {
            return self.reply(replies::not_implemented());
        }
        if self.tls.is_none() {
            // A client that sends credentials in clear here has already exposed them: the
            // refusal is audited so that the operator can ask the user to change them.
            let reply = replies::tls_required();
            let exposed = if initial.is_empty() {
                "no"
            } else {
                "initial response sent in clear"
            };
            self.audit_refusal("auth", &reply, Some(exposed.to_string()))
                .await;
            return self.reply(reply);
        }
        if self.user.is_some() {
            return self.reply(replies::already_authenticated());
        }
        if self.tx.is_some() {
            return self.reply(replies::bad_sequence(
                "AUTH is not allowed during a mail transaction",
            ));
        }
        let offered = self.offered_mechanisms();
        let Some(mechanism) = mechanism_of(mechanism).filter(|m| offered.contains(&m.as_str()))
        else {
            return self.reply(replies::auth_unavailable());
        };
        let initial = match initial.as_str() {
            "" => None,
            "=" => Some(Vec::new()),
            text => match BASE64.decode(text) {
                Ok(bytes) => Some(bytes),
                Err(_) => {
                    return self.reply(Reply::new(
                        501,
                        (5, 5, 2),
                        "Invalid base64 in the initial response",
                    ));
                }
            },
        };
        let (exchange, step) = SaslExchange::start(mechanism, initial.as_deref());
        self.auth = Some(AuthInProgress {
            exchange,
            line: Vec::new(),
        });
        self.auth_step(step).await;
    }

    /// Collects one AUTH response line; None until its LF arrives. Over-long lines fail the
    /// exchange rather than grow without bound.
    pub(super) fn auth_line(&mut self, iter: &mut std::slice::Iter<'_, u8>) -> Option<Vec<u8>> {
        let auth = self.auth.as_mut()?;
        for &byte in iter.by_ref() {
            if byte == b'\n' {
                let mut line = std::mem::take(&mut auth.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Some(line);
            }
            if auth.line.len() <= MAX_AUTH_LINE {
                auth.line.push(byte);
            }
        }
        None
    }

    pub(super) async fn auth_response(&mut self, line: Vec<u8>) -> Flow {
        if line.len() > MAX_AUTH_LINE {
            self.end_auth();
            self.reply(replies::line_too_long());
            return Flow::Continue;
        }
        if line == b"*" {
            self.end_auth();
            self.reply(replies::auth_cancelled());
            return Flow::Continue;
        }
        let Ok(decoded) = BASE64.decode(&line) else {
            self.end_auth();
            self.reply(Reply::new(
                501,
                (5, 5, 2),
                "Invalid base64 in the AUTH response",
            ));
            return Flow::Continue;
        };
        let step = match self.auth.as_mut() {
            Some(auth) => auth.exchange.step(&decoded),
            None => return Flow::Continue,
        };
        self.auth_step(step).await;
        Flow::Continue
    }

    async fn auth_step(&mut self, step: Step) {
        match step {
            Step::Challenge(challenge) => {
                self.input = Input::Auth;
                self.reply(Reply::plain(334, vec![BASE64.encode(challenge).into()]));
            }
            Step::Failed(e) => {
                tracing::debug!(peer = %self.peer, error = %e, "smtp AUTH exchange failed");
                self.end_auth();
                self.ctx
                    .counters
                    .auth_failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.reply(replies::auth_failed());
            }
            Step::Done(credentials) => {
                let certificate = match self.peer_verdict() {
                    PeerVerdict::Valid(info) => Some(*info),
                    _ => None,
                };
                let context = AuthContext {
                    protocol: "submission",
                    peer: self.peer,
                    tls: self.tls.is_some(),
                    client_certificate: certificate,
                };
                match self.ctx.auth.authenticate(credentials, &context).await {
                    Ok(user) => {
                        self.end_auth();
                        self.user = Some(user);
                        self.reply(replies::auth_ok());
                    }
                    Err(failure) => self.auth_failed(failure).await,
                }
            }
        }
    }

    async fn auth_failed(&mut self, failure: AuthFailure) {
        // XOAUTH2/OAUTHBEARER report token errors as a final JSON challenge (RFC 7628 §3.2.2).
        if let (Some(json), Some(auth)) = (failure.bearer_challenge(), self.auth.as_mut())
            && let Step::Challenge(challenge) = auth.exchange.reject_bearer(json)
        {
            self.input = Input::Auth;
            // Counted once, when the client's answer ends the exchange (Step::Failed).
            self.reply(Reply::plain(334, vec![BASE64.encode(challenge).into()]));
            return;
        }
        self.ctx
            .counters
            .auth_failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.end_auth();
        self.reply(failure_reply(&failure));
    }

    fn end_auth(&mut self) {
        self.auth = None;
        self.input = Input::Command;
    }

    /// MAIL FROM on submission: authenticated, and as the user's own mailbox.
    pub(super) async fn check_sender(&mut self, sender: Option<&Address>) -> Result<(), Reply> {
        let Some(user) = &self.user else {
            let refusal = replies::auth_required();
            let about = sender.map_or_else(|| "<>".to_string(), |s| s.to_string());
            self.audit_refusal("mail", &refusal, Some(about)).await;
            return Err(refusal);
        };
        let own = user.mailbox.address.clone();
        let Some(sender) = sender else {
            // The null reverse-path is for the MTA's own reports (DSNs), never a user's.
            let refusal = replies::sender_not_owned();
            self.audit_refusal("mail", &refusal, Some("<>".into()))
                .await;
            return Err(refusal);
        };
        if sender.canonical() == own.canonical() || self.delegated_sender(&own, sender).await? {
            return Ok(());
        }
        let refusal = replies::sender_not_owned();
        self.audit_refusal("mail", &refusal, Some(sender.to_string()))
            .await;
        Err(refusal)
    }

    /// Whether `own` holds the send right on `sender` (an ORG mailbox it works for), and that
    /// mailbox is active.
    pub(super) async fn delegated_sender(
        &self,
        own: &Address,
        sender: &Address,
    ) -> Result<bool, Reply> {
        let store = &self.ctx.store;
        let grants = store.grants_to(own).await.map_err(|e| {
            tracing::error!(error = %e, "smtp: reading grants failed");
            replies::local_error()
        })?;
        let granted = grants
            .iter()
            .any(|g| g.rights.send && g.mailbox.canonical() == sender.canonical());
        if !granted {
            return Ok(false);
        }
        match store.mailbox(sender).await {
            Ok(Some(m)) => Ok(m.status == mssd_store::MailboxStatus::Active),
            Ok(None) => Ok(false),
            Err(e) => {
                tracing::error!(error = %e, "smtp: mailbox lookup failed");
                Err(replies::local_error())
            }
        }
    }
}

fn mechanism_of(bits: u64) -> Option<Mechanism> {
    match bits {
        smtp_proto::AUTH_PLAIN => Some(Mechanism::Plain),
        smtp_proto::AUTH_LOGIN => Some(Mechanism::Login),
        smtp_proto::AUTH_EXTERNAL => Some(Mechanism::External),
        smtp_proto::AUTH_XOAUTH2 => Some(Mechanism::Xoauth2),
        smtp_proto::AUTH_OAUTHBEARER => Some(Mechanism::OauthBearer),
        _ => None,
    }
}

fn failure_reply(failure: &AuthFailure) -> Reply {
    match &failure.reason {
        FailureReason::Throttled { retry_after } => {
            replies::auth_throttled(retry_after.as_secs().max(1))
        }
        FailureReason::TemporaryFailure => replies::auth_temporary(),
        FailureReason::TlsRequired => replies::tls_required(),
        // Told only after a correct password (the authenticator checks status last).
        FailureReason::MailboxSuspended => replies::mailbox_disabled_auth(),
        FailureReason::MechanismNotAllowed => replies::auth_unavailable(),
        _ => replies::auth_failed(),
    }
}
