//! SORT and UID SORT (RFC 5256, SORT=DISPLAY of RFC 5957): the search criteria select the
//! messages, their keys (from the header blocks FETCH lists with, see `crate::sort`) order them.

use imap_next::imap_types::core::{Charset, Tag, Vec1};
use imap_next::imap_types::extensions::sort::SortCriterion;
use imap_next::imap_types::response::Data;
use imap_next::imap_types::search::SearchKey;

use super::Session;
use super::responses::ok;
use crate::sort::{SortKeys, sorted};

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
        if !self.charset_supported(tag, Some(&charset)) {
            return;
        }
        let Some(hits) = self.search_hits(tag, search_criteria.as_ref()).await else {
            return;
        };
        let mut keyed = Vec::with_capacity(hits.len());
        for chunk in hits.chunks(CHUNK) {
            let summaries = self.chunk_summaries(chunk, &mut None, None).await;
            let Some(selected) = self.selected.as_ref() else {
                return;
            };
            for (&index, summary) in chunk.iter().zip(summaries) {
                let meta = &selected.metas()[index];
                // A message that could not be read still sorts, on its metadata alone.
                let header = summary.as_ref().map_or(&[][..], |s| s.header.as_slice());
                keyed.push((index, SortKeys::of(header, meta)));
            }
        }
        let numbers = self.numbers_of(sorted(keyed, criteria.as_ref()), by_uid);
        self.send_data(Data::Sort(numbers, None));
        self.send_status(ok(tag, None, "SORT completed"));
    }
}
