//! The selected folder as the client knows it: UIDs in sequence order with their flags, and
//! how it catches up with changes made by other sessions and by SMTP delivery.
//!
//! Changes arrive through the store's change feed (a watch per folder), so checking costs
//! nothing when nothing changed. Expunges made by others are held back while the client runs
//! a command that uses sequence numbers (RFC 9051 7.5.1) and announced afterwards.

use std::num::{NonZeroU32, NonZeroU64};
use std::sync::Arc;

use imap_next::imap_types::command::CommandBody;
use imap_next::imap_types::core::{Atom, Vec1};
use imap_next::imap_types::fetch::MessageDataItem;
use imap_next::imap_types::flag::{Flag, FlagPerm};
use imap_next::imap_types::response::Code;
use imap_next::imap_types::response::Data;
use mssd_store::{FolderId, MessageMeta};
use tokio::sync::watch;

use super::Session;
use super::names::Target;
use crate::fetch::flags_to_imap;
use crate::sequence;
use crate::views::View;

pub(crate) struct Selected {
    pub target: Target,
    pub folder: FolderId,
    pub uid_validity: u32,
    pub read_only: bool,
    /// The messages; `uids()[i]` is the UID of sequence number i+1. Shared with other
    /// sessions until this one changes it.
    pub view: Arc<View>,
    /// Everything up to this modseq is reflected above.
    pub known_modseq: u64,
    pub watch: watch::Receiver<u64>,
    /// Expunged by others, not yet announced.
    pub pending_expunges: Vec<u32>,
    /// UIDs recent for this session (RFC 3501 2.3.2), ascending.
    pub recent: Vec<u32>,
    /// Keywords announced in FLAGS (those used in the folder), case-insensitively sorted.
    pub keywords: Vec<String>,
    /// SEARCHRES: the UIDs the last `SEARCH RETURN (SAVE)` kept, ascending (`$`).
    pub saved: Vec<u32>,
}

/// The system flags FLAGS always lists.
pub(crate) const SYSTEM_FLAGS: [&str; 5] =
    ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

/// The keywords set on any of `metas`, once each (case-insensitively), sorted.
pub(crate) fn keywords_of(metas: &[MessageMeta]) -> Vec<String> {
    keywords_in(metas.iter().map(|m| m.flags.as_slice()))
}

/// The keywords among some flag lists, once each (case-insensitively), sorted.
pub(crate) fn keywords_in<'f>(flag_lists: impl Iterator<Item = &'f [String]>) -> Vec<String> {
    let mut keywords: Vec<String> = flag_lists
        .flatten()
        .filter(|f| !f.starts_with('\\'))
        .cloned()
        .collect();
    keywords.sort_by_key(|k| k.to_ascii_lowercase());
    keywords.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    keywords
}

/// FLAGS: the system flags and `keywords`.
pub(crate) fn flag_list(keywords: &[String]) -> Vec<Flag<'static>> {
    SYSTEM_FLAGS
        .iter()
        .map(|f| f.to_string())
        .chain(keywords.iter().cloned())
        .filter_map(|name| match name.strip_prefix('\\') {
            Some(system) => Atom::try_from(system.to_owned()).ok().map(Flag::system),
            None => Atom::try_from(name).ok().map(Flag::keyword),
        })
        .collect()
}

impl Selected {
    pub fn uids(&self) -> &[u32] {
        &self.view.uids
    }

    pub fn metas(&self) -> &[MessageMeta] {
        &self.view.metas
    }

    /// The view, copied first if another session shares it.
    pub fn view_mut(&mut self) -> &mut View {
        Arc::make_mut(&mut self.view)
    }

    pub fn is_recent(&self, uid: u32) -> bool {
        self.recent.binary_search(&uid).is_ok()
    }

