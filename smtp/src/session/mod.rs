//! One SMTP session: the read → process → reply loop over an explicit state.
//! `Role::Mta` serves other operators (mutual TLS, liste blanche); `Role::Submission` serves
//! our users (AUTH after TLS). Replies to pipelined commands are written together once the
//! bytes read so far are processed (RFC 2920).

mod author_check;
mod citizens;
mod commands;
mod delivered_dsn;
pub mod documents;
mod finish;
mod input;
mod mta;
mod spool;
mod state;
mod submission;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use crate::context::SmtpContext;
use crate::replies;
use crate::reply::Reply;
use mssd_certs::Conn;
use state::{Input, PeerVerdict, TlsFacts, Transaction};

/// Which listener the session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Port 25: other MSSanté operators.
    Mta,
    /// Ports 587 (STARTTLS) and 465 (implicit TLS): our users.
    Submission,
}

/// What the processing of some input asks the loop to do next.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    StartTls,
    Close,
}

const READ_BUFFER: usize = 64 * 1024;
/// Past the first `data_timeout` of a message, it must keep coming at this many bytes a second
/// on average: a sender trickling a byte now and then cannot hold the session for ever.
const MIN_DATA_RATE: u64 = 1024;

pub struct Session<'a> {
    ctx: &'a SmtpContext,
    role: Role,
    conn: Conn,
    peer: SocketAddr,
    receiver: smtp_proto::request::receiver::RequestReceiver,
    input: Input,
    /// Replies not yet written.
    out: Vec<u8>,
    helo: Option<String>,
    tls: Option<TlsFacts>,
    verdict: Option<PeerVerdict>,
    user: Option<mssd_auth::Authenticated>,
    auth: Option<submission::AuthInProgress>,
    tx: Option<Transaction>,
    commands: usize,
    /// Commands since the last accepted message: a session that keeps delivering mail is
    /// never cut off, one that loops without delivering is (`max_commands`).
    commands_since_message: usize,
    errors: usize,
    accepted: usize,
    /// Set by the recipient check when the directory does not know the recipient (warn).
    directory_warning: bool,
    clock: Clock,
}

/// When reads stop being waited for. Bytes that never complete a command do not extend a
/// deadline: the time counts from the end of the previous command.
struct Clock {
    connected: Instant,
    /// The commands processed and whether in a message, when the current wait began.
    progress: (usize, bool),
    wait_started: Instant,
    last_read: Instant,
    message_bytes: u64,
}

impl<'a> Session<'a> {
    pub fn new(ctx: &'a SmtpContext, role: Role, conn: Conn, peer: SocketAddr) -> Session<'a> {
        let tls = conn.tls().map(tls_facts);
        Session {
            ctx,
            role,
            conn,
            peer,
            receiver: Default::default(),
            input: Input::Command,
            out: Vec::with_capacity(1024),
            helo: None,
            tls,
            verdict: None,
            user: None,
            auth: None,
            tx: None,
            commands: 0,
            commands_since_message: 0,
            errors: 0,
            accepted: 0,
            directory_warning: false,
            clock: Clock {
                connected: Instant::now(),
                progress: (0, false),
                wait_started: Instant::now(),
                last_read: Instant::now(),
                message_bytes: 0,
            },
        }
    }

    /// A submission session for `user`, already authenticated by an in-process client (the
    /// web mailbox) that talks SMTP over `pipe`: every rule of submission applies, from
    /// MAIL FROM on, exactly as for a mail client.
    pub fn internal(
        ctx: &'a SmtpContext,
        user: mssd_auth::Authenticated,
        pipe: tokio::io::DuplexStream,
        peer: SocketAddr,
    ) -> Session<'a> {
        let mut session = Session::new(ctx, Role::Submission, Conn::Internal(pipe), peer);
        session.tls = Some(TlsFacts {
            version: "in-process".into(),
            cipher: "none".into(),
            peer_chain: Vec::new(),
        });
        session.user = Some(user);
        session
    }

    /// Whether the client has authenticated (submission) or presented a validated
    /// certificate (MTA port): until then the login deadline applies.
    fn authenticated(&self) -> bool {
        self.user.is_some() || matches!(self.verdict, Some(PeerVerdict::Valid(_)))
    }

