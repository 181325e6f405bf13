//! `Store` for `SqliteStore`: writes go to the group-commit writer, reads to the read pool.

use async_trait::async_trait;
use mssd_core::Address;

use super::connection::DbResult;
use super::prepared::{Listed, release_on_error};
use super::{
    SMALL_JOB, SqliteStore, audit, changes_of, citizen_exchanges, copy_move, document_index,
    documents, flag_store, folder_admin, folders, grants, health, indicators, job_lock, mailboxes,
    message_read, message_removal, messages, notifications, now_unix, queue, quota, subscriptions,
};
use crate::blob_files::BlobWriter;
use crate::change_feed::ChangeFeed;
use crate::citizen_model::ExchangeHistory;
use crate::document_model::{IndexedDocument, IndicatorRow};
use crate::error::{Error, Result};
use crate::exclusive_job::ExclusiveJob;
use crate::model::{
    Acceptance, Accepted, Appended, AuditEvent, AuditQuery, AuditRecord, AuditVerification,
    Changes, CopyOutcome, Delivered, Delivery, FlagOp, FlagsOutcome, Folder, FolderChange,
    FolderId, Grant, Mailbox, MailboxId, MailboxStatus, MessageMeta, NewMailbox, NewQueued,
    Notification, QueueId, QueueSummary, Queued, QuotaUsage, RecipientStatus, Rights, StoreHealth,
    WriterStats,
};
use crate::store::Store;

#[async_trait]
impl Store for SqliteStore {
    async fn create_mailbox(&self, m: NewMailbox) -> Result<Mailbox> {
        self.writer
            .run(SMALL_JOB, move |c| {
                mailboxes::create_mailbox(c, &m, now_unix())
            })
            .await
    }

    async fn mailbox(&self, address: &Address) -> Result<Option<Mailbox>> {
        let address = address.clone();
        self.readers
            .run(move |c| mailboxes::by_address(c, &address))
            .await
    }

    async fn list_mailboxes(&self) -> Result<Vec<Mailbox>> {
        self.readers.run(mailboxes::list).await
    }

    async fn set_mailbox_status(&self, address: &Address, status: MailboxStatus) -> Result<()> {
        let address = address.clone();
        self.writer
            .run(SMALL_JOB, move |c| {
                mailboxes::set_status(c, &address, status)
            })
            .await
    }

    async fn remove_mailbox(&self, address: &Address) -> Result<()> {
        let address = address.clone();
        self.writer
            .run(SMALL_JOB, move |c| mailboxes::remove(c, &address))
            .await?;
        self.collect_blob_garbage().await;
        Ok(())
    }

    async fn mailbox_by_certificate_dn(&self, canonical_dn: &str) -> Result<Option<Mailbox>> {
        let dn = canonical_dn.to_owned();
        self.readers
            .run(move |c| mailboxes::by_certificate_dn(c, &dn))
            .await
    }

    async fn mailboxes_by_owner(&self, id_nat_ps: &str) -> Result<Vec<Mailbox>> {
        let owner = id_nat_ps.to_owned();
        self.readers
            .run(move |c| mailboxes::by_owner(c, &owner))
            .await
    }

    async fn folders(&self, mailbox: MailboxId) -> Result<Vec<Folder>> {
        self.readers.run(move |c| folders::list(c, mailbox)).await
    }

    async fn deliver(&self, mut d: Delivery) -> Result<Vec<Delivered>> {
        let summary;
        (d.message, summary) = self.prepared(d.message, Listed::Yes).await?;
        let weight = d.message.head.len();
        self.write_publishing(weight, move |c| {
            let delivered = messages::deliver(c, &d, summary.as_deref());
            release_on_error(&delivered, &d.message);
            let (delivered, _) = delivered?;
            let changes = changes_of(&delivered);
            Ok((delivered, changes))
        })
        .await
    }

