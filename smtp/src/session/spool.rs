//! A large message's body leaves memory while it arrives: past [`SPOOL_CHUNK`] bytes, what
//! follows the header block is appended to a blob file, so a session holds its header block
//! and at most one chunk whatever the message's size. The header block stays in memory because
//! the end of the message still edits it (trace and submission fields). The file is fsynced
//! once, at the final dot, before the message's row is committed.

use mssd_store::StagedBlob;

use super::Session;
use super::state::Spool;
use crate::replies;
use crate::reply::Reply;

/// Bytes gathered in memory before they are written out.
pub(super) const SPOOL_CHUNK: usize = 128 * 1024;
/// A header block longer than this is spooled from here on (the rest of the header with the
/// body): fields we add then land at its end, still in the header.
const MAX_HEAD: usize = 128 * 1024;
/// Bytes of the previous chunk scanned again with the next, so a marker split across two
/// chunks is still seen.
const OVERLAP: usize = 4096;

/// Spooled messages read back whole at once (those that may carry documents).
static READ_BACKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

impl Session<'_> {
    /// Moves the body received so far to the spool once enough has gathered.
    pub(super) fn spool_if_large(&mut self) -> Result<(), Reply> {
        let Some(tx) = self.tx.as_mut() else {
            return Ok(());
        };
        if tx.failed.is_some() {
            // Refused already (the reply waits for the end of the content): discard.
            tx.body.clear();
            return Ok(());
        }
        let head_len = match &tx.spool {
            Some(spool) => spool.head_len,
            None => mssd_store::header_end(&tx.body, MAX_HEAD).unwrap_or(MAX_HEAD),
        };
        if tx.body.len() < head_len + SPOOL_CHUNK {
            return Ok(());
        }
        // The write goes to the page cache (the fsync waits for the final dot), a cost of the
        // order of copying the chunk: done here, so the buffer is reused, never reallocated.
        let spool = match tx.spool.take() {
            Some(spool) => spool,
            None => Spool {
                writer: self.ctx.store.new_blob().map_err(|e| {
                    tracing::error!(id = %tx.id, error = %e, "smtp: spooling a message failed");
                    replies::local_error()
                })?,
                head_len,
                may_carry_xdm: false,
                overlap: Vec::new(),
            },
        };
        let spool = tx.spool.insert(spool);
        // The last byte stays: the end of DATA may take it back (smtp-proto pops the CR of the
        // final CRLF it pushed before seeing the LF).
        let end = tx.body.len() - 1;
        let chunk = &tx.body[head_len..end];
        // The chunk, and its start after the end of the previous one (a marker across both).
        spool
            .overlap
            .extend_from_slice(&chunk[..chunk.len().min(OVERLAP)]);
        spool.may_carry_xdm |= mssd_cda::attachment::may_carry_xdm(&spool.overlap)
            || mssd_cda::attachment::may_carry_xdm(chunk);
        let keep = chunk.len().min(OVERLAP);
        spool.overlap.clear();
        spool
            .overlap
            .extend_from_slice(&chunk[chunk.len() - keep..]);
        if let Err(e) = spool.writer.write(chunk) {
            tracing::error!(id = %tx.id, error = %e, "smtp: spooling a message failed");
            return Err(replies::local_error());
        }
        tx.body.drain(head_len..end);
        Ok(())
    }

    /// Spooling failed: the rest of the content is discarded and `reply` given at its end.
    pub(super) fn fail_transaction(&mut self, reply: Reply) {
        if let Some(tx) = self.tx.as_mut() {
            tx.failed = Some(reply);
            tx.body = Vec::new();
            tx.spool = None;
        }
    }

    /// At the final dot: the spooled body made durable, or read back into memory when the
    /// document checks need the whole message.
    pub(super) async fn finish_spool(
        &mut self,
        tx: &mut super::state::Transaction,
    ) -> Result<Option<StagedBlob>, Reply> {
        let Some(mut spool) = tx.spool.take() else {
            return Ok(None);
        };
        // What arrived since the last chunk goes after it: the head alone stays in memory.
        if let Err(e) = spool.writer.write(&tx.body[spool.head_len..]) {
            tracing::error!(id = %tx.id, error = %e, "smtp: spooling a message failed");
            return Err(replies::local_error());
        }
        tx.body.truncate(spool.head_len);
        let whole = spool.may_carry_xdm || mssd_cda::attachment::may_carry_xdm(&tx.body);
        if whole {
            // A few at a time: each holds a whole message (up to the size limit) in memory.
            // The permit lives as long as the transaction.
            tx.whole_in_memory = READ_BACKS.acquire().await.ok();
        }
        let outcome = tokio::task::spawn_blocking(move || {
            if whole {
                spool.writer.read_back().map(Err)
            } else {
                spool.writer.finish().map(Ok)
            }
        })
        .await;
        match outcome {
            Ok(Ok(Ok(staged))) => Ok(Some(staged)),
            Ok(Ok(Err(body))) => {
                tx.body.extend_from_slice(&body);
                Ok(None)
            }
            Ok(Err(e)) => {
                tracing::error!(id = %tx.id, error = %e, "smtp: storing a message body failed");
                Err(replies::local_error())
            }
            Err(e) => {
                tracing::error!(id = %tx.id, error = %e, "smtp: storing a message body failed");
                Err(replies::local_error())
            }
        }
    }
}
