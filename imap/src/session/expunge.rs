//! EXPUNGE and UID EXPUNGE (RFC 4315), and the silent expunge of CLOSE. Every expunge is
//! written to the audit trail.

use imap_next::imap_types::core::Tag;
use imap_next::imap_types::response::Code;
use imap_next::imap_types::sequence::SequenceSet;

use super::Session;
use super::responses::{code, no, ok};
use crate::sequence;

impl Session<'_> {
    pub(crate) async fn expunge(&mut self, tag: &Tag<'static>, uids: Option<SequenceSet>) {
        if !self.may_write(tag) {
            return;
        }
        match self.expunge_deleted(uids, true).await {
            Ok(()) => self.send_status(ok(tag, None, "EXPUNGE completed")),
            Err(e) => self.store_failed(tag, &e),
        }
    }

    /// Refuses (NO) a change to a read-only selection; true when writing is allowed.
    pub(crate) fn may_write(&mut self, tag: &Tag<'static>) -> bool {
        let Some(selected) = self.selected.as_ref() else {
            return false;
        };
        if !selected.target.write {
            self.send_status(no(
                tag,
                Some(code("NOPERM")),
                "read-only access to this shared mailbox",
            ));
            return false;
        }
        if selected.read_only {
            self.send_status(no(tag, Some(Code::ReadOnly), "folder opened with EXAMINE"));
            return false;
        }
        true
    }

    /// Removes the \Deleted messages (limited to `only` UIDs when given).
    pub(crate) async fn expunge_deleted(
        &mut self,
        only: Option<SequenceSet>,
        announce: bool,
    ) -> mssd_store::Result<()> {
        let qresync = self.enabled.qresync;
        let Some(selected) = self.selected.as_ref() else {
            return Ok(());
        };
        let allowed: Option<Vec<usize>> =
            only.map(|set| sequence::resolve(&set, selected.uids(), true).unwrap_or_default());
        let candidates: Vec<u32> = match &allowed {
            Some(indices) => indices
                .iter()
                .map(|i| &selected.metas()[*i])
                .filter(|m| is_deleted(&m.flags))
                .map(|m| m.uid)
                .collect(),
            None => selected
                .metas()
                .iter()
                .filter(|m| is_deleted(&m.flags))
                .map(|m| m.uid)
                .collect(),
        };
        if candidates.is_empty() {
            return Ok(());
        }
        let folder = selected.folder;
        let display = selected.target.display.clone();
        let shared = selected
            .target
            .shared_from
            .as_ref()
            .map(|a| a.as_str().to_owned());
        let removed = self.ctx.store.expunge(folder, candidates).await?;
        self.audit(
            "imap.expunge",
            display,
            "expunged",
            serde_json::json!({ "count": removed.len(), "uids": removed, "shared_mailbox": shared }),
        )
        .await;
        let Some(selected) = self.selected.as_mut() else {
            return Ok(());
        };
        let seqs = selected.remove(&removed);
        if announce {
            self.announce_removed(&removed, seqs, qresync);
        }
        Ok(())
    }
}

pub(crate) fn is_deleted(flags: &[String]) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case("\\Deleted"))
}
