//! The I/O driver of one connection around imap-next's sans-I/O server: feeds it bytes,
//! writes what it encodes, and hands out the events it decodes.
//!
//! Responses are buffered and written when the buffer is large or when the state machine
//! needs input, so a FETCH of 10,000 messages goes out in large writes. Events decoded
//! while draining (pipelined commands) are kept in order for `next_event`.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_next::imap_types::response::{Greeting, GreetingKind};
use imap_next::server::{Error as ProtocolError, Event, Options, Server};
use imap_next::{Interrupt, Io, State};
use mssd_certs::Conn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::append_spool::{AppendSpools, Spooled};
use super::compression::Deflate;
use super::side_data::{bounded_push, take_in_order};
use crate::input_limits::{InputGate, LiteralBudget, Step};
use crate::search_return::ReturnOption;

/// The ID parameter that carries an extension command's key.
pub(crate) const EXTENSION_MARKER: &str = "x-mssd-extension";
/// The key of an ID command the wire made for an extension command line.
pub(crate) fn extension_key(
    parameters: &[(
        imap_next::imap_types::core::IString<'static>,
        imap_next::imap_types::core::NString<'static>,
    )],
) -> Option<String> {
    parameters.iter().find_map(|(name, value)| {
        let name: &[u8] = name.as_ref();
        let value: &[u8] = value.0.as_ref()?.as_ref();
        (name == EXTENSION_MARKER.as_bytes()).then(|| String::from_utf8_lossy(value).into_owned())
    })
}

/// MULTIAPPEND markers waiting for their message (the session takes at most 1,000 messages
/// per APPEND).
const MAX_APPEND_MARKERS: usize = 1024;

/// Write when this much output is buffered, without waiting for the command to end.
const FLUSH_AT: usize = 128 * 1024;
/// Per-connection read buffer: small, because most connections sit idle (TLS has its own).
const READ_CHUNK: usize = 4 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Writes go out in pieces of this size, each within the write timeout: a client that stops
/// reading is cut off, one that reads slowly but steadily is not.
const WRITE_PIECE: usize = 64 * 1024;

/// Why the connection cannot go on.
#[derive(Debug)]
pub(crate) enum WireError {
    Closed,
    Io(io::Error),
    TimedOut,
    Shutdown,
    /// The input broke a limit that leaves the stream unusable: BYE with this text.
    Refused(&'static str),
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        WireError::Io(e)
    }
}

pub(crate) type Decoded = Result<Event, ProtocolError>;

pub(crate) struct Wire {
    conn: Conn,
    pub(crate) proto: Server,
    options: Options,
    out: Vec<u8>,
    pending: VecDeque<Decoded>,
    read_buf: Box<[u8]>,
    gate: InputGate,
    budget: Arc<LiteralBudget>,
    spools: AppendSpools,
    /// Extension command lines (see `Step::Extension`) waiting for their turn, by key.
    extensions: VecDeque<(String, Vec<u8>)>,
    extension_count: u64,
    /// ESEARCH options of SEARCH commands not yet handled, by tag, in order.
    search_returns: VecDeque<(String, Vec<ReturnOption>)>,
    /// Tags of commands whose `$` the gate wrote as a number, in order.
    saved_marks: VecDeque<String>,
    /// Tags of APPENDs followed by another message of the same MULTIAPPEND, in order.
    append_more: VecDeque<String>,
    /// COMPRESS=DEFLATE, once the client turned it on.
    deflate: Option<Box<Deflate>>,
    /// How long one piece of output may take to be written.
    pub(crate) write_timeout: Duration,
}

impl Wire {
    pub(crate) fn new(
        conn: Conn,
        options: Options,
        greeting: Greeting<'static>,
        gate: InputGate,
        budget: Arc<LiteralBudget>,
        spools: AppendSpools,
        write_timeout: Duration,
    ) -> Wire {
        let mut gate = gate;
        gate.set_continuation_mailbox(format!(
            "{}-{}",
            crate::input_limits::CONTINUATION_MAILBOX,
            spools.salt_hex()
        ));
        Wire {
            conn,
            proto: Server::new(options.clone(), greeting),
            options,
            out: Vec::new(),
            pending: VecDeque::new(),
            read_buf: vec![0; READ_CHUNK].into_boxed_slice(),
            gate,
            budget,
            spools,
            extensions: VecDeque::new(),
            extension_count: 0,
            search_returns: VecDeque::new(),
            saved_marks: VecDeque::new(),
            append_more: VecDeque::new(),
            deflate: None,
            write_timeout,
        }
    }

