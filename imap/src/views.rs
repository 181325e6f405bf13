//! Message lists of selected folders, shared by the sessions that select the same folder.
//!
//! A session's view is an `Arc<View>`: selecting a folder another session holds costs a
//! lookup (plus the changes since that snapshot), and sessions that only read — most of them
//! sit in IDLE — share one copy. A session copies the list only when it changes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use mssd_store::{Changes, Folder, FolderId, MessageMeta, Store};

/// Messages of a folder in UID order; `uids[i]` is the UID of `metas[i]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    pub uids: Vec<u32>,
    pub metas: Vec<MessageMeta>,
}

impl View {
    pub fn new(metas: Vec<MessageMeta>) -> View {
        View {
            uids: metas.iter().map(|m| m.uid).collect(),
            metas,
        }
    }

    /// Applies committed changes: updated or new messages, expunged ones.
    pub fn apply(&mut self, changes: &Changes) {
        for meta in &changes.changed {
            match self.uids.binary_search(&meta.uid) {
                Ok(i) => self.metas[i] = meta.clone(),
                Err(i) => {
                    self.uids.insert(i, meta.uid);
                    self.metas.insert(i, meta.clone());
                }
            }
        }
        if !changes.expunged.is_empty() {
            let gone = &changes.expunged;
            self.uids.retain(|u| gone.binary_search(u).is_err());
            self.metas.retain(|m| gone.binary_search(&m.uid).is_err());
        }
    }
}

/// Snapshots by folder, each with the modseq it reflects. Entries live as long as a session
/// holds them.
#[derive(Default)]
pub struct FolderViews {
    entries: Mutex<HashMap<FolderId, (u64, Weak<View>)>>,
}

impl FolderViews {
    /// The view of `folder` and the modseq it reflects: the shared snapshot brought up to
    /// date, or a fresh listing.
    pub async fn open(
        &self,
        store: &dyn Store,
        folder: &Folder,
    ) -> mssd_store::Result<(Arc<View>, u64)> {
        let cached = self
            .lock()
            .get(&folder.id)
            .and_then(|(modseq, weak)| weak.upgrade().map(|view| (*modseq, view)));
        let (view, modseq) = match cached {
            Some((modseq, view)) if modseq >= folder.highest_modseq => return Ok((view, modseq)),
            Some((modseq, view)) => {
                let changes = store.changes_since(folder.id, modseq).await?;
                let mut fresh = View::clone(&view);
                fresh.apply(&changes);
                (Arc::new(fresh), changes.folder.highest_modseq)
            }
            // Listed after `folder` was read: later changes may be in it already; replaying
            // them from `highest_modseq` is harmless.
            None => (
                Arc::new(View::new(store.messages(folder.id).await?)),
                folder.highest_modseq,
            ),
        };
        let mut entries = self.lock();
        entries.retain(|_, (_, weak)| weak.strong_count() > 0);
        let newer = entries
            .get(&folder.id)
            .is_some_and(|(m, w)| *m > modseq && w.strong_count() > 0);
        if !newer {
            entries.insert(folder.id, (modseq, Arc::downgrade(&view)));
        }
        Ok((view, modseq))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<FolderId, (u64, Weak<View>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mssd_store::MailboxId;

    fn meta(uid: u32, modseq: u64, flags: &[&str]) -> MessageMeta {
        MessageMeta {
            uid,
            modseq,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            size: 10,
            internal_date: 0,
            sha256: String::new(),
        }
    }

    #[test]
    fn changes_update_insert_and_remove_in_uid_order() {
        let mut view = View::new(vec![meta(1, 1, &[]), meta(3, 1, &[]), meta(5, 1, &[])]);
        let folder = Folder {
            id: FolderId(1),
            mailbox: MailboxId(1),
            name: "INBOX".into(),
            special_use: None,
            uid_validity: 1,
            uid_next: 7,
            highest_modseq: 9,
            messages: 3,
            unseen: 3,
        };
        view.apply(&Changes {
            folder,
            changed: vec![meta(3, 8, &["\\Seen"]), meta(6, 9, &[])],
            expunged: vec![1],
        });
        assert_eq!(view.uids, vec![3, 5, 6]);
        assert_eq!(view.metas[0].flags, vec!["\\Seen".to_string()]);
        assert_eq!(
            view.metas.iter().map(|m| m.uid).collect::<Vec<_>>(),
            view.uids
        );
    }
}
