//! STARTTLS, LOGIN and AUTHENTICATE (SASL-IR, PLAIN, LOGIN, EXTERNAL, XOAUTH2, OAUTHBEARER).
//! The decision, throttling and audit of each attempt belong to `mssd_auth::Authenticator`,
//! the same one SMTP submission uses; this file only speaks IMAP around it.

use std::net::SocketAddr;

use imap_next::imap_types::auth::AuthenticateData;
use imap_next::imap_types::core::{AString, Tag};
use imap_next::imap_types::response::{Code, CommandContinuationRequest, Status};
use imap_next::imap_types::secret::Secret;
use imap_next::types::CommandAuthenticate;
use mssd_auth::{
    AuthContext, AuthFailure, Authenticated, Credentials, FailureReason, Mechanism, SaslExchange,
    Step,
};
use mssd_certs::{Conn, Usage};
use rustls::pki_types::UnixTime;

use super::capabilities::capabilities;
use super::responses::{bad, code, no, ok};
use super::{Flow, Session, TlsState, User};
use crate::server::{ImapContext, ImapCounters};

/// An AUTHENTICATE exchange under way.
pub(crate) struct SaslInProgress {
    tag: Tag<'static>,
    exchange: SaslExchange,
    /// Set when a bearer token was refused and the error challenge awaits the client's ack.
    failure: Option<FailureReason>,
}

/// Validates the client certificate, if any, for EXTERNAL. A refused one is logged; the
/// session audits it once TLS is up.
pub(crate) fn tls_state(ctx: &ImapContext, conn: &Conn, peer: SocketAddr) -> TlsState {
    let chain = conn
        .tls()
        .and_then(|tls| tls.get_ref().1.peer_certificates())
        .unwrap_or_default();
    let (certificate, refused) = match chain {
        [] => (None, None),
        [leaf, intermediates @ ..] => {
            match ctx
                .validator
                .validate(leaf, intermediates, Usage::ClientAuth, UnixTime::now())
            {
                Ok(info) => (Some(info), None),
                Err(e) => {
                    tracing::warn!(%peer, error = %e, "imap: client certificate refused");
                    // What the certificate says of itself: never to be read as who it is.
                    let claimed_dn = mssd_certs::peer_info(chain).map(|i| i.subject.to_string());
                    (None, Some((e.to_string(), claimed_dn)))
                }
            }
        }
    };
    TlsState {
        certificate,
        refused,
    }
}

