//! Getting a message ready for the writer: its body spilled to a blob file when large, its
//! listing summary computed; and the body file released when the write failed.

use super::SqliteStore;
use crate::MessageBytes;
use crate::error::{Error, Result};

/// Whether a message goes into folders (and gets a listing summary) or only onto the queue.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Listed {
    Yes,
    No,
}

/// A job that failed rolls back: its body file is no row's, and goes with the message.
pub(super) fn release_on_error<T>(outcome: &Result<T>, message: &MessageBytes) {
    if outcome.is_err()
        && let Some(body) = &message.body
    {
        body.set_claimed(false);
    }
}

impl SqliteStore {
    /// `message` ready to store, on the caller's task rather than the writer's: a large
    /// in-memory body moved to a blob file (on the blocking pool), and its listing summary.
    pub(super) async fn prepared(
        &self,
        mut message: MessageBytes,
        listed: Listed,
    ) -> Result<(MessageBytes, Option<Vec<u8>>)> {
        let summarizer = self.summarizer.as_ref().filter(|_| listed == Listed::Yes);
        let summary = summarizer.map(|summarize| {
            let end = crate::header_end(&message.head, message.head.len());
            summarize(&message.head[..end.unwrap_or(message.head.len())])
        });
        if message.body.is_some() || message.head.len() <= crate::SPILL_THRESHOLD {
            return Ok((message, summary));
        }
        let blobs = self.blobs.clone();
        tokio::task::spawn_blocking(move || {
            blobs.spill(&mut message)?;
            Ok((message, summary))
        })
        .await
        .map_err(|e| Error::Io {
            path: self.blobs.root().display().to_string(),
            detail: format!("writing a blob file: the blocking task failed: {e}"),
        })?
    }
}
