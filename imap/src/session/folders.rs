//! Folder commands: CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE, LIST/LSUB, STATUS, and the
//! name resolution every folder-taking command shares.

use std::num::NonZeroU32;

use imap_next::imap_types::core::{QuotedChar, Tag};
use imap_next::imap_types::flag::FlagNameAttribute;
use imap_next::imap_types::mailbox::{ListMailbox, Mailbox as ImapMailbox};
use imap_next::imap_types::response::{Code, Data};
use imap_next::imap_types::status::{StatusDataItem, StatusDataItemName};
use mssd_store::{Folder, Grant, MailboxId};

use super::Session;
use super::names::{self, DELIMITER, NameError, SHARED_PREFIX, Target};
use super::responses::{code, no, ok};

impl Session<'_> {
    pub(crate) fn user_id(&self) -> MailboxId {
        self.user.as_ref().map_or(MailboxId(0), |u| u.mailbox.id)
    }

    /// Mailboxes granted to the user, with their ids (a grant on a removed mailbox is skipped).
    pub(crate) async fn grants(&self) -> Vec<(MailboxId, Grant)> {
        let Some(user) = &self.user else {
            return Vec::new();
        };
        let grants = match self.ctx.store.grants_to(&user.mailbox.address).await {
            Ok(grants) => grants,
            Err(e) => {
                tracing::error!(error = %e, "imap: reading grants failed");
                return Vec::new();
            }
        };
        let mut resolved = Vec::with_capacity(grants.len());
        for grant in grants {
            if let Ok(Some(mailbox)) = self.ctx.store.mailbox(&grant.mailbox).await {
                resolved.push((mailbox.id, grant));
            }
        }
        resolved
    }

    /// Resolves a command's folder name, answering NO itself when it names nothing usable.
    pub(crate) async fn target(
        &mut self,
        tag: &Tag<'static>,
        mailbox: &ImapMailbox<'_>,
    ) -> Option<Target> {
        let resolved = match names::mailbox_name(mailbox, self.utf8_names()) {
            Ok(name) => {
                let grants = if name.len() >= SHARED_PREFIX.len()
                    && name[..SHARED_PREFIX.len()].eq_ignore_ascii_case(SHARED_PREFIX)
                {
                    self.grants().await
                } else {
                    Vec::new()
                };
                names::resolve(self.user_id(), &grants, &name)
            }
            Err(e) => Err(e),
        };
        match resolved {
            Ok(target) => Some(target),
            Err(NameError::Invalid) => {
                self.send_status(no(tag, Some(code("CANNOT")), "invalid folder name"));
                None
            }
            Err(NameError::NotGranted | NameError::Container) => {
                self.send_status(no(tag, Some(code("NONEXISTENT")), "no such folder"));
                None
            }
        }
    }

    /// The folder a target names, if it exists.
    pub(crate) async fn folder_of(
        &mut self,
        tag: &Tag<'static>,
        target: &Target,
    ) -> Option<Folder> {
        match self.ctx.store.folders(target.owner).await {
            Ok(folders) => {
                let found = folders.into_iter().find(|f| f.name == target.folder);
                if found.is_none() {
                    self.send_status(no(tag, Some(code("NONEXISTENT")), "no such folder"));
                }
                found
            }
            Err(e) => {
                self.store_failed(tag, &e);
                None
            }
        }
    }

    /// Answers a store failure: precise codes for what the client can act on, a generic
    /// temporary failure (detail in the log only) for the rest.
    pub(crate) fn store_failed(&mut self, tag: &Tag<'static>, e: &mssd_store::Error) {
        use mssd_store::Error as E;
        let status = match e {
            E::QuotaExceeded { .. } => no(tag, Some(Code::OverQuota), "quota exceeded"),
            E::NotFound { .. } => no(tag, Some(code("NONEXISTENT")), "no such folder or message"),
            E::AlreadyExists { .. } => no(tag, Some(code("ALREADYEXISTS")), "already exists"),
            E::Invalid { reason, .. } => no(tag, Some(code("CANNOT")), reason),
            other => {
                tracing::error!(peer = %self.peer, error = %other, "imap: store operation failed");
                no(
                    tag,
                    Some(code("UNAVAILABLE")),
                    "temporary failure, try again",
                )
            }
        };
        self.send_status(status);
    }

    fn own_only(&mut self, tag: &Tag<'static>, target: &Target, what: &str) -> bool {
        if target.shared_from.is_some() {
            self.send_status(no(
                tag,
                Some(code("NOPERM")),
                &format!("{what} is not allowed in shared mailboxes"),
            ));
            return false;
        }
        true
    }

    pub(crate) async fn create(&mut self, tag: &Tag<'static>, mailbox: ImapMailbox<'static>) {
        let Some(target) = self.target(tag, &mailbox).await else {
            return;
        };
        if !self.own_only(tag, &target, "CREATE") {
            return;
        }
        if target.folder == "INBOX" {
            self.send_status(no(tag, Some(code("ALREADYEXISTS")), "INBOX always exists"));
            return;
        }
        let existing: Vec<String> = match self.ctx.store.folders(target.owner).await {
            Ok(folders) => folders.into_iter().map(|f| f.name).collect(),
            Err(e) => return self.store_failed(tag, &e),
        };
        if existing.contains(&target.folder) {
            self.send_status(no(
                tag,
                Some(code("ALREADYEXISTS")),
                "folder already exists",
            ));
            return;
        }
        // RFC 3501 6.3.3: create the missing superiors too.
        let parts: Vec<&str> = target.folder.split(DELIMITER).collect();
        for depth in 1..=parts.len() {
            let name = parts[..depth].join("/");
            if existing.contains(&name) || (depth == 1 && name.eq_ignore_ascii_case("INBOX")) {
                continue;
            }
            if let Err(e) = self.ctx.store.create_folder(target.owner, &name).await {
                return self.store_failed(tag, &e);
            }
        }
        self.send_status(ok(tag, None, "CREATE completed"));
    }

    pub(crate) async fn delete(&mut self, tag: &Tag<'static>, mailbox: ImapMailbox<'static>) {
        let Some(target) = self.target(tag, &mailbox).await else {
            return;
        };
        if !self.own_only(tag, &target, "DELETE") {
            return;
        }
        if target.folder == "INBOX" {
            self.send_status(no(tag, Some(code("CANNOT")), "INBOX cannot be deleted"));
            return;
        }
        if self.is_selected(&target) {
            self.selected = None;
        }
        match self
            .ctx
            .store
            .delete_folder(target.owner, &target.folder)
            .await
        {
            Ok(()) => {
                self.audit(
                    "imap.folder.delete",
                    target.display.clone(),
                    "deleted",
                    serde_json::json!({}),
                )
                .await;
                self.send_status(ok(tag, None, "DELETE completed"))
            }
            Err(e) => self.store_failed(tag, &e),
        }
    }

    pub(crate) async fn rename(
        &mut self,
        tag: &Tag<'static>,
        from: ImapMailbox<'static>,
        to: ImapMailbox<'static>,
    ) {
        let Some(source) = self.target(tag, &from).await else {
            return;
        };
        let Some(destination) = self.target(tag, &to).await else {
            return;
        };
        if !self.own_only(tag, &source, "RENAME") || !self.own_only(tag, &destination, "RENAME") {
            return;
        }
        if source.folder == "INBOX" {
            self.send_status(no(
                tag,
                Some(code("CANNOT")),
                "renaming INBOX is not supported; move its messages instead",
            ));
            return;
        }
        match self
            .ctx
            .store
            .rename_folder(source.owner, &source.folder, &destination.folder)
            .await
        {
            Ok(()) => self.send_status(ok(tag, None, "RENAME completed")),
            Err(e) => self.store_failed(tag, &e),
        }
    }

    pub(crate) async fn subscribe(
        &mut self,
        tag: &Tag<'static>,
        mailbox: ImapMailbox<'static>,
        on: bool,
    ) {
        let Ok(name) = names::mailbox_name(&mailbox, self.utf8_names()) else {
            self.send_status(no(tag, Some(code("CANNOT")), "invalid folder name"));
            return;
        };
        let user = self.user_id();
        let result = if on {
            self.ctx.store.subscribe(user, &name).await
        } else {
            self.ctx.store.unsubscribe(user, &name).await
        };
        match result {
            Ok(()) => self.send_status(ok(
                tag,
                None,
                if on {
                    "SUBSCRIBE completed"
                } else {
                    "UNSUBSCRIBE completed"
                },
            )),
            Err(e) => self.store_failed(tag, &e),
        }
    }

    /// LSUB (RFC 3501 6.3.9): subscribed names, and with `%` the levels above deeper ones.
    pub(crate) async fn lsub(
        &mut self,
        tag: &Tag<'static>,
        reference: ImapMailbox<'static>,
        wildcard: ListMailbox<'static>,
    ) {
        let utf8 = self.utf8_names();
        let (reference, pattern_text) =
            super::list_cmd::reference_and_pattern(&reference, &wildcard, utf8);
        if pattern_text.is_empty() {
            self.send_data(lsub_data(
                String::new(),
                vec![FlagNameAttribute::Noselect],
                false,
            ));
            self.send_status(ok(tag, None, "LSUB completed"));
            return;
        }
        let pattern = format!("{reference}{pattern_text}");
        let all = match self.visible_folders().await {
            Ok(all) => all,
            Err(e) => return self.store_failed(tag, &e),
        };
        let subscribed = match self.ctx.store.subscriptions(self.user_id()).await {
            Ok(s) => s,
            Err(e) => return self.store_failed(tag, &e),
        };
        let mut lines = Vec::new();
        for listed in &all {
            if !names::matches(&pattern, &listed.name) || !subscribed.contains(&listed.name) {
                continue;
            }
            let mut attributes = Vec::new();
            if !listed.selectable {
                attributes.push(FlagNameAttribute::Noselect);
            }
            lines.push(lsub_data(listed.name.clone(), attributes, utf8));
        }
        for parent in names::lsub_parents(&pattern, &subscribed) {
            lines.push(lsub_data(parent, vec![FlagNameAttribute::Noselect], utf8));
        }
        for line in lines {
            self.send_data(line);
        }
        self.send_status(ok(tag, None, "LSUB completed"));
    }

    /// Own folders and the folders of granted mailboxes.
    pub(crate) async fn visible_folders(&self) -> mssd_store::Result<Vec<names::Listed>> {
        let own = self.ctx.store.folders(self.user_id()).await?;
        let mut shared = Vec::new();
        for (id, grant) in self.grants().await {
            if grant.rights.read {
                shared.push((grant.mailbox.clone(), self.ctx.store.folders(id).await?));
            }
        }
        Ok(names::visible(&own, &shared))
    }

    pub(crate) async fn status(
        &mut self,
        tag: &Tag<'static>,
        mailbox: ImapMailbox<'static>,
        items: Vec<StatusDataItemName>,
    ) {
        let Some(target) = self.target(tag, &mailbox).await else {
            return;
        };
        let Some(folder) = self.folder_of(tag, &target).await else {
            return;
        };
        let data = self.status_data(&target, &folder, &items).await;
        self.send_data(data);
        self.send_status(ok(tag, None, "STATUS completed"));
    }

    /// The `* STATUS` of `folder` (STATUS, and LIST-STATUS for each folder listed).
    pub(crate) async fn status_data(
        &self,
        target: &Target,
        folder: &Folder,
        items: &[StatusDataItemName],
    ) -> Data<'static> {
        use StatusDataItemName as N;
        let counts = if items
            .iter()
            .any(|i| matches!(i, N::Recent | N::Deleted | N::Size))
        {
            self.view_counts(target, folder).await
        } else {
            ViewCounts::default()
        };
        let values = items
            .iter()
            .filter_map(|item| status_item(item, folder, &counts))
            .collect::<Vec<_>>();
        Data::Status {
            mailbox: names::to_imap(&target.display, self.utf8_names()),
            items: values.into(),
        }
    }

    /// What STATUS RECENT, DELETED and SIZE report, from the folder's messages: recent are
    /// this session's when selected, else those no session was told of yet (STATUS does not
    /// claim them).
    async fn view_counts(&self, target: &Target, folder: &Folder) -> ViewCounts {
        let selected = self.selected.as_ref().filter(|_| self.is_selected(target));
        let view = match selected {
            Some(selected) => selected.view.clone(),
            None => match self.ctx.views.open(self.ctx.store.as_ref(), folder).await {
                Ok((view, _)) => view,
                Err(e) => {
                    tracing::warn!(error = %e, "imap: STATUS could not read the folder");
                    return ViewCounts::default();
                }
            },
        };
        let recent = match selected {
            Some(selected) => selected.recent.len(),
            None => {
                let claimed = self.ctx.recent.peek(folder.id);
                view.uids.iter().filter(|&&u| u > claimed).count()
            }
        };
        let deleted = view
            .metas
            .iter()
            .filter(|m| m.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Deleted")))
            .count();
        ViewCounts {
            recent: u32::try_from(recent).unwrap_or(u32::MAX),
            deleted: u32::try_from(deleted).unwrap_or(u32::MAX),
            size: view.metas.iter().map(|m| m.size).sum(),
        }
    }

    pub(crate) fn is_selected(&self, target: &Target) -> bool {
        self.selected
            .as_ref()
            .is_some_and(|s| s.target.owner == target.owner && s.target.folder == target.folder)
    }
}

