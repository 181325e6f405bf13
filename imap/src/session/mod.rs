//! One IMAP connection: the state (not authenticated, authenticated, selected), the command
//! dispatch, and the driver loop. Each group of commands lives in its own file.

mod acl;
mod append;
mod append_spool;
mod auth;
mod capabilities;
mod compression;
mod copy_move;
mod expunge;
mod fetch_cmd;
mod folders;
mod idle;
mod info;
mod list_cmd;
mod names;
mod responses;
mod search_cmd;
mod search_res;
mod select;
mod selected;
mod side_data;
mod sort_cmd;
mod store_cmd;
mod wire;

use std::net::SocketAddr;
use std::time::Instant;

use imap_next::imap_types::command::{Command, CommandBody};
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::response::{Code, Data, Greeting, GreetingKind, Status};
use imap_next::server::{Error as ProtocolError, Event, Options};
use mssd_certs::{CertInfo, Conn};
use mssd_store::{AuditEvent, Mailbox};
use tokio::sync::watch;

use crate::input_limits::InputGate;
use crate::server::{ImapContext, ImapCounters, UserSlot};
use capabilities::{Phase, capabilities};
use responses::{bad, bye, code, ok, tag_of, text, untagged_bad};
use selected::Selected;
use wire::{Wire, WireError};

/// Whether the connection goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Close,
}

/// The logged-in user.
pub(crate) struct User {
    pub mailbox: Mailbox,
    _slot: UserSlot,
}

/// Extensions the client turned on (RFC 5161 ENABLE, or implicitly).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Enabled {
    pub condstore: bool,
    pub qresync: bool,
    /// IMAP4rev2 (RFC 9051): UTF-8 names, ESEARCH answers, no \Recent.
    pub imap4rev2: bool,
}

/// The TLS facts of the connection once TLS is up.
pub(crate) struct TlsState {
    /// The client certificate, validated against our trust anchors (for EXTERNAL).
    pub certificate: Option<CertInfo>,
    /// Why a presented certificate was refused and the subject it claims, until audited.
    pub refused: Option<(String, Option<String>)>,
}

/// Serves one connection until logout, error, timeout or server shutdown.
/// `conn` is plain on the STARTTLS port and already TLS on the implicit-TLS port.
pub async fn serve(
    ctx: &ImapContext,
    conn: Conn,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
) {
    ImapCounters::bump(&ctx.counters.sessions);
    Session::new(ctx, conn, peer).run(shutdown).await;
}

pub struct Session<'a> {
    ctx: &'a ImapContext,
    wire: Wire,
    peer: SocketAddr,
    tls: Option<TlsState>,
    user: Option<User>,
    selected: Option<Selected>,
    enabled: Enabled,
    sasl: Option<auth::SaslInProgress>,
    /// The tagged completion of the running command, sent after the untagged updates that
    /// the command's own changes (or others') cause (RFC 9051 7: updates before completion).
    tagged: Option<Status<'static>>,
    /// Until then the client must have authenticated (`login_timeout` after connecting).
    login_deadline: Instant,
    /// A MULTIAPPEND waiting for its next message.
    pending_append: Option<append::PendingAppend>,
}