impl Session<'_> {
    /// Audits a refused client certificate (a refusal of trust), once per connection.
    pub(crate) async fn audit_tls(&mut self) {
        let refused = self.tls.as_mut().and_then(|t| t.refused.take());
        if let Some((error, claimed_dn)) = refused {
            let kind = "imap.certificate.refused";
            let detail = serde_json::json!({ "error": error, "claimed_dn": claimed_dn });
            let gate = self.ctx.auth.refusal_audit();
            if let Some(detail) = gate.gate(self.peer.ip(), kind, detail) {
                self.audit(kind, "imap".into(), "refused", detail).await;
            }
        }
    }

    pub(crate) async fn starttls(&mut self, tag: &Tag<'static>) -> Flow {
        if self.tls.is_some() {
            self.send_status(bad(tag, None, "TLS is already active"));
            return Flow::Continue;
        }
        // Written now, not deferred: the handshake follows it on the wire.
        self.wire
            .proto
            .enqueue_status(ok(tag, None, "begin TLS negotiation now"));
        if let Err(e) = self.wire.upgrade(&self.ctx.tls).await {
            tracing::debug!(peer = %self.peer, error = ?e, "imap: STARTTLS handshake failed");
            return Flow::Close;
        }
        self.tls = Some(tls_state(self.ctx, self.wire.conn(), self.peer));
        self.audit_tls().await;
        Flow::Continue
    }

    pub(crate) async fn login(
        &mut self,
        tag: &Tag<'static>,
        username: AString<'static>,
        password: Secret<AString<'static>>,
    ) {
        if self.user.is_some() {
            self.send_status(bad(tag, None, "already authenticated"));
            return;
        }
        if self.tls.is_none() {
            self.send_status(no(
                tag,
                Some(code("PRIVACYREQUIRED")),
                "LOGIN is disabled until STARTTLS",
            ));
            return;
        }
        let credentials = Credentials::Password {
            mechanism: Mechanism::Plain,
            authzid: None,
            username: String::from_utf8_lossy(username.as_ref()).into_owned(),
            password: String::from_utf8_lossy(password.declassify().as_ref()).into_owned(),
        };
        let status = match self.decide(credentials).await {
            Ok(outcome) => outcome.into_tagged(tag),
            Err(failure) => failed(tag, &failure),
        };
        self.send_status(status);
    }

    pub(crate) async fn authenticate_start(&mut self, command: CommandAuthenticate) {
        let CommandAuthenticate {
            tag,
            mechanism,
            initial_response,
        } = command;
        let refusal = if self.user.is_some() {
            Some(bad(&tag, None, "already authenticated"))
        } else if self.tls.is_none() {
            Some(no(
                &tag,
                Some(code("PRIVACYREQUIRED")),
                "authentication is disabled until STARTTLS",
            ))
        } else {
            None
        };
        if let Some(status) = refusal {
            self.finish_authenticate(status);
            return;
        }
        let Ok(mechanism) = Mechanism::parse(mechanism.as_ref()) else {
            let status = no(&tag, Some(code("CANNOT")), "unsupported SASL mechanism");
            self.finish_authenticate(status);
            return;
        };
        let initial = initial_response.map(|r| r.declassify().to_vec());
        let (exchange, step) = SaslExchange::start(mechanism, initial.as_deref());
        self.sasl = Some(SaslInProgress {
            tag,
            exchange,
            failure: None,
        });
        self.sasl_step(step).await;
    }

    pub(crate) async fn authenticate_data(&mut self, data: AuthenticateData<'static>) {
        let Some(sasl) = self.sasl.as_mut() else {
            return;
        };
        let step = match data {
            AuthenticateData::Cancel => {
                let status = bad(&sasl.tag, None, "AUTHENTICATE cancelled");
                self.sasl = None;
                self.finish_authenticate(status);
                return;
            }
            AuthenticateData::Continue(bytes) => sasl.exchange.step(bytes.declassify()),
        };
        self.sasl_step(step).await;
    }

    async fn sasl_step(&mut self, step: Step) {
        let Some(sasl) = self.sasl.as_mut() else {
            return;
        };
        match step {
            Step::Challenge(challenge) => {
                let request = CommandContinuationRequest::base64(challenge);
                if let Err(request) = self.wire.proto.authenticate_continue(request) {
                    self.wire.proto.enqueue_continuation_request(request);
                }
            }
            Step::Failed(e) => {
                let reason = sasl.failure.take();
                let tag = sasl.tag.clone();
                self.sasl = None;
                tracing::debug!(peer = %self.peer, error = %e, "imap: SASL exchange failed");
                ImapCounters::bump(&self.ctx.counters.auth_failures);
                let status = match reason {
                    Some(reason) => failed_reason(&tag, reason),
                    None => no(
                        &tag,
                        Some(code("AUTHENTICATIONFAILED")),
                        "authentication failed",
                    ),
                };
                self.finish_authenticate(status);
            }
            Step::Done(credentials) => {
                let tag = sasl.tag.clone();
                match self.decide(credentials).await {
                    Ok(status) => {
                        self.sasl = None;
                        self.finish_authenticate(status.into_tagged(&tag));
                    }
                    Err(failure) => {
                        let challenge = failure.bearer_challenge().map(str::to_owned);
                        let next = match (challenge, self.sasl.as_mut()) {
                            (Some(json), Some(sasl)) => {
                                sasl.failure = Some(failure.reason);
                                Some(sasl.exchange.reject_bearer(&json))
                            }
                            _ => None,
                        };
                        match next {
                            Some(step @ Step::Challenge(_)) => Box::pin(self.sasl_step(step)).await,
                            _ => {
                                self.sasl = None;
                                self.finish_authenticate(failed(&tag, &failure));
                            }
                        }
                    }
                }
            }
        }
    }

    fn finish_authenticate(&mut self, status: Status<'static>) {
        if let Err(status) = self.wire.proto.authenticate_finish(status) {
            self.wire.proto.enqueue_status(status);
        }
    }

    /// Runs the shared authenticator; on success takes a per-user slot and logs in.
    async fn decide(&mut self, credentials: Credentials) -> Result<LoginOk, AuthFailure> {
        let context = AuthContext {
            protocol: "imap",
            peer: self.peer,
            tls: self.tls.is_some(),
            client_certificate: self.tls.as_ref().and_then(|t| t.certificate.clone()),
        };
        match self.ctx.auth.authenticate(credentials, &context).await {
            Ok(Authenticated { mailbox, .. }) => {
                let Some(slot) = self.ctx.users.acquire(mailbox.id) else {
                    tracing::warn!(peer = %self.peer, "imap: per-user connection limit reached");
                    return Ok(LoginOk::Limit);
                };
                ImapCounters::bump(&self.ctx.counters.logins);
                self.user = Some(User {
                    mailbox,
                    _slot: slot,
                });
                self.wire.authenticated(self.ctx.config.write_timeout);
                Ok(LoginOk::LoggedIn(Code::Capability(capabilities(
                    self.phase(),
                ))))
            }
            Err(failure) => {
                ImapCounters::bump(&self.ctx.counters.auth_failures);
                Err(failure)
            }
        }
    }
}

/// A decided attempt that did not fail authentication.
enum LoginOk {
    LoggedIn(Code<'static>),
    /// Right credentials, but the mailbox already has its maximum of sessions.
    Limit,
}

impl LoginOk {
    fn into_tagged(self, tag: &Tag<'static>) -> Status<'static> {
        match self {
            LoginOk::LoggedIn(capabilities) => ok(tag, Some(capabilities), "authenticated"),
            LoginOk::Limit => no(
                tag,
                Some(code("LIMIT")),
                "too many sessions for this mailbox; close another client first",
            ),
        }
    }
}

fn failed(tag: &Tag<'static>, failure: &AuthFailure) -> Status<'static> {
    failed_reason(tag, failure.reason)
}

/// RFC 5530 codes for each failure; the text never says whether the account exists.
fn failed_reason(tag: &Tag<'static>, reason: FailureReason) -> Status<'static> {
    let name = match reason {
        FailureReason::InvalidCredentials | FailureReason::TokenRejected => "AUTHENTICATIONFAILED",
        FailureReason::Throttled { .. } | FailureReason::TemporaryFailure => "UNAVAILABLE",
        FailureReason::MailboxSuspended => "CONTACTADMIN",
        FailureReason::MechanismNotAllowed => "CANNOT",
        FailureReason::TlsRequired => "PRIVACYREQUIRED",
    };
    no(tag, Some(code(name)), reason.client_message())
}