/// Counts STATUS takes from the folder's messages.
#[derive(Debug, Default)]
struct ViewCounts {
    recent: u32,
    deleted: u32,
    size: u64,
}

fn status_item(
    item: &StatusDataItemName,
    folder: &Folder,
    counts: &ViewCounts,
) -> Option<StatusDataItem> {
    let nz = |v: u32| NonZeroU32::new(v.max(1)).unwrap_or(NonZeroU32::MIN);
    Some(match item {
        StatusDataItemName::Messages => StatusDataItem::Messages(folder.messages),
        StatusDataItemName::Recent => StatusDataItem::Recent(counts.recent),
        StatusDataItemName::UidNext => StatusDataItem::UidNext(nz(folder.uid_next)),
        StatusDataItemName::UidValidity => StatusDataItem::UidValidity(nz(folder.uid_validity)),
        StatusDataItemName::Unseen => StatusDataItem::Unseen(folder.unseen),
        StatusDataItemName::HighestModSeq => StatusDataItem::HighestModSeq(folder.highest_modseq),
        // RFC 9051 STATUS DELETED; RFC 8438 STATUS=SIZE.
        StatusDataItemName::Deleted => StatusDataItem::Deleted(counts.deleted),
        StatusDataItemName::Size => StatusDataItem::Size(counts.size),
        StatusDataItemName::DeletedStorage => return None,
    })
}

fn lsub_data(name: String, items: Vec<FlagNameAttribute<'static>>, utf8: bool) -> Data<'static> {
    Data::Lsub {
        items,
        delimiter: QuotedChar::try_from(DELIMITER).ok(),
        mailbox: names::to_imap(&name, utf8),
    }
}