    async fn append_all(
        &self,
        folder: FolderId,
        messages: Vec<Appended>,
    ) -> Result<Vec<Delivered>> {
        let mut prepared = Vec::with_capacity(messages.len());
        for appended in messages {
            let (message, summary) = self.prepared(appended.message, Listed::Yes).await?;
            prepared.push((message, summary, appended.flags, appended.internal_date));
        }
        let weight = prepared.iter().map(|(m, ..)| m.head.len()).sum();
        self.write_publishing(weight, move |c| {
            let delivered = prepared
                .iter()
                .map(|(message, summary, flags, date)| {
                    messages::append(c, folder, message, flags, *date, summary.as_deref())
                })
                .collect::<Result<Vec<_>>>();
            for (message, ..) in &prepared {
                release_on_error(&delivered, message);
            }
            let delivered = delivered?;
            let changes = changes_of(&delivered);
            Ok((delivered, changes))
        })
        .await
    }

    async fn messages(&self, folder: FolderId) -> Result<Vec<MessageMeta>> {
        self.readers
            .run(move |c| message_read::list(c, folder))
            .await
    }

    async fn message_heads(&self, folder: FolderId, uids: Vec<u32>) -> Result<Vec<(u32, Vec<u8>)>> {
        self.readers
            .run(move |c| message_read::heads(c, folder, uids))
            .await
    }

    async fn listing_summaries(
        &self,
        folder: FolderId,
        uids: Vec<u32>,
    ) -> Result<Vec<(u32, Vec<u8>)>> {
        self.readers
            .run(move |c| message_read::summaries(c, folder, uids))
            .await
    }

    async fn message_meta(&self, folder: FolderId, uid: u32) -> Result<Option<MessageMeta>> {
        self.readers
            .run(move |c| message_read::meta(c, folder, uid))
            .await
    }

    async fn message_body(&self, folder: FolderId, uid: u32) -> Result<Option<Vec<u8>>> {
        let blobs = self.blobs.clone();
        self.readers
            .run(move |c| message_read::body(c, &blobs, folder, uid))
            .await
    }

    async fn set_flags(&self, folder: FolderId, uid: u32, flags: Vec<String>) -> Result<u64> {
        self.write_publishing(SMALL_JOB, move |c| {
            let (modseq, change) = messages::set_flags(c, folder, uid, &flags)?;
            Ok((modseq, change.into_iter().collect()))
        })
        .await
    }

    async fn expunge(&self, folder: FolderId, uids: Vec<u32>) -> Result<Vec<u32>> {
        let removed = self
            .write_publishing(SMALL_JOB, move |c| {
                let (removed, change) = message_removal::expunge(c, folder, &uids)?;
                Ok((removed, change.into_iter().collect()))
            })
            .await;
        self.collect_blob_garbage().await;
        removed
    }

    async fn enqueue(&self, mut q: NewQueued) -> Result<QueueId> {
        (q.message, _) = self.prepared(q.message, Listed::No).await?;
        let weight = q.message.head.len();
        self.writer
            .run(weight, move |c| {
                let queued = queue::enqueue(c, &q, now_unix(), None);
                release_on_error(&queued, &q.message);
                queued
            })
            .await
    }

    async fn accept(&self, mut a: Acceptance) -> Result<Accepted> {
        let mut summary = None;
        if let Some(d) = a.delivery.as_mut() {
            (d.message, summary) = self
                .prepared(std::mem::take(&mut d.message), Listed::Yes)
                .await?;
        }
        if let Some(q) = a.queued.as_mut() {
            (q.message, _) = self
                .prepared(std::mem::take(&mut q.message), Listed::No)
                .await?;
        }
        let weight = a.delivery.as_ref().map_or(0, |d| d.message.head.len())
            + a.queued.as_ref().map_or(0, |q| q.message.head.len());
        self.write_publishing(weight, move |c| {
            let accepted = accept_in(c, &a, summary.as_deref());
            for message in [
                a.delivery.as_ref().map(|d| &d.message),
                a.queued.as_ref().map(|q| &q.message),
            ]
            .into_iter()
            .flatten()
            {
                release_on_error(&accepted, message);
            }
            accepted
        })
        .await
    }

