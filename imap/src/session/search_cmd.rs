//! SEARCH and UID SEARCH. Flag, size, date and UID criteria run on the view in memory;
//! header and text criteria read messages in chunks, only when the criteria need them.

use std::num::{NonZeroU32, NonZeroU64};

use imap_next::imap_types::core::{Charset, Tag, Vec1};
use imap_next::imap_types::response::{Code, Data};
use imap_next::imap_types::search::SearchKey;
use std::ops::Range;
use std::sync::Arc;

use super::Session;
use super::responses::{no, ok};
use super::search_res;
use crate::search::{self, SearchScope};
use crate::search_return::{ReturnOption, esearch_line};
use crate::summary::Summary;

const CHUNK: usize = 200;

impl Session<'_> {
    pub(crate) async fn search(
        &mut self,
        tag: &Tag<'static>,
        charset: Option<Charset<'static>>,
        criteria: Vec1<SearchKey<'static>>,
        by_uid: bool,
    ) {
        // Taken first: a search refused below must not leave its options behind.
        let returns = self.wire.take_search_return(tag.as_ref());
        let saving = returns
            .as_ref()
            .is_some_and(|o| o.contains(&ReturnOption::Save));
        if saving && let Some(selected) = self.selected.as_mut() {
            // RFC 5182 2.1: a SEARCH that fails leaves `$` empty.
            selected.saved.clear();
        }
        if !self.charset_supported(tag, charset.as_ref()) {
            return;
        }
        let Some(hits) = self.search_hits(tag, criteria.as_ref()).await else {
            return;
        };
        // IMAP4rev2 answers every SEARCH with ESEARCH (RFC 9051 6.4.4: no RETURN is ALL).
        let returns = match returns {
            None if self.enabled.imap4rev2 => Some(vec![ReturnOption::All]),
            other => other,
        };
        let with_modseq = search::uses_modseq(criteria.as_ref());
        self.send_result(tag, by_uid, returns, hits, with_modseq, Data::Search)
            .await;
        self.send_status(ok(tag, None, "SEARCH completed"));
    }

    /// UTF-8 and US-ASCII only (RFC 9051 6.4.4); otherwise answers NO [BADCHARSET].
    pub(super) fn charset_supported(
        &mut self,
        tag: &Tag<'static>,
        charset: Option<&Charset<'static>>,
    ) -> bool {
        let Some(charset) = charset else {
            return true;
        };
        let name = charset.as_ref().to_ascii_uppercase();
        if name == "UTF-8" || name == "US-ASCII" {
            return true;
        }
        let allowed = ["UTF-8", "US-ASCII"]
            .into_iter()
            .filter_map(|c| Charset::try_from(c).ok())
            .collect();
        self.send_status(no(
            tag,
            Some(Code::BadCharset { allowed }),
            "unsupported charset",
        ));
        false
    }

    /// Sequence numbers, or UIDs, of the view's messages at `indices`.
    /// The answer to a SEARCH or SORT whose messages are `hits` (indices, in result order):
    /// `* ESEARCH` when RETURN options were given (saving `$` if asked), else `plain`
    /// (`* SEARCH` / `* SORT`); with a MODSEQ criterion, the highest mod-sequence of what is
    /// returned (RFC 7162 3.1.5), CONDSTORE turned on.
    pub(super) async fn send_result(
        &mut self,
        tag: &Tag<'static>,
        by_uid: bool,
        returns: Option<Vec<ReturnOption>>,
        hits: Vec<usize>,
        with_modseq: bool,
        plain: fn(Vec<NonZeroU32>, Option<NonZeroU64>) -> Data<'static>,
    ) {
        if with_modseq {
            self.enable_condstore();
        }
        match returns {
            Some(options) => {
                self.save_result(&options, &hits);
                let modseq = with_modseq
                    .then(|| self.highest_modseq(&search_res::returned(&options, &hits)))
                    .flatten();
                let numbers: Vec<u32> = self
                    .numbers_of(hits, by_uid)
                    .iter()
                    .map(|n| n.get())
                    .collect();
                self.send_esearch(tag, by_uid, &options, &numbers, modseq)
                    .await;
            }
            None => {
                let modseq = with_modseq.then(|| self.highest_modseq(&hits)).flatten();
                let numbers = self.numbers_of(hits, by_uid);
                self.send_data(plain(numbers, modseq));
            }
        }
    }

    /// The highest mod-sequence of the messages at `indices` (RFC 7162 3.1.5); None for none.
    pub(super) fn highest_modseq(&self, indices: &[usize]) -> Option<NonZeroU64> {
        let selected = self.selected.as_ref()?;
        let highest = indices.iter().map(|&i| selected.metas()[i].modseq).max()?;
        NonZeroU64::new(highest)
    }

    /// SEARCHRES: keeps what SAVE asks for of `hits` (indices) as the folder's `$`.
    pub(super) fn save_result(&mut self, options: &[ReturnOption], hits: &[usize]) {
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        let uids: Vec<u32> = hits.iter().map(|&i| selected.metas()[i].uid).collect();
        if let Some(mut saved) = search_res::to_save(options, &uids) {
            saved.sort_unstable();
            selected.saved = saved;
        }
    }

    /// `* ESEARCH` for `numbers` (none when SAVE was the only option).
    pub(super) async fn send_esearch(
        &mut self,
        tag: &Tag<'static>,
        by_uid: bool,
        options: &[ReturnOption],
        numbers: &[u32],
        modseq: Option<NonZeroU64>,
    ) {
        if search_res::only_save(options) {
            return;
        }
        let modseq = modseq.map(NonZeroU64::get);
        let line = esearch_line(tag.as_ref(), by_uid, options, numbers, modseq);
        if let Ok(out) = self.wire.raw_buffer().await {
            out.extend_from_slice(line.as_bytes());
        }
    }

    pub(super) fn numbers_of(&self, indices: Vec<usize>, by_uid: bool) -> Vec<NonZeroU32> {
        let Some(selected) = self.selected.as_ref() else {
            return Vec::new();
        };
        indices
            .into_iter()
            .filter_map(|index| {
                NonZeroU32::new(if by_uid {
                    selected.metas()[index].uid
                } else {
                    u32::try_from(index + 1).unwrap_or(u32::MAX)
                })
            })
            .collect()
    }

    /// Indices in the view of the messages matching `criteria`, ascending; None when a
    /// failure was answered already.
    pub(super) async fn search_hits(
        &mut self,
        tag: &Tag<'static>,
        criteria: &[SearchKey<'static>],
    ) -> Option<Vec<usize>> {
        let needs_bytes = search::needs_message_bytes(criteria);
        // Header criteria run on the header blocks of the summary cache; only BODY and TEXT
        // need whole messages read from the store.
        let headers_only = needs_bytes && !search::needs_body(criteria);
        let total = self.selected.as_ref().map(|s| s.uids().len())?;
        let mut hits = Vec::new();
        let mut start = 0;
        while start < total {
            let end = if needs_bytes {
                (start + CHUNK).min(total)
            } else {
                total
            };
            let texts = if needs_bytes {
                match self.search_texts(start..end, headers_only).await {
                    Ok(texts) => texts,
                    Err(e) => {
                        self.store_failed(tag, &e);
                        return None;
                    }
                }
            } else {
                Vec::new()
            };
            let selected = self.selected.as_ref()?;
            let scope = SearchScope {
                uids: selected.uids(),
                recent: &selected.recent,
            };
            for index in start..end {
                let meta = &selected.metas()[index];
                let message = texts
                    .get(index - start)
                    .and_then(|t| t.as_ref())
                    .map(SearchText::bytes);
                if search::matches(criteria, &scope, index, meta, message) {
                    hits.push(index);
                }
            }
            start = end;
        }
        Some(hits)
    }

    /// What the criteria are evaluated on for messages `range` of the view: header blocks
    /// (from the summary cache, reading only the messages missing from it) or whole messages.
    async fn search_texts(
        &self,
        range: Range<usize>,
        headers_only: bool,
    ) -> mssd_store::Result<Vec<Option<SearchText>>> {
        let Some(selected) = self.selected.as_ref() else {
            return Ok(Vec::new());
        };
        let metas = &selected.metas()[range];
        let summaries = &self.ctx.summaries;
        let cached: Vec<Option<Arc<Summary>>> = metas
            .iter()
            .map(|m| {
                if headers_only {
                    summaries.get(&m.sha256)
                } else {
                    None
                }
            })
            .collect();
        let wanted: Vec<u32> = metas
            .iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(m, _)| m.uid)
            .collect();
        let bodies = if wanted.is_empty() {
            Vec::new()
        } else {
            self.ctx
                .store
                .message_bodies(selected.folder, wanted)
                .await?
        };
        // Both in UID order: walk them together, moving each body out once.
        let mut bodies = bodies.into_iter().peekable();
        Ok(metas
            .iter()
            .zip(cached)
            .map(|(meta, cached)| {
                if let Some(summary) = cached {
                    return Some(SearchText::Header(summary));
                }
                while bodies.peek().is_some_and(|(uid, _)| *uid < meta.uid) {
                    bodies.next();
                }
                let (_, bytes) = bodies.next_if(|(uid, _)| *uid == meta.uid)?;
                Some(if headers_only {
                    SearchText::Header(summaries.insert(&meta.sha256, &bytes))
                } else {
                    SearchText::Whole(bytes)
                })
            })
            .collect())
    }
}

/// The bytes a message is searched in.
enum SearchText {
    Header(Arc<Summary>),
    Whole(Vec<u8>),
}

impl SearchText {
    fn bytes(&self) -> &[u8] {
        match self {
            SearchText::Header(summary) => &summary.header,
            SearchText::Whole(bytes) => bytes,
        }
    }
}