    /// The extension command line `key` stands for.
    pub(crate) fn take_extension(&mut self, key: &str) -> Option<Vec<u8>> {
        take_in_order(&mut self.extensions, |(k, _)| k == key).map(|(_, line)| line)
    }

    /// An extension command line goes to imap-next as an ID command carrying a key (ID is
    /// valid in every state and decoded in order with the commands around it); the session
    /// exchanges the key for the line. The key holds the spool salt, so a client cannot
    /// forge one.
    fn divert_extension(&mut self, line: Vec<u8>) {
        let Some(tag) = crate::input_limits::tag_of(&line) else {
            self.proto.enqueue_input(&line);
            return;
        };
        self.extension_count += 1;
        let key = format!("{}-{}", self.spools.salt_hex(), self.extension_count);
        let id = format!("{tag} ID (\"{EXTENSION_MARKER}\" \"{key}\")\r\n");
        self.extensions.push_back((key, line));
        self.proto.enqueue_input(id.as_bytes());
    }

    /// The ESEARCH options of the SEARCH command `tag` being handled, if it asked for them.
    pub(crate) fn take_search_return(&mut self, tag: &str) -> Option<Vec<ReturnOption>> {
        take_in_order(&mut self.search_returns, |(t, _)| t == tag).map(|(_, options)| options)
    }

    /// Whether the command `tag` being handled had `$` (then 4294967295 in its sets is `$`).
    pub(crate) fn take_saved_mark(&mut self, tag: &str) -> bool {
        take_in_order(&mut self.saved_marks, |t| t == tag).is_some()
    }

    /// Whether `mailbox` is the one the gate gives the further messages of a MULTIAPPEND.
    pub(crate) fn is_continuation(
        &self,
        mailbox: &imap_next::imap_types::mailbox::Mailbox<'_>,
    ) -> bool {
        match mailbox {
            imap_next::imap_types::mailbox::Mailbox::Other(other) => {
                other.as_ref() == self.gate.continuation_mailbox().as_bytes()
            }
            imap_next::imap_types::mailbox::Mailbox::Inbox => false,
        }
    }

    /// Whether the APPEND `tag` being handled is followed by another message (MULTIAPPEND).
    pub(crate) fn take_append_more(&mut self, tag: &str) -> bool {
        take_in_order(&mut self.append_more, |t| t == tag).is_some()
    }

    pub(crate) fn compressing(&self) -> bool {
        self.deflate.is_some()
    }

    /// COMPRESS: everything queued (the tagged OK last) is written as it is, then both
    /// directions are compressed. Input the client pipelined after COMPRESS, against RFC
    /// 4978, is dropped with the old state machine, as after STARTTLS.
    pub(crate) async fn start_compression(&mut self) -> Result<(), WireError> {
        self.drain().await?;
        self.deflate = Some(Box::new(Deflate::new()));
        self.pending.clear();
        self.gate.discard_partial_line();
        self.proto = silent_server(self.options.clone());
        Ok(())
    }

    /// The spooled message an APPEND literal stands for, if it is a spool token.
    pub(crate) fn take_spooled(&mut self, literal: &[u8]) -> Option<Spooled> {
        self.spools.take(literal)
    }

    /// The session logged in: the input limits after authentication apply from now on.
    pub(crate) fn authenticated(&mut self, write_timeout: Duration) {
        self.gate.authenticated();
        self.write_timeout = write_timeout;
    }

    pub(crate) fn conn(&self) -> &Conn {
        &self.conn
    }