    async fn queue(&self) -> Result<Vec<Queued>> {
        let blobs = self.blobs.clone();
        self.readers.run(move |c| queue::all(c, &blobs)).await
    }

    async fn due(&self, now: i64, limit: usize) -> Result<Vec<Queued>> {
        let blobs = self.blobs.clone();
        self.readers
            .run(move |c| queue::due(c, &blobs, now, limit))
            .await
    }

    async fn claim_due(&self, now: i64, lease_until: i64, limit: usize) -> Result<Vec<Queued>> {
        let ids = self
            .writer
            .run(SMALL_JOB, move |c| {
                queue::claim_due(c, now, lease_until, limit)
            })
            .await?;
        self.queued_by_ids(ids).await
    }

    async fn claim_entry(&self, id: QueueId, now: i64, lease_until: i64) -> Result<Option<Queued>> {
        let claimed = self
            .writer
            .run(SMALL_JOB, move |c| {
                queue::claim_entry(c, id, now, lease_until)
            })
            .await?;
        if !claimed {
            return Ok(None);
        }
        Ok(self.queued_by_ids(vec![id]).await?.pop())
    }

    async fn record_attempt(
        &self,
        id: QueueId,
        next_attempt: Option<i64>,
        last_error: Option<String>,
    ) -> Result<()> {
        self.writer
            .run(SMALL_JOB, move |c| {
                queue::record_attempt(c, id, next_attempt, last_error.as_deref())
            })
            .await
    }

    async fn set_recipient_status(
        &self,
        id: QueueId,
        recipient: &Address,
        status: RecipientStatus,
        detail: Option<String>,
    ) -> Result<()> {
        let recipient = recipient.clone();
        self.writer
            .run(SMALL_JOB, move |c| {
                queue::set_recipient_status(c, id, &recipient, status, detail.as_deref())
            })
            .await
    }

    async fn dequeue(&self, id: QueueId) -> Result<()> {
        self.writer
            .run(SMALL_JOB, move |c| queue::dequeue(c, id))
            .await?;
        self.collect_blob_garbage().await;
        Ok(())
    }

    async fn grant(&self, mailbox: &Address, grantee: &Address, rights: Rights) -> Result<()> {
        let (mailbox, grantee) = (mailbox.clone(), grantee.clone());
        self.writer
            .run(SMALL_JOB, move |c| {
                grants::grant(c, &mailbox, &grantee, rights, now_unix())
            })
            .await
    }

    async fn revoke(&self, mailbox: &Address, grantee: &Address) -> Result<()> {
        let (mailbox, grantee) = (mailbox.clone(), grantee.clone());
        self.writer
            .run(SMALL_JOB, move |c| grants::revoke(c, &mailbox, &grantee))
            .await
    }

    async fn grants_on(&self, mailbox: &Address) -> Result<Vec<Grant>> {
        let mailbox = mailbox.clone();
        self.readers
            .run(move |c| grants::list(c, &mailbox, true))
            .await
    }

    async fn grants_to(&self, grantee: &Address) -> Result<Vec<Grant>> {
        let grantee = grantee.clone();
        self.readers
            .run(move |c| grants::list(c, &grantee, false))
            .await
    }

    async fn reschedule(&self, id: QueueId, next_attempt: i64) -> Result<()> {
        self.writer
            .run(SMALL_JOB, move |c| queue::reschedule(c, id, next_attempt))
            .await
    }

    async fn queue_summary(&self) -> Result<QueueSummary> {
        self.readers.run(queue::summary).await
    }

    async fn audit(&self, e: AuditEvent) -> Result<()> {
        self.writer
            .run(SMALL_JOB, move |c| audit::append(c, &e))
            .await
    }

    async fn audit_log(&self, after_id: i64, limit: usize) -> Result<Vec<AuditRecord>> {
        self.readers
            .run(move |c| audit::read(c, after_id, limit))
            .await
    }

    async fn audit_search(&self, query: AuditQuery) -> Result<Vec<AuditRecord>> {
        self.readers.run(move |c| audit::search(c, &query)).await
    }