    /// The flags of `meta` as this session shows them: with `\Recent` when recent to it.
    pub fn flags_for<'m>(&self, meta: &'m MessageMeta) -> std::borrow::Cow<'m, [String]> {
        if self.is_recent(meta.uid) {
            let mut flags = meta.flags.clone();
            flags.push("\\Recent".to_owned());
            std::borrow::Cow::Owned(flags)
        } else {
            std::borrow::Cow::Borrowed(&meta.flags)
        }
    }

    pub fn index_of(&self, uid: u32) -> Option<usize> {
        self.view.uids.binary_search(&uid).ok()
    }

    pub fn seq_of(&self, index: usize) -> NonZeroU32 {
        NonZeroU32::new(u32::try_from(index + 1).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN)
    }

    /// Removes `uids` from the view; returns the sequence numbers to announce, in the order
    /// EXPUNGE responses must be sent (each one renumbers the following messages).
    pub fn remove(&mut self, uids: &[u32]) -> Vec<NonZeroU32> {
        let mut indices: Vec<usize> = uids.iter().filter_map(|u| self.index_of(*u)).collect();
        indices.sort_unstable();
        indices.dedup();
        let seqs = indices
            .iter()
            .enumerate()
            .map(|(removed_before, index)| self.seq_of(index - removed_before))
            .collect();
        if !indices.is_empty() {
            let gone: Vec<u32> = indices.iter().map(|i| self.view.uids[*i]).collect();
            let view = self.view_mut();
            view.uids.retain(|u| gone.binary_search(u).is_err());
            view.metas.retain(|m| gone.binary_search(&m.uid).is_err());
            self.recent.retain(|u| gone.binary_search(u).is_err());
        }
        seqs
    }
}

/// Whether untagged EXPUNGE may follow this command (not after FETCH, STORE, SEARCH by
/// sequence number: the client's numbers would shift under it).
pub(crate) fn may_announce_expunges(body: &CommandBody<'_>) -> bool {
    !matches!(
        body,
        CommandBody::Fetch { uid: false, .. }
            | CommandBody::Store { uid: false, .. }
            | CommandBody::Search { uid: false, .. }
            | CommandBody::Sort { uid: false, .. }
            | CommandBody::Thread { uid: false, .. }
            | CommandBody::Copy { uid: false, .. }
    )
}

/// FETCH (FLAGS) for a flag change seen in the view.
pub(crate) fn flags_data(
    seq: NonZeroU32,
    meta: &MessageMeta,
    flags: &[String],
    with_uid: bool,
    modseq: bool,
) -> Data<'static> {
    let mut items = Vec::with_capacity(3);
    if with_uid && let Some(uid) = NonZeroU32::new(meta.uid) {
        items.push(MessageDataItem::Uid(uid));
    }
    items.push(MessageDataItem::Flags(flags_to_imap(flags)));
    if modseq && let Some(m) = NonZeroU64::new(meta.modseq) {
        items.push(MessageDataItem::ModSeq(m));
    }
    Data::Fetch {
        seq,
        items: Vec1::unvalidated(items),
    }
}

