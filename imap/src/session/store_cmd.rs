//! STORE and UID STORE: +FLAGS, -FLAGS, FLAGS (.SILENT), with CONDSTORE UNCHANGEDSINCE.
//! One store transaction per command, whatever the number of messages.

use imap_next::imap_types::command::StoreModifier;
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_next::imap_types::response::Code;
use imap_next::imap_types::sequence::SequenceSet;
use mssd_store::FlagOp;

use super::Session;
use super::responses::ok;
use super::selected::{flags_data, keywords_in};
use crate::sequence;

impl Session<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn store(
        &mut self,
        tag: &Tag<'static>,
        set: SequenceSet,
        kind: StoreType,
        response: StoreResponse,
        flags: Vec<Flag<'static>>,
        by_uid: bool,
        modifiers: Vec<StoreModifier>,
    ) {
        if !self.may_write(tag) {
            return;
        }
        let Some(uids) = self.resolve_uids(tag, &set, by_uid) else {
            return;
        };
        let unchanged_since = modifiers
            .iter()
            .map(|m| match m {
                StoreModifier::UnchangedSince(v) => *v,
            })
            .next();
        if unchanged_since.is_some() {
            self.enable_condstore();
        }
        let op = match kind {
            StoreType::Replace => FlagOp::Replace,
            StoreType::Add => FlagOp::Add,
            StoreType::Remove => FlagOp::Remove,
        };
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        let Some(folder) = self.selected.as_ref().map(|s| s.folder) else {
            return;
        };
        let outcome = match self
            .ctx
            .store
            .store_flags(folder, uids, op, flags, unchanged_since)
            .await
        {
            Ok(outcome) => outcome,
            Err(e) => return self.store_failed(tag, &e),
        };
        let condstore = self.enabled.condstore;
        let silent = response == StoreResponse::Silent;
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        let mut responses = Vec::new();
        for update in &outcome.updated {
            let Some(index) = selected.index_of(update.uid) else {
                continue;
            };
            let seq = selected.seq_of(index);
            let current = &selected.metas()[index];
            let changed = current.flags != update.flags || current.modseq != update.modseq;
            if changed {
                let meta = &mut selected.view_mut().metas[index];
                meta.flags.clone_from(&update.flags);
                meta.modseq = update.modseq;
            }
            let meta = &selected.metas()[index];
            // .SILENT still reports the new modseq under CONDSTORE (RFC 7162 3.2).
            if !silent || (condstore && changed) {
                let flags = selected.flags_for(meta);
                responses.push(flags_data(seq, meta, &flags, by_uid, condstore));
            }
        }
        let modified: Vec<u32> = if by_uid {
            outcome.modified.clone()
        } else {
            outcome
                .modified
                .iter()
                .filter_map(|uid| selected.index_of(*uid).map(|i| selected.seq_of(i).get()))
                .collect()
        };
        // A keyword new to the folder is announced (FLAGS) before the FETCH responses.
        let changed_keywords = keywords_in(outcome.updated.iter().map(|u| u.flags.as_slice()));
        self.announce_new_keywords(changed_keywords);
        for data in responses {
            self.send_data(data);
        }
        let code = sequence::compress(&modified).map(Code::Modified);
        self.send_status(ok(tag, code, "STORE completed"));
    }
}
