//! SELECT / EXAMINE (with CONDSTORE and QRESYNC parameters), CLOSE and UNSELECT.

use std::num::{NonZeroU32, NonZeroU64};

use imap_next::imap_types::command::SelectParameter;
use imap_next::imap_types::core::Tag;
use imap_next::imap_types::flag::FlagPerm;
use imap_next::imap_types::mailbox::Mailbox as ImapMailbox;
use imap_next::imap_types::response::{Code, Data};
use imap_next::imap_types::sequence::SequenceSet;

use super::Session;
use super::responses::{bad, ok, untagged_ok};
use super::selected::{Selected, flag_list, flags_data, keywords_of};
use crate::sequence;

/// QRESYNC's request to resynchronise from a known state (RFC 7162 3.2.5).
struct Resync {
    uid_validity: u32,
    modseq: u64,
    known_uids: Option<SequenceSet>,
}

impl Session<'_> {
    pub(crate) async fn select(
        &mut self,
        tag: &Tag<'static>,
        mailbox: ImapMailbox<'static>,
        parameters: Vec<SelectParameter>,
        examine: bool,
    ) {
        if self.selected.take().is_some() && (self.enabled.qresync || self.enabled.imap4rev2) {
            self.send_status(untagged_ok(Some(Code::Closed), "previous folder closed"));
        }
        let mut resync = None;
        for parameter in parameters {
            match parameter {
                SelectParameter::CondStore => self.enabled.condstore = true,
                SelectParameter::QResync {
                    uid_validity,
                    mod_sequence_value,
                    known_uids,
                    ..
                } => {
                    if !self.enabled.qresync {
                        self.send_status(bad(
                            tag,
                            None,
                            "QRESYNC must be enabled first (ENABLE QRESYNC)",
                        ));
                        return;
                    }
                    resync = Some(Resync {
                        uid_validity: uid_validity.get(),
                        modseq: mod_sequence_value.get(),
                        known_uids,
                    });
                }
            }
        }
        let Some(target) = self.target(tag, &mailbox).await else {
            return;
        };
        let Some(folder) = self.folder_of(tag, &target).await else {
            return;
        };
        let (view, known_modseq) = match self.ctx.views.open(self.ctx.store.as_ref(), &folder).await
        {
            Ok(opened) => opened,
            Err(e) => return self.store_failed(tag, &e),
        };
        let watch = self.ctx.store.change_feed().watch(folder.id, known_modseq);
        let read_only = examine || !target.write;
        if let Some(owner) = &target.shared_from {
            self.audit(
                "imap.shared.select",
                owner.as_str().to_owned(),
                "selected",
                serde_json::json!({ "folder": target.folder, "read_only": read_only }),
            )
            .await;
        }
        let exists = u32::try_from(view.metas.len()).unwrap_or(u32::MAX);
        let first_unseen = view
            .metas
            .iter()
            .position(|m| !m.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Seen")));
        // SELECT claims the messages no session was told of yet; EXAMINE only looks. IMAP4rev2
        // has no \Recent: such a session claims nothing and is told of nothing recent.
        let rev2 = self.enabled.imap4rev2;
        let last = view.uids.last().copied().unwrap_or(0);
        let claimed = if read_only || rev2 {
            self.ctx.recent.peek(folder.id)
        } else {
            self.ctx.recent.claim(folder.id, last)
        };
        let recent: Vec<u32> = match rev2 {
            true => Vec::new(),
            false => view.uids.iter().copied().filter(|&u| u > claimed).collect(),
        };
        let keywords = keywords_of(&view.metas);
        let selected = Selected {
            target,
            folder: folder.id,
            uid_validity: folder.uid_validity,
            read_only,
            view,
            known_modseq,
            watch,
            pending_expunges: Vec::new(),
            recent,
            keywords,
            saved: Vec::new(),
        };
        // FLAGS lists the keywords in use too: clients drop flags it does not list.
        let flags = flag_list(&selected.keywords);
        self.send_data(Data::Flags(flags.clone()));
        self.send_data(Data::Exists(exists));
        if rev2 {
            // RFC 9051 6.3.2: LIST instead of RECENT and UNSEEN.
            self.send_selected_list(&selected.target.display).await;
        } else {
            let recent_count = u32::try_from(selected.recent.len()).unwrap_or(u32::MAX);
            self.send_data(Data::Recent(recent_count));
            if let Some(index) = first_unseen {
                self.send_status(untagged_ok(
                    Some(Code::Unseen(selected.seq_of(index))),
                    "first unseen",
                ));
            }
        }
        let nz = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        self.send_status(untagged_ok(
            Some(Code::UidValidity(nz(folder.uid_validity))),
            "UIDs valid",
        ));
        self.send_status(untagged_ok(
            Some(Code::UidNext(nz(folder.uid_next))),
            "predicted next UID",
        ));
        let permanent = if read_only {
            Vec::new()
        } else {
            let mut p: Vec<FlagPerm> = flags.into_iter().map(FlagPerm::Flag).collect();
            p.push(FlagPerm::Asterisk);
            p
        };
        self.send_status(untagged_ok(
            Some(Code::PermanentFlags(permanent)),
            "flags permitted",
        ));
        if let Some(modseq) = NonZeroU64::new(folder.highest_modseq) {
            self.send_status(untagged_ok(
                Some(Code::HighestModSeq(modseq)),
                "highest modseq",
            ));
        }
        self.selected = Some(selected);
        if let Some(resync) = resync {
            self.resync(resync).await;
        }
        let (access, text) = if read_only {
            (Code::ReadOnly, "EXAMINE completed")
        } else {
            (Code::ReadWrite, "SELECT completed")
        };
        self.send_status(ok(tag, Some(access), text));
    }

    /// QRESYNC: what the client missed since its modseq: VANISHED (EARLIER) and changed flags.
    async fn resync(&mut self, resync: Resync) {
        let Some(selected) = self.selected.as_ref() else {
            return;
        };
        if resync.uid_validity != selected.uid_validity {
            return;
        }
        let changes = match self
            .ctx
            .store
            .changes_since(selected.folder, resync.modseq)
            .await
        {
            Ok(changes) => changes,
            Err(e) => {
                tracing::warn!(error = %e, "imap: QRESYNC changes failed");
                return;
            }
        };
        let mut vanished = changes.expunged;
        if let Some(known) = &resync.known_uids
            && let Ok(indices) = sequence::resolve(known, &vanished, true)
        {
            vanished = indices.into_iter().map(|i| vanished[i]).collect();
        }
        if let Some(set) = sequence::compress(&vanished) {
            self.send_data(Data::Vanished {
                earlier: true,
                known_uids: set,
            });
        }
        let Some(selected) = self.selected.as_ref() else {
            return;
        };
        let updates: Vec<Data<'static>> = changes
            .changed
            .iter()
            .filter_map(|meta| {
                let index = selected.index_of(meta.uid)?;
                let meta = &selected.metas()[index];
                let flags = selected.flags_for(meta);
                Some(flags_data(selected.seq_of(index), meta, &flags, true, true))
            })
            .collect();
        for data in updates {
            self.send_data(data);
        }
    }

    /// CLOSE expunges \Deleted messages silently (unless read-only); UNSELECT does not.
    pub(crate) async fn close_folder(&mut self, tag: &Tag<'static>, expunge: bool) {
        if expunge {
            let writable = self.selected.as_ref().is_some_and(|s| !s.read_only);
            if writable && let Err(e) = self.expunge_deleted(None, false).await {
                return self.store_failed(tag, &e);
            }
        }
        self.selected = None;
        self.send_status(ok(
            tag,
            None,
            if expunge {
                "CLOSE completed"
            } else {
                "UNSELECT completed"
            },
        ));
    }
}
