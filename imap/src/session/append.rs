//! APPEND (with UIDPLUS APPENDUID) and MULTIAPPEND (RFC 3502). A literal over
//! `max_literal_size` is refused before any byte is sent; a large one was streamed to a blob
//! file as it arrived and is here a spool token (see `append_spool`), a small one arrives
//! whole. The store makes the messages durable before the OK.
//!
//! imap-codec reads one message per APPEND: the input gate cuts a MULTIAPPEND into one APPEND
//! per message, with the same tag and, after the first, a mailbox name of its own the client
//! cannot forge, and says which are followed by another (`Step::AppendMore`). The messages are gathered here and stored in one transaction once
//! the last is in: all of them or none (a quota the batch would exceed refuses the batch).

use std::num::NonZeroU32;

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::datetime::DateTime;
use imap_next::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_next::imap_types::flag::Flag;
use imap_next::imap_types::mailbox::Mailbox as ImapMailbox;
use imap_next::imap_types::response::{Code, CodeOther, Status};

use mssd_store::{Appended, FolderId, MessageBytes};

use super::Session;
use super::responses::{code, no, ok};

/// Messages one MULTIAPPEND may carry.
const MAX_MESSAGES: usize = 1000;
/// Bytes of small messages (those not streamed to files) one MULTIAPPEND may hold in memory.
const MAX_IN_MEMORY: usize = 16 << 20;

/// A MULTIAPPEND whose last message has not arrived yet.
pub(crate) struct PendingAppend {
    tag: Tag<'static>,
    /// The destination, or the refusal to answer once the last message is in.
    outcome: Result<FolderId, Status<'static>>,
    messages: Vec<Appended>,
    in_memory: usize,
    /// Bytes of the messages so far, spooled ones included.
    bytes: u64,
}

impl PendingAppend {
    pub(crate) fn tag(&self) -> &Tag<'static> {
        &self.tag
    }
}

