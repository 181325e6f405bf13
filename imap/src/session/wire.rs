//! The I/O driver of one connection around imap-next's sans-I/O server: feeds it bytes,
//! writes what it encodes, and hands out the events it decodes.
//!
//! Responses are buffered and written when the buffer is large or when the state machine
//! needs input, so a FETCH of 10,000 messages goes out in large writes. Events decoded
//! while draining (pipelined commands) are kept in order for `next_event`.

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use imap_next::imap_types::response::{Greeting, GreetingKind};
use imap_next::server::{Error as ProtocolError, Event, Options, Server};
use imap_next::{Interrupt, Io, State};
use mssd_certs::Conn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// Write when this much output is buffered, without waiting for the command to end.
const FLUSH_AT: usize = 128 * 1024;
/// Per-connection read buffer: small, because most connections sit idle (TLS has its own).
const READ_CHUNK: usize = 4 * 1024;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the connection cannot go on.
#[derive(Debug)]
pub(crate) enum WireError {
    Closed,
    Io(io::Error),
    TimedOut,
    Shutdown,
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
}

impl Wire {
    pub(crate) fn new(conn: Conn, options: Options, greeting: Greeting<'static>) -> Wire {
        Wire {
            conn,
            proto: Server::new(options.clone(), greeting),
            options,
            out: Vec::new(),
            pending: VecDeque::new(),
            read_buf: vec![0; READ_CHUNK].into_boxed_slice(),
        }
    }

    pub(crate) fn conn(&self) -> &Conn {
        &self.conn
    }

    /// The next decoded event, reading from the socket as needed.
    pub(crate) async fn next_event(
        &mut self,
        timeout: Duration,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Decoded, WireError> {
        loop {
            if let Some(decoded) = self.decoded().await? {
                return Ok(decoded);
            }
            self.read(timeout, shutdown).await?;
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
                Ok(event) => self.pending.push_back(Ok(event)),
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
        self.proto.enqueue_input(&self.read_buf[..n]);
        Ok(())
    }

    async fn read(
        &mut self,
        timeout: Duration,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), WireError> {
        if *shutdown.borrow() {
            return Err(WireError::Shutdown);
        }
        tokio::select! {
            read = tokio::time::timeout(timeout, self.conn.read(&mut self.read_buf)) => match read {
                Err(_) => Err(WireError::TimedOut),
                Ok(Ok(0)) => Err(WireError::Closed),
                Ok(Ok(n)) => {
                    self.proto.enqueue_input(&self.read_buf[..n]);
                    Ok(())
                }
                Ok(Err(e)) => Err(WireError::Io(e)),
            },
            _ = shutdown.changed() => Err(WireError::Shutdown),
        }
    }

    async fn buffer(&mut self, bytes: Vec<u8>) -> Result<(), WireError> {
        if self.out.is_empty() && bytes.len() >= FLUSH_AT {
            self.conn.write_all(&bytes).await?;
            return Ok(());
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
            self.conn.write_all(&self.out).await?;
            self.out.clear();
            if self.out.capacity() > 4 * FLUSH_AT {
                self.out = Vec::new();
            }
        }
        self.conn.flush().await?;
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
        let _ = self.conn.shutdown().await;
    }
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