    /// The deadline of the next read: a whole command within `command_timeout`; a message
    /// with a pause of at most `data_timeout` and, past its first `data_timeout`, an average
    /// of MIN_DATA_RATE; before authentication, never past `login_timeout` from connection.
    fn read_deadline(&mut self) -> Instant {
        let now = Instant::now();
        let config = &self.ctx.config;
        let in_message = matches!(
            self.input,
            Input::Data(_) | Input::Bdat(_) | Input::Discard { .. }
        );
        let progress = (self.commands, in_message);
        if progress != self.clock.progress {
            self.clock.progress = progress;
            self.clock.wait_started = now;
            self.clock.message_bytes = 0;
        }
        let deadline = if in_message {
            let floor = Duration::from_secs(self.clock.message_bytes / MIN_DATA_RATE);
            (self.clock.last_read.max(self.clock.wait_started) + config.data_timeout)
                .min(self.clock.wait_started + config.data_timeout + floor)
        } else {
            self.clock.wait_started + config.command_timeout
        };
        if self.authenticated() {
            deadline
        } else {
            deadline.min(self.clock.connected + config.login_timeout)
        }
    }

    /// Runs the session to its end; never panics on peer input, never returns an error:
    /// what went wrong is logged and, where it concerns trust, audited.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        self.reply(replies::greeting(&self.ctx.config.hostname));
        let mut buf = vec![0u8; READ_BUFFER];
        loop {
            if !self.flush().await {
                break;
            }
            let deadline = tokio::time::Instant::from_std(self.read_deadline());
            let read = tokio::select! {
                _ = shutdown.changed() => {
                    self.reply(replies::shutting_down(&self.ctx.config.hostname));
                    break;
                }
                read = tokio::time::timeout_at(deadline, self.conn.read(&mut buf)) => read,
            };
            let n = match read {
                Err(_) => {
                    tracing::info!(peer = %self.peer, authenticated = self.authenticated(), "smtp session timed out");
                    self.reply(replies::timeout(&self.ctx.config.hostname));
                    break;
                }
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => n,
            };
            self.clock.last_read = Instant::now();
            self.clock.message_bytes += n as u64;
            match self.process(&buf[..n]).await {
                Flow::Continue => {}
                Flow::Close => break,
                Flow::StartTls => {
                    if !self.flush().await || !self.start_tls().await {
                        break;
                    }
                }
            }
        }
        let _ = self.flush().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.conn.shutdown()).await;
        tracing::debug!(peer = %self.peer, accepted = self.accepted, commands = self.commands, "smtp session closed");
    }

    fn reply(&mut self, reply: Reply) {
        if reply.code >= 500 {
            self.errors += 1;
        }
        reply.write_to(&mut self.out);
    }

    async fn flush(&mut self) -> bool {
        if self.out.is_empty() {
            return true;
        }
        // A client that stops reading its replies is cut off like one that stops writing.
        let limit = self.ctx.config.command_timeout;
        let write = async {
            self.conn.write_all(&self.out).await?;
            self.conn.flush().await
        };
        let ok = matches!(tokio::time::timeout(limit, write).await, Ok(Ok(())));
        self.out.clear();
        ok
    }

    /// RFC 3207: the handshake on the same socket, then a fresh session state.
    async fn start_tls(&mut self) -> bool {
        let Conn::Plain(tcp) = std::mem::replace(&mut self.conn, Conn::Upgrading) else {
            return false;
        };
        match tokio::time::timeout(self.ctx.config.command_timeout, self.ctx.tls.accept(tcp)).await
        {
            Ok(Ok(tls)) => {
                self.conn = Conn::Tls(Box::new(tls));
                self.tls = self.conn.tls().map(tls_facts);
                // RFC 3207 §4.2: forget everything learnt before TLS.
                self.helo = None;
                self.tx = None;
                self.verdict = None;
                self.receiver = Default::default();
                self.input = Input::Command;
                true
            }
            Ok(Err(e)) => {
                tracing::info!(peer = %self.peer, error = %e, "smtp STARTTLS handshake failed");
                let (actor, subject) = (self.peer.to_string(), self.role_name().to_string());
                self.ctx
                    .audit(
                        "smtp.tls_failed",
                        actor,
                        subject,
                        "refused",
                        serde_json::json!({ "error": e.to_string() }),
                    )
                    .await;
                false
            }
            Err(_) => false,
        }
    }

    fn role_name(&self) -> &'static str {
        match self.role {
            Role::Mta => "smtp",
            Role::Submission => "submission",
        }
    }
}

fn tls_facts(tls: &tokio_rustls::server::TlsStream<tokio::net::TcpStream>) -> TlsFacts {
    let (_, conn) = tls.get_ref();
    TlsFacts {
        version: conn
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        peer_chain: conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default(),
    }
}