    async fn audit_verify(&self) -> Result<AuditVerification> {
        self.readers.run(audit::verify).await
    }

    async fn put_document(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        documents::check_name(name)?;
        let name = name.to_owned();
        self.writer
            .run(bytes.len(), move |c| {
                documents::put(c, &name, &bytes, now_unix())
            })
            .await
    }

    async fn document(&self, name: &str) -> Result<Option<Vec<u8>>> {
        documents::check_name(name)?;
        let name = name.to_owned();
        self.readers.run(move |c| documents::get(c, &name)).await
    }

    async fn document_sha256(&self, name: &str) -> Result<Option<String>> {
        documents::check_name(name)?;
        let name = name.to_owned();
        self.readers.run(move |c| documents::digest(c, &name)).await
    }

    async fn documents(&self, mailbox: MailboxId, all: bool) -> Result<Vec<IndexedDocument>> {
        self.readers
            .run(move |c| document_index::list(c, mailbox, all))
            .await
    }

    async fn exchange_history(&self, professional: &str, citizen: &str) -> Result<ExchangeHistory> {
        let (p, c) = (professional.to_owned(), citizen.to_owned());
        self.readers
            .run(move |conn| citizen_exchanges::history(conn, &p, &c))
            .await
    }

    async fn answers_closed_message(
        &self,
        citizen: &str,
        message_ids: Vec<String>,
    ) -> Result<bool> {
        let citizen = citizen.to_owned();
        self.readers
            .run(move |conn| citizen_exchanges::answers_closed(conn, &citizen, &message_ids))
            .await
    }

    async fn notifications_due(&self, now: i64, limit: usize) -> Result<Vec<Notification>> {
        self.readers
            .run(move |c| notifications::due(c, now, limit))
            .await
    }

    async fn notification_sent(&self, id: i64) -> Result<()> {
        self.writer
            .run(SMALL_JOB, move |c| notifications::done(c, id))
            .await
    }

    async fn notification_failed(&self, id: i64, next_at: i64, error: String) -> Result<()> {
        self.writer
            .run(SMALL_JOB, move |c| {
                notifications::retry(c, id, next_at, &error)
            })
            .await
    }

    async fn usage_indicators(&self, month: &str) -> Result<Vec<IndicatorRow>> {
        let month = month.to_owned();
        self.readers
            .run(move |c| indicators::month(c, &month))
            .await
    }

    async fn try_exclusive(&self, job: &str) -> Result<Option<ExclusiveJob>> {
        job_lock::try_exclusive(&self.path, job)
    }

    async fn health(&self) -> Result<StoreHealth> {
        let path = self.path.clone();
        self.readers.run(move |c| health::health(c, &path)).await
    }

    async fn ping(&self) -> Result<()> {
        if !self.writer_alive() {
            return Err(Error::WriterGone);
        }
        self.readers
            .run(|c| {
                c.query_row("SELECT 1", [], |_| Ok(()))
                    .db("answering a ping")
            })
            .await
    }

    fn stats(&self) -> WriterStats {
        self.writer_stats()
    }

    async fn message_bodies(
        &self,
        folder: FolderId,
        uids: Vec<u32>,
    ) -> Result<Vec<(u32, Vec<u8>)>> {
        let blobs = self.blobs.clone();
        self.readers
            .run(move |c| message_read::bodies(c, &blobs, folder, &uids))
            .await
    }

    async fn folder(&self, id: FolderId) -> Result<Option<Folder>> {
        self.readers.run(move |c| folders::by_id(c, id)).await
    }

    async fn create_folder(&self, mailbox: MailboxId, name: &str) -> Result<Folder> {
        let name = name.to_owned();
        self.writer
            .run(SMALL_JOB, move |c| {
                folder_admin::create_folder(c, mailbox, &name, now_unix())
            })
            .await
    }

    async fn rename_folder(&self, mailbox: MailboxId, from: &str, to: &str) -> Result<()> {
        let (from, to) = (from.to_owned(), to.to_owned());
        self.write_publishing(SMALL_JOB, move |c| {
            let changes = folder_admin::rename_folder(c, mailbox, &from, &to)?;
            Ok(((), changes))
        })
        .await
    }