impl<'a> Session<'a> {
    pub fn new(ctx: &'a ImapContext, conn: Conn, peer: SocketAddr) -> Session<'a> {
        let mut options = Options::default();
        options.max_literal_size = ctx.config.max_literal_size;
        options.max_command_size = ctx
            .config
            .max_literal_size
            .saturating_add(ctx.config.max_line_length);
        let _ = options.set_literal_accept_text("ready for literal data".into());
        let _ = options.set_literal_reject_text(format!(
            "literal too large: the limit is {} bytes",
            ctx.config.max_literal_size
        ));
        let tls = conn.is_tls().then(|| auth::tls_state(ctx, &conn, peer));
        let phase = phase_of(ctx, false, tls.as_ref());
        let greeting = Greeting {
            kind: GreetingKind::Ok,
            code: Some(Code::Capability(capabilities(phase))),
            text: text(format!("{} mssd IMAP ready", ctx.config.hostname)),
        };
        let gate = InputGate::new(
            ctx.config.max_line_length as usize,
            u64::from(ctx.config.max_literal_size),
        );
        Session {
            ctx,
            wire: Wire::new(
                conn,
                options,
                greeting,
                gate,
                ctx.literal_budget.clone(),
                append_spool::AppendSpools::new(ctx.store.clone()),
                ctx.config.login_timeout,
            ),
            login_deadline: Instant::now() + ctx.config.login_timeout,
            peer,
            tls,
            user: None,
            selected: None,
            enabled: Enabled::default(),
            sasl: None,
            tagged: None,
            pending_append: None,
        }
    }

    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        self.audit_tls().await;
        loop {
            let deadline = self.deadline();
            let decoded = match self.wire.next_event(deadline, &mut shutdown).await {
                Ok(decoded) => decoded,
                Err(WireError::TimedOut) if self.user.is_none() => {
                    self.send_status(bye(None, "too slow: authenticate sooner"));
                    break;
                }
                Err(WireError::TimedOut) => {
                    self.send_status(bye(None, "autologout: idle for too long"));
                    break;
                }
                Err(WireError::Refused(reason)) => {
                    tracing::info!(peer = %self.peer, reason, "imap: input refused, closing");
                    self.send_status(bye(Some(code("TOOBIG")), reason));
                    break;
                }
                Err(WireError::Shutdown) => {
                    self.send_status(bye(code_unavailable(), "server shutting down"));
                    break;
                }
                Err(WireError::Closed) => return,
                Err(WireError::Io(e)) => {
                    tracing::debug!(peer = %self.peer, error = %e, "imap: connection error");
                    return;
                }
            };
            let flow = match decoded {
                Ok(event) => self.handle(event, &mut shutdown).await,
                Err(error) => self.protocol_error(error),
            };
            self.flush_tagged();
            if flow == Flow::Close || self.wire.drain().await.is_err() {
                break;
            }
        }
        self.wire.close().await;
    }

    /// When waiting for the next command ends: the idle timeout once logged in (from now, so
    /// bytes that never make a command do not extend it), the login deadline before.
    fn deadline(&self) -> Instant {
        if self.user.is_some() {
            Instant::now() + self.ctx.config.idle_timeout
        } else {
            self.login_deadline
        }
    }

    /// Whether mailbox names travel in UTF-8 (IMAP4rev2) rather than modified UTF-7.
    pub(crate) fn utf8_names(&self) -> bool {
        self.enabled.imap4rev2
    }

    pub(crate) fn phase(&self) -> Phase {
        phase_of(self.ctx, self.user.is_some(), self.tls.as_ref())
    }

    async fn handle(&mut self, event: Event, shutdown: &mut watch::Receiver<bool>) -> Flow {
        if !matches!(event, Event::CommandReceived { .. }) {
            self.abandon_append();
        }
        match event {
            Event::CommandReceived { command } => {
                ImapCounters::bump(&self.ctx.counters.commands);
                self.command(command).await
            }
            Event::CommandAuthenticateReceived {
                command_authenticate,
            } => {
                ImapCounters::bump(&self.ctx.counters.commands);
                self.authenticate_start(command_authenticate).await;
                Flow::Continue
            }
            Event::AuthenticateDataReceived { authenticate_data } => {
                self.authenticate_data(authenticate_data).await;
                Flow::Continue
            }
            Event::IdleCommandReceived { tag } => {
                ImapCounters::bump(&self.ctx.counters.commands);
                self.idle(tag, shutdown).await
            }
            Event::IdleDoneReceived | Event::GreetingSent { .. } | Event::ResponseSent { .. } => {
                Flow::Continue
            }
        }
    }

    /// A line imap-codec could not decode: tagged BAD when the tag is readable; the
    /// connection stays usable except after an oversized command, which cannot be resynchronised.
    fn protocol_error(&mut self, error: ProtocolError) -> Flow {
        self.abandon_append();
        match error {
            ProtocolError::MalformedMessage { discarded_bytes }
            | ProtocolError::ExpectedCrlfGotLf { discarded_bytes } => {
                let bytes = discarded_bytes.declassify();
                tracing::debug!(peer = %self.peer, len = bytes.len(), "imap: malformed command");
                let status = match tag_of(bytes) {
                    Some(tag) => bad(
                        &tag,
                        Some(Code::Parse),
                        "malformed command: check its syntax",
                    ),
                    None => untagged_bad("malformed command: no valid tag"),
                };
                self.send_status(status);
                Flow::Continue
            }
            // imap-next already answered the tagged BAD (literal reject text).
            ProtocolError::LiteralTooLong { .. } => Flow::Continue,
            ProtocolError::CommandTooLong { .. } => {
                self.send_status(bye(
                    Some(Code::TooBig),
                    "command too long; closing the connection",
                ));
                Flow::Close
            }
        }
    }

