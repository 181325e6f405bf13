//! COPY and MOVE (RFC 6851), with UIDPLUS COPYUID (RFC 4315).

use std::num::NonZeroU32;

use imap_next::imap_types::core::{Tag, Vec1};
use imap_next::imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_next::imap_types::mailbox::Mailbox as ImapMailbox;
use imap_next::imap_types::response::Code;
use imap_next::imap_types::sequence::SequenceSet;

use super::Session;
use super::responses::{bad, code, no, ok, untagged_ok};

impl Session<'_> {
    pub(crate) async fn copy_or_move(
        &mut self,
        tag: &Tag<'static>,
        set: SequenceSet,
        mailbox: ImapMailbox<'static>,
        by_uid: bool,
        moving: bool,
    ) {
        if moving && !self.may_write(tag) {
            return;
        }
        let Some(uids) = self.resolve_uids(tag, &set, by_uid) else {
            return;
        };
        let Some(destination) = self.writable_destination(tag, &mailbox).await else {
            return;
        };
        let Some(source) = self.selected.as_ref().map(|s| s.folder) else {
            return;
        };
        let verb = if moving { "MOVE" } else { "COPY" };
        if uids.is_empty() {
            self.send_status(ok(tag, None, &format!("{verb} completed, no messages")));
            return;
        }
        let outcome = if moving {
            self.ctx
                .store
                .move_messages(source, uids, destination)
                .await
        } else {
            self.ctx
                .store
                .copy_messages(source, uids, destination)
                .await
        };
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(e) => return self.store_failed(tag, &e),
        };
        let copyuid = copy_uid(outcome.uid_validity, &outcome.pairs);
        if !moving {
            self.send_status(ok(tag, copyuid, "COPY completed"));
            return;
        }
        // RFC 6851 4.3: COPYUID in an untagged OK before the expunges.
        self.send_status(untagged_ok(copyuid, "moved"));
        let moved: Vec<u32> = outcome.pairs.iter().map(|(source, _)| *source).collect();
        let qresync = self.enabled.qresync;
        if let Some(selected) = self.selected.as_mut() {
            let seqs = selected.remove(&moved);
            self.announce_removed(&moved, seqs, qresync);
        }
        self.send_status(ok(tag, None, "MOVE completed"));
    }

    /// The folder APPEND, COPY or MOVE writes to: `NO [NOPERM]` without the write right,
    /// `NO [TRYCREATE]` when it does not exist (RFC 3501 6.4.7).
    pub(crate) async fn writable_destination(
        &mut self,
        tag: &Tag<'static>,
        mailbox: &ImapMailbox<'_>,
    ) -> Option<mssd_store::FolderId> {
        let target = self.target(tag, mailbox).await?;
        if !target.write {
            self.send_status(no(
                tag,
                Some(code("NOPERM")),
                "read-only access to this shared mailbox",
            ));
            return None;
        }
        self.folder_of_trycreate(tag, &target).await
    }

    /// The destination folder; a missing one gets NO [TRYCREATE] (RFC 3501 6.4.7).
    async fn folder_of_trycreate(
        &mut self,
        tag: &Tag<'static>,
        target: &super::names::Target,
    ) -> Option<mssd_store::FolderId> {
        match self.ctx.store.folders(target.owner).await {
            Ok(folders) => match folders.into_iter().find(|f| f.name == target.folder) {
                Some(folder) => Some(folder.id),
                None => {
                    self.send_status(no(tag, Some(Code::TryCreate), "no such destination folder"));
                    None
                }
            },
            Err(e) => {
                self.store_failed(tag, &e);
                None
            }
        }
    }

    /// UIDs of the messages a set names in the selected view; a sequence number past the end
    /// is a BAD (RFC 9051 6.4), unknown UIDs are ignored.
    pub(crate) fn resolve_uids(
        &mut self,
        tag: &Tag<'static>,
        set: &SequenceSet,
        by_uid: bool,
    ) -> Option<Vec<u32>> {
        let selected = self.selected.as_ref()?;
        match crate::sequence::resolve(set, selected.uids(), by_uid) {
            Ok(indices) => Some(indices.into_iter().map(|i| selected.uids()[i]).collect()),
            Err(e) => {
                self.send_status(bad(tag, None, &e.to_string()));
                None
            }
        }
    }
}

fn copy_uid(uid_validity: u32, pairs: &[(u32, u32)]) -> Option<Code<'static>> {
    let validity = NonZeroU32::new(uid_validity)?;
    let source = uid_set(pairs.iter().map(|(s, _)| *s))?;
    let destination = uid_set(pairs.iter().map(|(_, d)| *d))?;
    Some(Code::CopyUid {
        uid_validity: validity,
        source,
        destination,
    })
}

/// A UID set in the given order (COPYUID pairs source and destination UIDs by position, so
/// ranges are only merged when both sides are consecutive, which holds for ascending runs).
fn uid_set(uids: impl Iterator<Item = u32>) -> Option<UidSet> {
    let mut elements: Vec<(u32, u32)> = Vec::new();
    for uid in uids {
        match elements.last_mut() {
            Some((_, end)) if uid == *end + 1 => *end = uid,
            _ => elements.push((uid, uid)),
        }
    }
    let elements = elements
        .into_iter()
        .filter_map(|(start, end)| {
            let s = NonZeroU32::new(start)?;
            let e = NonZeroU32::new(end)?;
            Some(if s == e {
                UidElement::Single(s)
            } else {
                UidElement::Range(s, e)
            })
        })
        .collect::<Vec<_>>();
    Vec1::try_from(elements).ok().map(UidSet)
}