impl Session<'_> {
    /// Brings the view up to date and tells the client: flag changes, expunges (when
    /// allowed), new messages.
    pub(crate) async fn sync_selected(&mut self, allow_expunge: bool) {
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        let published = *selected.watch.borrow_and_update();
        if published > selected.known_modseq {
            let folder = selected.folder;
            let since = selected.known_modseq;
            match self.ctx.store.changes_since(folder, since).await {
                Ok(changes) => self.apply_changes(changes),
                Err(e) => {
                    tracing::warn!(error = %e, "imap: reading folder changes failed");
                }
            }
        }
        if allow_expunge {
            self.announce_expunges();
        }
    }

    /// FLAGS (and PERMANENTFLAGS) again when `changed` (the keywords of the messages that just
    /// changed: the rest of the folder was announced at SELECT) holds one the client was not
    /// told of (RFC 3501 7.2.6: clients drop flags FLAGS does not list).
    pub(crate) fn announce_new_keywords(&mut self, changed: Vec<String>) {
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        let now = changed;
        let new = now.iter().any(|k| {
            !selected
                .keywords
                .iter()
                .any(|known| known.eq_ignore_ascii_case(k))
        });
        if !new {
            return;
        }
        // Keep the ones announced before too: FLAGS never shrinks within a selection.
        let mut all = selected.keywords.clone();
        all.extend(now);
        all.sort_by_key(|k| k.to_ascii_lowercase());
        all.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        selected.keywords = all;
        let flags = flag_list(&selected.keywords);
        let read_only = selected.read_only;
        self.send_data(Data::Flags(flags.clone()));
        if !read_only {
            let mut permanent: Vec<FlagPerm> = flags.into_iter().map(FlagPerm::Flag).collect();
            permanent.push(FlagPerm::Asterisk);
            self.send_status(super::responses::untagged_ok(
                Some(Code::PermanentFlags(permanent)),
                "flags permitted",
            ));
        }
    }

    fn apply_changes(&mut self, changes: mssd_store::Changes) {
        let condstore = self.enabled.condstore;
        let rev2 = self.enabled.imap4rev2;
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        let mut responses = Vec::new();
        let before = selected.uids().len();
        let changed_keywords = keywords_of(&changes.changed);
        for meta in changes.changed {
            match selected.index_of(meta.uid) {
                Some(index) => {
                    let current = &selected.metas()[index];
                    if current == &meta {
                        continue;
                    }
                    let flags_changed = current.flags != meta.flags;
                    let seq = selected.seq_of(index);
                    selected.view_mut().metas[index] = meta;
                    if flags_changed {
                        let meta = &selected.metas()[index];
                        let flags = selected.flags_for(meta);
                        responses.push(flags_data(seq, meta, &flags, true, condstore));
                    }
                }
                None if selected.uids().last().is_none_or(|last| meta.uid > *last) => {
                    let view = selected.view_mut();
                    view.uids.push(meta.uid);
                    view.metas.push(meta);
                }
                // Changed after being expunged from our view: nothing to show.
                None => {}
            }
        }
        for uid in changes.expunged {
            if selected.index_of(uid).is_some() && !selected.pending_expunges.contains(&uid) {
                selected.pending_expunges.push(uid);
            }
        }
        selected.known_modseq = selected.known_modseq.max(changes.folder.highest_modseq);
        let grew = selected.uids().len() > before;
        let exists = u32::try_from(selected.uids().len()).unwrap_or(u32::MAX);
        if grew && !rev2 {
            // New mail: recent to this session when it is the first to see it.
            let last = selected.uids().last().copied().unwrap_or(0);
            let claimed = if selected.read_only {
                self.ctx.recent.peek(selected.folder)
            } else {
                self.ctx.recent.claim(selected.folder, last)
            };
            let new_uids: Vec<u32> = selected.uids()[before..]
                .iter()
                .copied()
                .filter(|&uid| uid > claimed)
                .collect();
            selected.recent.extend(new_uids);
        }
        let recent = u32::try_from(selected.recent.len()).unwrap_or(u32::MAX);
        self.announce_new_keywords(changed_keywords);
        for data in responses {
            self.send_data(data);
        }
        if grew {
            self.send_data(Data::Exists(exists));
            if !rev2 {
                self.send_data(Data::Recent(recent));
            }
        }
    }

    fn announce_expunges(&mut self) {
        let qresync = self.enabled.qresync;
        let Some(selected) = self.selected.as_mut() else {
            return;
        };
        if selected.pending_expunges.is_empty() {
            return;
        }
        let mut uids = std::mem::take(&mut selected.pending_expunges);
        uids.sort_unstable();
        let seqs = selected.remove(&uids);
        self.announce_removed(&uids, seqs, qresync);
    }

    /// EXPUNGE responses, or one VANISHED with QRESYNC (RFC 7162 3.2.10).
    pub(crate) fn announce_removed(&mut self, uids: &[u32], seqs: Vec<NonZeroU32>, qresync: bool) {
        if qresync {
            if let Some(set) = sequence::compress(uids) {
                self.send_data(Data::Vanished {
                    earlier: false,
                    known_uids: set,
                });
            }
        } else {
            for seq in seqs {
                self.send_data(Data::Expunge(seq));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_yields_renumbered_sequence_numbers() {
        // Expunging UIDs 20 and 40 from [10,20,30,40,50]: seq 2, then 4 becomes 3.
        let metas: Vec<MessageMeta> = [10, 20, 30, 40, 50]
            .into_iter()
            .map(|uid| MessageMeta {
                uid,
                modseq: 1,
                flags: vec![],
                size: 1,
                internal_date: 0,
                sha256: String::new(),
            })
            .collect();
        let (_tx, watch) = watch::channel(0);
        let mut selected = Selected {
            target: Target {
                owner: mssd_store::MailboxId(1),
                shared_from: None,
                folder: "INBOX".into(),
                display: "INBOX".into(),
                read: true,
                write: true,
            },
            folder: FolderId(1),
            uid_validity: 1,
            read_only: false,
            view: Arc::new(View::new(metas)),
            known_modseq: 1,
            watch,
            pending_expunges: vec![],
            saved: vec![],
            recent: vec![20, 50],
            keywords: vec![],
        };
        let seqs: Vec<u32> = selected
            .remove(&[40, 20, 99])
            .into_iter()
            .map(|s| s.get())
            .collect();
        assert_eq!(seqs, vec![2, 3]);
        assert_eq!(selected.uids(), [10, 30, 50]);
        assert_eq!(
            selected.recent,
            [50],
            "an expunged recent message is no longer recent"
        );
        assert_eq!(
            selected.metas().iter().map(|m| m.uid).collect::<Vec<_>>(),
            vec![10, 30, 50]
        );
    }
}
