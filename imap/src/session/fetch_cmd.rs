//! FETCH and UID FETCH, with CONDSTORE CHANGEDSINCE and QRESYNC VANISHED.
//!
//! Messages are served in chunks: one store read per chunk for the bytes that are needed
//! (body sections, or ENVELOPE/BODYSTRUCTURE not yet in the shared summary cache), then the
//! chunk's responses are encoded and written before the next chunk is read. So memory stays
//! bounded and a FETCH 1:* (FLAGS ENVELOPE) on a warm folder reads no message at all.

use std::sync::Arc;

use imap_next::imap_types::command::FetchModifier;
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName};
use imap_next::imap_types::response::Data;
use imap_next::imap_types::sequence::SequenceSet;
use mssd_store::FlagOp;

use super::Session;
use super::responses::{bad, ok};
use super::wire::WireError;
use crate::fetch::{self, FetchPlan};
use crate::sequence;
use crate::summary::Summary;

/// Messages per store read and per write.
const CHUNK: usize = 250;

/// What is being read ahead for the next chunk.
pub(super) type Prefetch = tokio::task::JoinHandle<mssd_store::Result<MissingRead>>;

/// What the store gave for messages missing from the summary cache: the listing summaries
/// stored with them at delivery and, for those without one, their bytes. Both UID order.
#[derive(Default)]
pub(super) struct MissingRead {
    summaries: Vec<(u32, Vec<u8>)>,
    bodies: Vec<(u32, Vec<u8>)>,
}

/// Reads the stored summaries of `wanted`, and the bytes of those that have none.
async fn read_missing(
    store: &dyn mssd_store::Store,
    folder: mssd_store::FolderId,
    wanted: Vec<u32>,
) -> mssd_store::Result<MissingRead> {
    if wanted.is_empty() {
        return Ok(MissingRead::default());
    }
    let summaries = store.listing_summaries(folder, wanted.clone()).await?;
    let rest: Vec<u32> = wanted
        .into_iter()
        .filter(|uid| summaries.binary_search_by_key(uid, |(u, _)| *u).is_err())
        .collect();
    let bodies = if rest.is_empty() {
        Vec::new()
    } else {
        store.message_bodies(folder, rest).await?
    };
    Ok(MissingRead { summaries, bodies })
}

/// UIDs of `chunk` whose summary is not in `cached`.
fn missing(
    chunk: &[usize],
    metas: &[mssd_store::MessageMeta],
    cached: &[Option<Arc<Summary>>],
) -> Vec<u32> {
    chunk
        .iter()
        .zip(cached)
        .filter(|(_, s)| s.is_none())
        .map(|(&i, _)| metas[i].uid)
        .collect()
}