    async fn command(&mut self, command: Command<'static>) -> Flow {
        let Command { tag, body } = command;
        let continues_append = matches!(&body, CommandBody::Append { mailbox, .. }
                if self.wire.is_continuation(mailbox))
            && self
                .pending_append
                .as_ref()
                .is_some_and(|p| p.tag() == &tag);
        if !continues_append {
            self.abandon_append();
        }
        let expunge_allowed = selected::may_announce_expunges(&body);
        // Catch up first, so the command sees (and shows) current flags and messages.
        self.sync_selected(false).await;
        let flow = match body {
            CommandBody::Capability => {
                self.send_data(Data::Capability(capabilities(self.phase())));
                self.send_status(ok(&tag, None, "CAPABILITY completed"));
                Flow::Continue
            }
            CommandBody::Noop => {
                self.send_status(ok(&tag, None, "NOOP completed"));
                Flow::Continue
            }
            CommandBody::Logout => {
                self.send_status(bye(None, "logging out"));
                self.send_status(ok(&tag, None, "LOGOUT completed"));
                return Flow::Close;
            }
            CommandBody::StartTLS => return self.starttls(&tag).await,
            CommandBody::Login { username, password } => {
                self.login(&tag, username, password).await;
                Flow::Continue
            }
            CommandBody::Id { parameters } => {
                // An extension command the input gate handed over (see `acl`), or a real ID.
                let key = parameters.as_ref().and_then(|p| wire::extension_key(p));
                match key.and_then(|key| self.wire.take_extension(&key)) {
                    Some(line) => self.extension(&tag, &line).await,
                    None => {
                        self.id(&tag);
                        Flow::Continue
                    }
                }
            }
            body => {
                if self.user.is_none() {
                    self.send_status(bad(
                        &tag,
                        None,
                        &format!("{} needs authentication first", body.name()),
                    ));
                    return Flow::Continue;
                }
                self.authenticated_command(&tag, body).await
            }
        };
        self.sync_selected(expunge_allowed).await;
        self.flush_tagged();
        flow
    }

    async fn authenticated_command(
        &mut self,
        tag: &Tag<'static>,
        body: CommandBody<'static>,
    ) -> Flow {
        match body {
            CommandBody::Enable { capabilities } => self.enable(tag, capabilities),
            CommandBody::Compress { .. } => return self.compress(tag).await,
            CommandBody::Namespace => self.namespace(tag),
            CommandBody::Select {
                mailbox,
                parameters,
            } => self.select(tag, mailbox, parameters, false).await,
            CommandBody::Examine {
                mailbox,
                parameters,
            } => self.select(tag, mailbox, parameters, true).await,
            CommandBody::Create { mailbox } => self.create(tag, mailbox).await,
            CommandBody::Delete { mailbox } => self.delete(tag, mailbox).await,
            CommandBody::Rename { from, to } => self.rename(tag, from, to).await,
            CommandBody::Subscribe { mailbox } => self.subscribe(tag, mailbox, true).await,
            CommandBody::Unsubscribe { mailbox } => self.subscribe(tag, mailbox, false).await,
            CommandBody::List {
                reference,
                mailbox_wildcard,
            } => self.list_basic(tag, reference, mailbox_wildcard).await,
            CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => self.lsub(tag, reference, mailbox_wildcard).await,
            CommandBody::Status {
                mailbox,
                item_names,
            } => self.status(tag, mailbox, item_names.into_owned()).await,
            CommandBody::Append {
                mailbox,
                flags,
                date,
                message,
            } => self.append(tag, mailbox, flags, date, message).await,
            CommandBody::GetQuota { root } => self.get_quota(tag, root).await,
            CommandBody::GetQuotaRoot { mailbox } => self.get_quota_root(tag, mailbox).await,
            CommandBody::SetQuota { .. } => self.send_status(responses::no(
                tag,
                Some(code("NOPERM")),
                "quotas are set by the operator (mssd mailbox create --quota)",
            )),
            body if self.selected.is_none() => self.send_status(bad(
                tag,
                None,
                &format!("{} needs a selected folder (SELECT first)", body.name()),
            )),
            body => self.selected_command(tag, body).await,
        }
        Flow::Continue
    }