impl Session<'_> {
    pub(crate) async fn append(
        &mut self,
        tag: &Tag<'static>,
        mailbox: ImapMailbox<'static>,
        flags: Vec<Flag<'static>>,
        date: Option<DateTime>,
        message: LiteralOrLiteral8<'static>,
    ) {
        let bytes = match message {
            LiteralOrLiteral8::Literal(literal) => literal.into_inner().into_owned(),
            LiteralOrLiteral8::Literal8(literal) => literal.data.into_owned(),
        };
        // Taken first, so that a refused APPEND drops its file.
        let spooled = self.wire.take_spooled(&bytes);
        let more = self.wire.take_append_more(tag.as_ref());
        let continued = self.wire.is_continuation(&mailbox);
        let mut batch = match self.pending_append.take() {
            // A further message of the same MULTIAPPEND (its mailbox argument is the gate's).
            Some(batch) if continued && batch.tag == *tag => batch,
            // A further message of an APPEND already answered (imap-next refused an earlier
            // message): nothing to store, nothing more to say.
            _ if continued => {
                tracing::debug!(peer = %self.peer, "imap: dropping the rest of a refused APPEND");
                return;
            }
            _ => {
                let outcome = match self.writable_destination(tag, &mailbox).await {
                    Some(folder) => Ok(folder),
                    // The refusal it answered is held until the last message is in.
                    None => Err(self
                        .tagged
                        .take()
                        .unwrap_or_else(|| no(tag, None, "refused"))),
                };
                PendingAppend {
                    tag: tag.clone(),
                    outcome,
                    messages: Vec::new(),
                    in_memory: 0,
                    bytes: 0,
                }
            }
        };
        if batch.outcome.is_ok() {
            let in_memory = if spooled.is_none() { bytes.len() } else { 0 };
            let message = match spooled {
                None if bytes.is_empty() => Err(no(tag, None, "empty message")),
                _ if batch.messages.len() >= MAX_MESSAGES
                    || batch.in_memory + in_memory > MAX_IN_MEMORY =>
                {
                    Err(no(
                        tag,
                        Some(code("LIMIT")),
                        &format!(
                            "one APPEND takes at most {MAX_MESSAGES} messages and \
                             {MAX_IN_MEMORY} bytes of small ones"
                        ),
                    ))
                }
                None => Ok(MessageBytes::from(bytes)),
                Some(spooled) => self.finish_spool(tag, spooled).await,
            };
            let internal_date =
                date.map_or_else(|| super::now_ms() / 1000, |d| d.as_ref().timestamp());
            match message {
                // The messages of one APPEND together stay within the size of one message:
                // spooled files wait on disk until the batch is stored.
                Ok(message)
                    if batch.bytes + message.len() as u64
                        > self.ctx.config.max_literal_size as u64 =>
                {
                    drop(message);
                    batch.messages.clear();
                    batch.outcome = Err(no(
                        tag,
                        Some(code("TOOBIG")),
                        &format!(
                            "the messages of one APPEND may total {} bytes",
                            self.ctx.config.max_literal_size
                        ),
                    ));
                }
                Ok(message) => {
                    batch.bytes += message.len() as u64;
                    batch.in_memory += in_memory;
                    batch.messages.push(Appended {
                        message,
                        flags: flags.iter().map(|f| f.to_string()).collect(),
                        internal_date,
                    });
                }
                Err(refusal) => {
                    // Refused: the messages so far (and their files) go at once.
                    batch.messages.clear();
                    batch.outcome = Err(refusal);
                }
            }
        }
        if more {
            self.pending_append = Some(batch);
            return;
        }
        self.store_batch(tag, batch).await;
    }

    /// A MULTIAPPEND left unfinished (the client sent something else, or a message imap-next
    /// refused was already answered): its messages are dropped, their files with them.
    pub(crate) fn abandon_append(&mut self) {
        if let Some(batch) = self.pending_append.take() {
            tracing::debug!(
                peer = %self.peer,
                messages = batch.messages.len(),
                "imap: MULTIAPPEND interrupted, nothing stored"
            );
        }
    }

    async fn store_batch(&mut self, tag: &Tag<'static>, batch: PendingAppend) {
        let folder = match batch.outcome {
            Ok(folder) => folder,
            Err(refusal) => return self.send_status(refusal),
        };
        match self.ctx.store.append_all(folder, batch.messages).await {
            Ok(delivered) => {
                let uids: Vec<u32> = delivered.iter().map(|d| d.uid).collect();
                let code = appenduid(self.uid_validity_of(folder).await, &uids);
                self.send_status(ok(tag, code, "APPEND completed"));
            }
            Err(e) => self.store_failed(tag, &e),
        }
    }

    async fn finish_spool(
        &mut self,
        tag: &Tag<'static>,
        spooled: super::append_spool::Spooled,
    ) -> Result<MessageBytes, Status<'static>> {
        match tokio::task::spawn_blocking(move || spooled.finish()).await {
            Ok(Ok(message)) => Ok(message),
            failed => {
                let error = match failed {
                    Ok(Err(e)) => e,
                    Err(e) => e.to_string(),
                    Ok(Ok(_)) => String::new(),
                };
                tracing::error!(peer = %self.peer, %error, "imap: storing an APPEND body failed");
                Err(no(
                    tag,
                    Some(code("UNAVAILABLE")),
                    "temporary failure, try again",
                ))
            }
        }
    }

    async fn uid_validity_of(&self, folder: FolderId) -> u32 {
        match self.ctx.store.folder(folder).await {
            Ok(Some(folder)) => folder.uid_validity,
            _ => 0,
        }
    }
}

/// `APPENDUID validity uids` (RFC 4315): one UID, or the set of a MULTIAPPEND's.
fn appenduid(uid_validity: u32, uids: &[u32]) -> Option<Code<'static>> {
    let uid_validity = NonZeroU32::new(uid_validity)?;
    match uids {
        [uid] => Some(Code::AppendUid {
            uid_validity,
            uid: NonZeroU32::new(*uid)?,
        }),
        [first, .., last] if uids.windows(2).all(|w| w[1] == w[0] + 1) => Some(Code::Other(
            CodeOther::unvalidated(format!("APPENDUID {uid_validity} {first}:{last}").into_bytes()),
        )),
        _ => {
            let set: Vec<String> = uids.iter().map(u32::to_string).collect();
            Some(Code::Other(CodeOther::unvalidated(
                format!("APPENDUID {uid_validity} {}", set.join(",")).into_bytes(),
            )))
        }
    }
}