impl Session<'_> {
    pub(crate) async fn fetch(
        &mut self,
        tag: &Tag<'static>,
        set: SequenceSet,
        names: MacroOrMessageDataItemNames<'static>,
        by_uid: bool,
        modifiers: Vec<FetchModifier>,
    ) {
        let mut changed_since = None;
        let mut vanished = false;
        for modifier in &modifiers {
            match modifier {
                FetchModifier::ChangedSince(v) => changed_since = Some(v.get()),
                FetchModifier::Vanished => vanished = true,
            }
        }
        if vanished && (!by_uid || !self.enabled.qresync || changed_since.is_none()) {
            self.send_status(bad(
                tag,
                None,
                "VANISHED needs UID FETCH, QRESYNC enabled and CHANGEDSINCE",
            ));
            return;
        }
        let asks_modseq = match &names {
            MacroOrMessageDataItemNames::MessageDataItemNames(items) => {
                items.contains(&MessageDataItemName::ModSeq)
            }
            MacroOrMessageDataItemNames::Macro(_) => false,
        };
        if changed_since.is_some() || asks_modseq {
            self.enable_condstore();
        }
        let Some(selected) = self.selected.as_ref() else {
            return;
        };
        let mut indices = match sequence::resolve(&set, selected.uids(), by_uid) {
            Ok(indices) => indices,
            Err(e) => {
                self.send_status(bad(tag, None, &e.to_string()));
                return;
            }
        };
        if let Some(since) = changed_since {
            indices.retain(|i| selected.metas()[*i].modseq > since);
        }
        let mut plan = fetch::plan(&names, by_uid, self.enabled.condstore);
        if let (true, Some(since)) = (vanished, changed_since) {
            self.send_vanished_earlier(&set, since).await;
        }
        if plan.marks_seen
            && self
                .selected
                .as_ref()
                .is_some_and(|s| !s.read_only && s.target.write)
        {
            self.mark_seen(&indices).await;
            if !plan.items.contains(&MessageDataItemName::Flags) {
                plan.items.push(MessageDataItemName::Flags);
            }
        }
        let direct = fetch::wire::direct(&plan);
        let chunks: Vec<&[usize]> = indices.chunks(CHUNK).collect();
        // The direct path reads the next chunk's messages (those missing from the summary
        // cache) while it parses the current one: the store reads on its own thread.
        let mut prefetch: Option<Prefetch> = None;
        for (k, chunk) in chunks.iter().enumerate() {
            if direct {
                let next = chunks.get(k + 1).copied();
                if self
                    .fetch_chunk_direct(&plan, chunk, &mut prefetch, next)
                    .await
                    .is_err()
                {
                    return;
                }
                continue;
            }
            let responses = self.fetch_chunk(&plan, chunk).await;
            for data in responses {
                self.send_data(data);
            }
            if self.wire.drain().await.is_err() {
                return;
            }
        }
        self.send_status(ok(tag, None, "FETCH completed"));
    }

    /// The listing FETCH (UID, FLAGS, ENVELOPE, RFC822.SIZE, MODSEQ) encoded directly from
    /// the summaries' pre-encoded envelopes into the connection's output buffer.
    async fn fetch_chunk_direct(
        &mut self,
        plan: &FetchPlan,
        chunk: &[usize],
        prefetch: &mut Option<Prefetch>,
        next: Option<&[usize]>,
    ) -> Result<(), WireError> {
        let summaries = if plan.needs_summary {
            self.chunk_summaries(chunk, prefetch, next).await
        } else {
            Vec::new()
        };
        let out = self.wire.raw_buffer().await?;
        let Some(selected) = self.selected.as_ref() else {
            return Ok(());
        };
        for (n, &index) in chunk.iter().enumerate() {
            let meta = &selected.metas()[index];
            let summary = summaries.get(n).and_then(|s| s.as_deref());
            if plan.needs_summary && summary.is_none() {
                continue;
            }
            fetch::wire::write_fetch(
                out,
                selected.seq_of(index).get(),
                plan,
                meta,
                &selected.flags_for(meta),
                summary,
            );
        }
        self.wire.flush_if_full().await
    }

    /// Summaries of a chunk's messages: from the cache, computing the missing ones from
    /// bytes read ahead (`prefetch`, started by the previous chunk) or read now; and starts
    /// the read of the `next` chunk's missing messages before computing.
    pub(super) async fn chunk_summaries(
        &self,
        chunk: &[usize],
        prefetch: &mut Option<Prefetch>,
        next: Option<&[usize]>,
    ) -> Vec<Option<Arc<Summary>>> {
        let Some(selected) = self.selected.as_ref() else {
            return Vec::new();
        };
        let summaries = &self.ctx.summaries;
        let metas = selected.metas();
        let mut found = summaries.get_many(chunk.iter().map(|&i| metas[i].sha256.as_str()));
        let read = match prefetch.take() {
            Some(read) => read.await.unwrap_or_else(|e| {
                Err(mssd_store::Error::Sqlite(format!("read-ahead task: {e}")))
            }),
            None => {
                let wanted = missing(chunk, metas, &found);
                read_missing(self.ctx.store.as_ref(), selected.folder, wanted).await
            }
        };
        // Messages left without a summary are left out of the response, like expunged ones.
        let read = read.unwrap_or_else(|e| {
            tracing::error!(error = %e, "imap: reading messages for FETCH failed");
            MissingRead::default()
        });
        if let Some(next) = next {
            let cached = summaries.get_many(next.iter().map(|&i| metas[i].sha256.as_str()));
            let wanted = missing(next, metas, &cached);
            if !wanted.is_empty() {
                let store = Arc::clone(&self.ctx.store);
                let folder = selected.folder;
                *prefetch = Some(tokio::spawn(async move {
                    read_missing(store.as_ref(), folder, wanted).await
                }));
            }
        }
        for (&index, slot) in chunk.iter().zip(found.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            let meta = &metas[index];
            let stored = read
                .summaries
                .binary_search_by_key(&meta.uid, |(uid, _)| *uid)
                .ok()
                .and_then(|i| Summary::from_stored(&read.summaries[i].1));
            if let Some(summary) = stored {
                *slot = Some(summaries.insert_summary(&meta.sha256, summary));
            } else if let Ok(i) = read.bodies.binary_search_by_key(&meta.uid, |(uid, _)| *uid) {
                *slot = Some(summaries.insert(&meta.sha256, &read.bodies[i].1));
            }
        }
        found
    }

    async fn fetch_chunk(&self, plan: &FetchPlan, chunk: &[usize]) -> Vec<Data<'static>> {
        let Some(selected) = self.selected.as_ref() else {
            return Vec::new();
        };
        let summaries = &self.ctx.summaries;
        let mut cached: Vec<Option<Arc<Summary>>> = Vec::with_capacity(chunk.len());
        let mut wanted = Vec::new();
        let metas = selected.metas();
        let mut looked_up = if plan.needs_summary {
            summaries.get_many(chunk.iter().map(|&i| metas[i].sha256.as_str()))
        } else {
            Vec::new()
        }
        .into_iter();
        for &index in chunk {
            let meta = &metas[index];
            let summary = looked_up.next().flatten();
            let complete = summary
                .as_ref()
                .is_some_and(|s| !plan.needs_structures || s.structures().is_some());
            if plan.needs_bytes || (plan.needs_summary && !complete) {
                wanted.push(meta.uid);
            }
            cached.push(summary);
        }
        let bodies = if wanted.is_empty() {
            Vec::new()
        } else {
            match self.ctx.store.message_bodies(selected.folder, wanted).await {
                Ok(bodies) => bodies,
                Err(e) => {
                    tracing::error!(error = %e, "imap: reading messages for FETCH failed");
                    Vec::new()
                }
            }
        };
        let mut responses = Vec::with_capacity(chunk.len());
        for (&index, summary) in chunk.iter().zip(cached) {
            let meta = &selected.metas()[index];
            let bytes = bodies
                .binary_search_by_key(&meta.uid, |(uid, _)| *uid)
                .ok()
                .map(|i| bodies[i].1.as_slice());
            let summary = summary.or_else(|| {
                bytes
                    .filter(|_| plan.needs_summary)
                    .map(|bytes| summaries.insert(&meta.sha256, bytes))
            });
            if let (Some(summary), Some(bytes), true) = (&summary, bytes, plan.needs_structures) {
                summary.structures_of(bytes);
            }
            // A message expunged meanwhile by another session has no bytes: leave it out.
            if (plan.needs_bytes && bytes.is_none()) || (plan.needs_summary && summary.is_none()) {
                continue;
            }
            let flags = selected.flags_for(meta);
            match fetch::items(plan, meta, &flags, summary.as_deref(), bytes) {
                Ok(items) => responses.push(Data::Fetch {
                    seq: selected.seq_of(index),
                    items,
                }),
                Err(e) => tracing::warn!(uid = meta.uid, error = %e, "imap: FETCH item failed"),
            }
        }
        responses
    }

    /// BODY[...] without PEEK sets \Seen (RFC 9051 6.4.5), in one transaction.
    async fn mark_seen(&mut self, indices: &[usize]) {
        let Some(selected) = self.selected.as_ref() else {
            return;
        };
        let unseen: Vec<u32> = indices
            .iter()
            .map(|i| &selected.metas()[*i])
            .filter(|m| !m.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Seen")))
            .map(|m| m.uid)
            .collect();
        if unseen.is_empty() {
            return;
        }
        let folder = selected.folder;
        let outcome = self
            .ctx
            .store
            .store_flags(folder, unseen, FlagOp::Add, vec!["\\Seen".into()], None)
            .await;
        match outcome {
            Ok(outcome) => {
                if let Some(selected) = self.selected.as_mut() {
                    for update in outcome.updated {
                        if let Some(index) = selected.index_of(update.uid) {
                            let meta = &mut selected.view_mut().metas[index];
                            meta.flags = update.flags;
                            meta.modseq = update.modseq;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "imap: setting \\Seen failed"),
        }
    }

    /// QRESYNC: UIDs of the set expunged after `since` (RFC 7162 3.2.6).
    async fn send_vanished_earlier(&mut self, set: &SequenceSet, since: u64) {
        let Some(folder) = self.selected.as_ref().map(|s| s.folder) else {
            return;
        };
        let Ok(changes) = self.ctx.store.changes_since(folder, since).await else {
            return;
        };
        let expunged = changes.expunged;
        let in_set: Vec<u32> = sequence::resolve(set, &expunged, true)
            .unwrap_or_default()
            .into_iter()
            .map(|i| expunged[i])
            .collect();
        if let Some(known_uids) = sequence::compress(&in_set) {
            self.send_data(Data::Vanished {
                earlier: true,
                known_uids,
            });
        }
    }
}
