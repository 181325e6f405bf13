//! SORT and UID SORT (RFC 5256, SORT=DISPLAY of RFC 5957), THREAD and UID THREAD: the search
//! criteria select the messages, their header blocks (those FETCH lists with) give the keys
//! and references (see `crate::sort`).

use imap_next::imap_types::core::{Charset, Tag, Vec1};
use imap_next::imap_types::extensions::sort::SortCriterion;
use imap_next::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_next::imap_types::response::Data;
use imap_next::imap_types::search::SearchKey;

use super::Session;
use super::responses::{bad, ok};
use crate::sort::{SortKeys, ThreadMessage, ordered_subject, references, sorted};

/// Messages whose header blocks are read at a time.
const CHUNK: usize = 500;

impl Session<'_> {
    pub(crate) async fn sort(
        &mut self,
        tag: &Tag<'static>,
        criteria: Vec1<SortCriterion>,
        charset: Charset<'static>,
        search_criteria: Vec1<SearchKey<'static>>,
        by_uid: bool,
    ) {
        // ESORT (RFC 5267): RETURN options, taken first like SEARCH's.
        let returns = self.wire.take_search_return(tag.as_ref());
        if returns
            .as_ref()
            .is_some_and(|o| o.contains(&crate::search_return::ReturnOption::Save))
            && let Some(selected) = self.selected.as_mut()
        {
            // RFC 5182 2.1: a command with SAVE that fails leaves `$` empty.
            selected.saved.clear();
        }
        if !self.charset_supported(tag, Some(&charset)) {
            return;
        }
        let Some(hits) = self.search_hits(tag, search_criteria.as_ref()).await else {
            return;
        };
        let keyed = self
            .per_message(&hits, |index, header, meta| {
                (index, SortKeys::of(header, meta, criteria.as_ref()))
            })
            .await;
        let order = sorted(keyed, criteria.as_ref());
        let with_modseq = crate::search::uses_modseq(search_criteria.as_ref());
        self.send_result(tag, by_uid, returns, order, with_modseq, Data::Sort)
            .await;
        self.send_status(ok(tag, None, "SORT completed"));
    }
}

impl Session<'_> {
    pub(crate) async fn thread(
        &mut self,
        tag: &Tag<'static>,
        algorithm: ThreadingAlgorithm<'static>,
        charset: Charset<'static>,
        search_criteria: Vec1<SearchKey<'static>>,
        by_uid: bool,
    ) {
        let threading = match algorithm {
            ThreadingAlgorithm::OrderedSubject => ordered_subject,
            ThreadingAlgorithm::References => references,
            other => {
                let text = format!("unknown threading algorithm {other}");
                return self.send_status(bad(tag, None, &text));
            }
        };
        if !self.charset_supported(tag, Some(&charset)) {
            return;
        }
        let Some(hits) = self.search_hits(tag, search_criteria.as_ref()).await else {
            return;
        };
        let messages = self.per_message(&hits, ThreadMessage::of).await;
        let Some(selected) = self.selected.as_ref() else {
            return;
        };
        let threads = threading(&messages).encode(&messages, |index| {
            if by_uid {
                selected.metas()[index].uid
            } else {
                u32::try_from(index + 1).unwrap_or(u32::MAX)
            }
        });
        // Written directly: the nesting of threads is ours to bound, not the encoder's.
        let written = async {
            let out = self.wire.raw_buffer().await?;
            out.extend_from_slice(b"* THREAD ");
            out.extend_from_slice(&threads);
            out.extend_from_slice(b"\r\n");
            self.wire.flush_if_full().await
        };
        if written.await.is_err() {
            return;
        }
        self.send_status(ok(tag, None, "THREAD completed"));
    }

    /// `f(index, header block, metadata)` for each message of `indices`, reading header
    /// blocks a chunk at a time (a message that cannot be read gets an empty one).
    async fn per_message<T>(
        &self,
        indices: &[usize],
        f: impl Fn(usize, &[u8], &mssd_store::MessageMeta) -> T,
    ) -> Vec<T> {
        let mut out = Vec::with_capacity(indices.len());
        for chunk in indices.chunks(CHUNK) {
            let summaries = self.chunk_summaries(chunk, &mut None, None).await;
            let Some(selected) = self.selected.as_ref() else {
                break;
            };
            for (&index, summary) in chunk.iter().zip(summaries) {
                let header = summary.as_ref().map_or(&[][..], |s| s.header.as_slice());
                out.push(f(index, header, &selected.metas()[index]));
            }
        }
        out
    }
}