    /// The next decoded event, reading from the socket as needed, by `deadline`: the time
    /// is for the whole command, so a client trickling bytes does not extend it.
    pub(crate) async fn next_event(
        &mut self,
        deadline: Instant,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Decoded, WireError> {
        loop {
            if let Some(decoded) = self.decoded().await? {
                return Ok(decoded);
            }
            self.read(deadline, shutdown).await?;
        }
    }

    /// An event already decoded from what was read, once everything queued is written
    /// (IDLE checks for DONE this way without waiting for more input).
    pub(crate) async fn decoded(&mut self) -> Result<Option<Decoded>, WireError> {
        self.drain().await?;
        Ok(self.pending.pop_front())
    }

    /// Encodes and writes everything enqueued so far. Events decoded meanwhile are kept.
    pub(crate) async fn drain(&mut self) -> Result<(), WireError> {
        loop {
            match self.proto.next() {
                Ok(Event::ResponseSent { .. } | Event::GreetingSent { .. }) => {}
                Ok(event) => {
                    // The command's literals are complete: its reservation goes back.
                    self.budget.release(self.gate.take_reserved());
                    self.pending.push_back(Ok(event));
                }
                Err(Interrupt::Io(Io::Output(bytes))) => self.buffer(bytes).await?,
                Err(Interrupt::Io(Io::NeedMoreInput)) => return self.flush().await,
                Err(Interrupt::Error(e)) => self.pending.push_back(Err(e)),
            }
        }
    }

    /// Reads once and feeds the bytes to the state machine (used by IDLE, which also waits on
    /// mailbox changes; cancel-safe).
    pub(crate) async fn read_once(&mut self) -> Result<(), WireError> {
        let n = self.conn.read(&mut self.read_buf).await?;
        if n == 0 {
            return Err(WireError::Closed);
        }
        self.feed(n)
    }

    async fn read(
        &mut self,
        deadline: Instant,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), WireError> {
        if *shutdown.borrow() {
            return Err(WireError::Shutdown);
        }
        let deadline = tokio::time::Instant::from_std(deadline);
        tokio::select! {
            read = tokio::time::timeout_at(deadline, self.conn.read(&mut self.read_buf)) => match read {
                Err(_) => Err(WireError::TimedOut),
                Ok(Ok(0)) => Err(WireError::Closed),
                Ok(Ok(n)) => self.feed(n),
                Ok(Err(e)) => Err(WireError::Io(e)),
            },
            _ = shutdown.changed() => Err(WireError::Shutdown),
        }
    }

    /// Passes the `n` bytes just read (inflated first under COMPRESS) through the input
    /// limits to the state machine.
    fn feed(&mut self, n: usize) -> Result<(), WireError> {
        let read = std::mem::take(&mut self.read_buf);
        let fed = match self.deflate.take() {
            None => self.feed_plain(&read[..n]),
            Some(mut deflate) => {
                let fed = deflate
                    .inflate(&read[..n], |plain| self.feed_plain(plain))
                    .unwrap_or(Err(WireError::Refused("corrupt compressed stream")));
                self.deflate = Some(deflate);
                fed
            }
        };
        self.read_buf = read;
        fed
    }

    fn feed_plain(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        for step in self.gate.push(bytes, &self.budget) {
            match step {
                Step::Forward(bytes) => self.proto.enqueue_input(&bytes),
                // Without a tag there is nothing to answer: the client waits for ever.
                Step::RefuseLiteral { tag: None, .. } => {
                    return Err(WireError::Refused("literal too large"));
                }
                Step::RefuseLiteral {
                    tag: Some(tag),
                    size,
                    limit,
                    budget,
                } => {
                    let status = refusal(tag, size, limit, budget);
                    self.proto.enqueue_status(status);
                }
                Step::Close { reason } => return Err(WireError::Refused(reason)),
                Step::SpoolStart { size } => self.spools.start(size),
                Step::Spool(bytes) => self.spools.push(&bytes),
                Step::SpoolEnd => {
                    let token = self.spools.end();
                    self.proto.enqueue_input(&token);
                }
                Step::Extension(line) => self.divert_extension(line),
                Step::SearchReturn { tag, options } => {
                    bounded_push(&mut self.search_returns, (tag, options));
                }
                Step::SavedResult { tag } => bounded_push(&mut self.saved_marks, tag),
                // Never dropped (a lost marker would end a MULTIAPPEND early): past the bound,
                // the connection is closed instead.
                Step::AppendMore { tag } => {
                    if self.append_more.len() >= MAX_APPEND_MARKERS {
                        return Err(WireError::Refused("too many APPEND messages in flight"));
                    }
                    self.append_more.push_back(tag);
                }
            }
        }
        Ok(())
    }

    /// Writes `bytes` (compressed under COMPRESS), each piece within the write timeout.
    async fn write_bounded(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        if let Some(mut deflate) = self.deflate.take() {
            let written = self.write_pieces(deflate.deflate(bytes)).await;
            deflate.shrink();
            self.deflate = Some(deflate);
            return written;
        }
        self.write_pieces(bytes).await
    }

    async fn write_pieces(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        for piece in bytes.chunks(WRITE_PIECE) {
            tokio::time::timeout(self.write_timeout, self.conn.write_all(piece))
                .await
                .map_err(|_| WireError::TimedOut)??;
        }
        Ok(())
    }

    async fn buffer(&mut self, bytes: Vec<u8>) -> Result<(), WireError> {
        if self.out.is_empty() && bytes.len() >= FLUSH_AT {
            return self.write_bounded(&bytes).await;
        }
        self.out.extend_from_slice(&bytes);
        if self.out.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// The output buffer, for bytes encoded outside imap-next (the direct FETCH encoder),
    /// once everything imap-next had queued is in it: the order on the wire is the order of
    /// production. Call `flush_if_full` after writing.
    pub(crate) async fn raw_buffer(&mut self) -> Result<&mut Vec<u8>, WireError> {
        self.drain().await?;
        Ok(&mut self.out)
    }

    pub(crate) async fn flush_if_full(&mut self) -> Result<(), WireError> {
        if self.out.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    pub(crate) async fn flush(&mut self) -> Result<(), WireError> {
        if !self.out.is_empty() {
            let out = std::mem::take(&mut self.out);
            self.write_bounded(&out).await?;
            self.out = out;
            self.out.clear();
            if self.out.capacity() > 4 * FLUSH_AT {
                self.out = Vec::new();
            }
        }
        tokio::time::timeout(self.write_timeout, self.conn.flush())
            .await
            .map_err(|_| WireError::TimedOut)??;
        Ok(())
    }

    /// STARTTLS: after the tagged OK is written, the handshake takes the socket. Anything the
    /// client pipelined in clear text after STARTTLS is dropped with the old state machine
    /// (RFC 9051 11.1: no plaintext injection into the TLS session).
    pub(crate) async fn upgrade(&mut self, acceptor: &TlsAcceptor) -> Result<(), WireError> {
        self.drain().await?;
        let Conn::Plain(tcp) = std::mem::replace(&mut self.conn, Conn::Upgrading) else {
            return Err(WireError::Closed);
        };
        let tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
            .await
            .map_err(|_| WireError::TimedOut)??;
        self.conn = Conn::Tls(Box::new(tls));
        self.pending.clear();
        self.proto = silent_server(self.options.clone());
        Ok(())
    }

    /// Gives back the output buffer before a long wait (IDLE): a thousand idle sessions should
    /// not each keep the capacity of their largest response.
    pub(crate) fn release_buffers(&mut self) {
        if self.out.is_empty() {
            self.out = Vec::new();
        }
    }

    pub(crate) async fn close(&mut self) {
        let _ = self.drain().await;
        let _ = tokio::time::timeout(self.write_timeout, self.conn.shutdown()).await;
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.budget.release(self.gate.take_reserved());
    }
}

/// The answer to a synchronizing literal refused before its data: BAD when too large for the
/// phase, NO [LIMIT] when the server's budget for large literals is spent (try later).
fn refusal(
    tag: String,
    size: u64,
    limit: u64,
    budget: bool,
) -> imap_next::imap_types::response::Status<'static> {
    use super::responses::{bad, bye, code, no};
    use imap_next::imap_types::core::Tag;
    let Ok(tag) = Tag::try_from(tag) else {
        return bye(None, "literal refused");
    };
    if budget {
        return no(
            &tag,
            Some(code("LIMIT")),
            "too many large uploads in progress, try again later",
        );
    }
    bad(
        &tag,
        Some(code("TOOBIG")),
        &format!("literal of {size} bytes refused: the limit here is {limit} bytes"),
    )
}

/// A fresh state machine that has already "sent" its greeting (there is none after STARTTLS).
fn silent_server(options: Options) -> Server {
    let greeting = Greeting {
        kind: GreetingKind::Ok,
        code: None,
        text: super::responses::text("TLS active"),
    };
    let mut server = Server::new(options, greeting);
    loop {
        match server.next() {
            Err(Interrupt::Io(Io::Output(_))) => continue,
            _ => break server,
        }
    }
}