    async fn selected_command(&mut self, tag: &Tag<'static>, body: CommandBody<'static>) {
        let has_saved = self.wire.take_saved_mark(tag.as_ref());
        let Some(selected) = self.selected.as_ref() else {
            return;
        };
        let body = match has_saved {
            false => body,
            true => match search_res::substitute(selected, body) {
                search_res::WithSaved::Run(body) => body,
                search_res::WithSaved::Empty => {
                    return self.send_status(ok(tag, None, "nothing to do: $ is empty"));
                }
            },
        };
        match body {
            CommandBody::Check => self.send_status(ok(tag, None, "CHECK completed")),
            CommandBody::Close => self.close_folder(tag, true).await,
            CommandBody::Unselect => self.close_folder(tag, false).await,
            CommandBody::Expunge => self.expunge(tag, None).await,
            CommandBody::ExpungeUid { sequence_set } => self.expunge(tag, Some(sequence_set)).await,
            CommandBody::Search {
                charset,
                criteria,
                uid,
            } => self.search(tag, charset, criteria, uid).await,
            CommandBody::Sort {
                sort_criteria,
                charset,
                search_criteria,
                uid,
            } => {
                self.sort(tag, sort_criteria, charset, search_criteria, uid)
                    .await
            }
            CommandBody::Thread {
                algorithm,
                charset,
                search_criteria,
                uid,
            } => {
                self.thread(tag, algorithm, charset, search_criteria, uid)
                    .await
            }
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
                modifiers,
            } => {
                self.fetch(tag, sequence_set, macro_or_item_names, uid, modifiers)
                    .await
            }
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
                modifiers,
            } => {
                self.store(tag, sequence_set, kind, response, flags, uid, modifiers)
                    .await
            }
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => {
                self.copy_or_move(tag, sequence_set, mailbox, uid, false)
                    .await
            }
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => {
                self.copy_or_move(tag, sequence_set, mailbox, uid, true)
                    .await
            }
            other => self.send_status(bad(
                tag,
                None,
                &format!("{} is not supported by this server", other.name()),
            )),
        }
    }

    /// Untagged statuses go out in order; the tagged one waits for the end of the command.
    pub(crate) fn send_status(&mut self, status: Status<'static>) {
        if matches!(status, Status::Tagged(_)) {
            if let Some(previous) = self.tagged.replace(status) {
                self.wire.proto.enqueue_status(previous);
            }
        } else {
            self.wire.proto.enqueue_status(status);
        }
    }

    fn flush_tagged(&mut self) {
        if let Some(status) = self.tagged.take() {
            self.wire.proto.enqueue_status(status);
        }
    }

    pub(crate) fn send_data(&mut self, data: Data<'static>) {
        self.wire.proto.enqueue_data(data);
    }

    /// Appends to the audit trail; a failure is logged, never hidden.
    pub(crate) async fn audit(
        &self,
        kind: &str,
        subject: String,
        outcome: &str,
        detail: serde_json::Value,
    ) {
        let actor = match &self.user {
            Some(user) => user.mailbox.address.as_str().to_owned(),
            None => self.peer.to_string(),
        };
        let event = AuditEvent {
            at: now_ms(),
            kind: kind.to_owned(),
            actor,
            subject,
            outcome: outcome.to_owned(),
            detail,
        };
        if let Err(e) = self.ctx.store.audit(event).await {
            tracing::error!(kind, error = %e, "audit trail write failed");
        }
    }
}

fn code_unavailable() -> Option<Code<'static>> {
    Some(code("UNAVAILABLE"))
}

fn phase_of(ctx: &ImapContext, logged_in: bool, tls: Option<&TlsState>) -> Phase {
    match (logged_in, tls) {
        (true, _) => Phase::Authenticated,
        (false, Some(tls)) => Phase::Tls(ctx.auth.mechanisms(true, tls.certificate.is_some())),
        (false, None) => Phase::Plain,
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