    async fn delete_folder(&self, mailbox: MailboxId, name: &str) -> Result<()> {
        let name = name.to_owned();
        self.write_publishing(SMALL_JOB, move |c| {
            let change = folder_admin::delete_folder(c, mailbox, &name)?;
            Ok(((), vec![change]))
        })
        .await?;
        self.collect_blob_garbage().await;
        Ok(())
    }

    async fn subscribe(&self, mailbox: MailboxId, name: &str) -> Result<()> {
        let name = name.to_owned();
        self.writer
            .run(SMALL_JOB, move |c| {
                subscriptions::subscribe(c, mailbox, &name)
            })
            .await
    }

    async fn unsubscribe(&self, mailbox: MailboxId, name: &str) -> Result<()> {
        let name = name.to_owned();
        self.writer
            .run(SMALL_JOB, move |c| {
                subscriptions::unsubscribe(c, mailbox, &name)
            })
            .await
    }

    async fn subscriptions(&self, mailbox: MailboxId) -> Result<Vec<String>> {
        self.readers
            .run(move |c| subscriptions::list(c, mailbox))
            .await
    }

    async fn store_flags(
        &self,
        folder: FolderId,
        uids: Vec<u32>,
        op: FlagOp,
        flags: Vec<String>,
        unchanged_since: Option<u64>,
    ) -> Result<FlagsOutcome> {
        self.write_publishing(SMALL_JOB, move |c| {
            let (outcome, change) =
                flag_store::store_flags(c, folder, &uids, op, &flags, unchanged_since)?;
            Ok((outcome, change.into_iter().collect()))
        })
        .await
    }

    async fn changes_since(&self, folder: FolderId, since: u64) -> Result<Changes> {
        self.readers
            .run(move |c| message_read::changes_since(c, folder, since))
            .await
    }

    async fn copy_messages(
        &self,
        from: FolderId,
        uids: Vec<u32>,
        to: FolderId,
    ) -> Result<CopyOutcome> {
        self.write_publishing(SMALL_JOB, move |c| {
            copy_move::copy_messages(c, from, &uids, to)
        })
        .await
    }

    async fn move_messages(
        &self,
        from: FolderId,
        uids: Vec<u32>,
        to: FolderId,
    ) -> Result<CopyOutcome> {
        self.write_publishing(SMALL_JOB, move |c| {
            copy_move::move_messages(c, from, &uids, to)
        })
        .await
    }

    async fn quota(&self, mailbox: MailboxId) -> Result<QuotaUsage> {
        self.readers.run(move |c| quota::usage(c, mailbox)).await
    }

    fn change_feed(&self) -> ChangeFeed {
        self.feed.clone()
    }

    fn new_blob(&self) -> Result<BlobWriter> {
        self.blobs.create()
    }
}

/// The writes of one acceptance: delivery, queue entry (sharing the delivery's bytes when it
/// has none of its own), audit line, counters.
fn accept_in(
    c: &rusqlite::Connection,
    a: &Acceptance,
    summary: Option<&[u8]>,
) -> Result<(Accepted, Vec<FolderChange>)> {
    let (delivered, blob) = match &a.delivery {
        Some(d) => {
            let (delivered, blob) = messages::deliver(c, d, summary)?;
            (delivered, Some(blob))
        }
        None => (Vec::new(), None),
    };
    let queued = a
        .queued
        .as_ref()
        .map(|q| {
            let shared = blob.filter(|_| q.message.is_empty());
            queue::enqueue(c, q, now_unix(), shared)
        })
        .transpose()?;
    audit::append(c, &a.audit)?;
    indicators::add(c, &a.usage, now_unix())?;
    citizen_exchanges::record(c, &a.exchanges, now_unix())?;
    notifications::add(c, &a.notify, now_unix())?;
    let changes = changes_of(&delivered);
    Ok((Accepted { delivered, queued }, changes))
}
