//! Large APPEND messages streamed to blob files as they arrive (the input gate diverts their
//! bytes, see `input_limits`): a connection holds the message's header block and at most one
//! chunk in memory, whatever the message's size, and the bytes are written once.
//!
//! imap-next receives a token in place of each spooled literal; APPEND exchanges it here for
//! the spooled message. Spools complete in the order of their commands, and commands are
//! handled in that order, so spools older than the one asked for belong to commands that
//! never reached APPEND (a syntax error) and are dropped then, their files with them.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use mssd_store::{BlobWriter, MessageBytes, Store};

use crate::input_limits::SPOOL_TOKEN_LEN;

/// Bytes gathered before a write to the file.
const WRITE_CHUNK: usize = 128 * 1024;
/// A header block longer than this goes to the file with the body from there on.
const MAX_HEAD: usize = 128 * 1024;

/// A message received whole into a (not yet fsynced) blob file.
pub(crate) struct Spooled {
    token: Vec<u8>,
    /// The header block in memory and the body in the file; or why spooling failed.
    result: Result<(Vec<u8>, BlobWriter), String>,
}

impl Spooled {
    /// The message, its body file made durable (blocking: run it on the blocking pool).
    pub(crate) fn finish(self) -> Result<MessageBytes, String> {
        let (head, writer) = self.result?;
        let body = writer.finish().map_err(|e| e.to_string())?;
        Ok(MessageBytes {
            head,
            body: Some(body),
        })
    }
}

struct InProgress {
    head: Vec<u8>,
    /// The header block is complete: what follows goes to the file.
    head_done: bool,
    pending: Vec<u8>,
    writer: Result<BlobWriter, String>,
}

pub(crate) struct AppendSpools {
    store: Arc<dyn Store>,
    current: Option<InProgress>,
    done: VecDeque<Spooled>,
    /// Tokens are this per-connection random value and a counter: a client cannot make a
    /// message of its own be taken for a spool by guessing.
    salt: u64,
    count: u64,
}

impl AppendSpools {
    pub(crate) fn new(store: Arc<dyn Store>) -> AppendSpools {
        AppendSpools {
            store,
            current: None,
            done: VecDeque::new(),
            salt: std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
            count: 0,
        }
    }

    /// The connection's random salt, for other unguessable keys.
    pub(crate) fn salt_hex(&self) -> String {
        format!("{:016x}", self.salt)
    }

    /// A spooled literal of `size` bytes begins. Blocking (creates the file).
    pub(crate) fn start(&mut self, size: u64) {
        let writer = self.store.new_blob().map_err(|e| e.to_string());
        let head_capacity = usize::try_from(size).unwrap_or(MAX_HEAD).min(8 * 1024);
        self.current = Some(InProgress {
            head: Vec::with_capacity(head_capacity),
            head_done: false,
            pending: Vec::new(),
            writer,
        });
    }

    /// More bytes of the literal. Writes go to the page cache (the fsync waits for APPEND).
    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        let Some(spool) = self.current.as_mut() else {
            return;
        };
        if !spool.head_done {
            let scan_from = spool.head.len().saturating_sub(3);
            let room = MAX_HEAD - spool.head.len();
            let take = bytes.len().min(room);
            spool.head.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            let end = match head_end(&spool.head, scan_from) {
                Some(end) => Some(end),
                None if spool.head.len() >= MAX_HEAD => Some(MAX_HEAD),
                None => None,
            };
            if let Some(end) = end {
                spool.head_done = true;
                spool.pending.extend_from_slice(&spool.head[end..]);
                spool.head.truncate(end);
                spool.head.shrink_to_fit();
            }
        }
        if spool.head_done {
            spool.pending.extend_from_slice(bytes);
            if spool.pending.len() >= WRITE_CHUNK {
                write_pending(spool);
            }
        }
    }

    /// The literal is complete: the token imap-next receives in its place.
    pub(crate) fn end(&mut self) -> Vec<u8> {
        self.count += 1;
        let token = format!("X-Mssd-Spool: {:016x}{:016x}\r\n", self.salt, self.count);
        debug_assert_eq!(token.len(), SPOOL_TOKEN_LEN);
        let token = token.into_bytes();
        if let Some(mut spool) = self.current.take() {
            write_pending(&mut spool);
            let result = spool.writer.map(|writer| (spool.head, writer));
            self.done.push_back(Spooled {
                token: token.clone(),
                result,
            });
        }
        token
    }

    /// The spool `literal` stands for, if it is a token of ours.
    pub(crate) fn take(&mut self, literal: &[u8]) -> Option<Spooled> {
        if literal.len() != SPOOL_TOKEN_LEN {
            return None;
        }
        // Older spools, dropped on the way, remove their files.
        super::side_data::take_in_order(&mut self.done, |s| s.token == literal)
    }
}

/// Where the header block ends (after its blank line), looking from `scan_from` on (the
/// bytes before were looked at already).
fn head_end(head: &[u8], scan_from: usize) -> Option<usize> {
    if scan_from == 0 {
        return mssd_store::header_end(head, head.len());
    }
    head[scan_from..]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| scan_from + p + 4)
}

fn write_pending(spool: &mut InProgress) {
    if let Ok(writer) = spool.writer.as_mut()
        && !spool.pending.is_empty()
        && let Err(e) = writer.write(&spool.pending)
    {
        spool.writer = Err(e.to_string());
    }
    spool.pending.clear();
}
