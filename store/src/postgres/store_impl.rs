//! `Store` for `PostgresStore`: each method one transaction on a pooled connection; folder
//! changes are published on the change feed only after the commit returned.

use async_trait::async_trait;
use mssd_core::Address;

use super::accept_job::AcceptJob;
use super::blobs::{Ready, ready};
use super::{
    PgResult, PostgresStore, audit, changes_of, folders, health_docs, job_lock, mailboxes,
    messages, now_unix, queue, small,
};
use crate::blob_files::{BlobWriter, MessageBytes};
use crate::change_feed::ChangeFeed;
use crate::citizen_model::ExchangeHistory;
use crate::document_model::{IndexedDocument, IndicatorRow};
use crate::error::Result;
use crate::exclusive_job::ExclusiveJob;
use crate::model::{
    Acceptance, Accepted, Appended, AuditEvent, AuditQuery, AuditRecord, AuditVerification,
    Changes, CopyOutcome, Delivered, Delivery, FlagOp, FlagsOutcome, Folder, FolderId, Grant,
    Mailbox, MailboxId, MailboxStatus, MessageMeta, NewMailbox, NewQueued, Notification, QueueId,
    QueueSummary, Queued, QuotaUsage, RecipientStatus, Rights, StoreHealth, WriterStats,
};
use crate::sqlite::documents::check_name;
use crate::store::Store;

impl PostgresStore {
    /// The listing summary of a message going into folders.
    fn summary_of(&self, message: &MessageBytes) -> Option<Vec<u8>> {
        self.summarizer().map(|summarize| {
            let end = crate::header_end(&message.head, message.head.len());
            summarize(&message.head[..end.unwrap_or(message.head.len())])
        })
    }

    async fn ready_listed(&self, message: MessageBytes) -> Result<Ready> {
        let summary = self.summary_of(&message);
        ready(self.staging(), message, summary).await
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_mailbox(&self, m: NewMailbox) -> Result<Mailbox> {
        write!(self, |tx| mailboxes::create(&tx, &m, now_unix()).await?)
    }

    async fn mailbox(&self, address: &Address) -> Result<Option<Mailbox>> {
        let conn = self.conn().await?;
        mailboxes::by_address(&conn, address).await
    }

    async fn list_mailboxes(&self) -> Result<Vec<Mailbox>> {
        read!(self, |tx| mailboxes::list(&tx).await?)
    }

    async fn set_mailbox_status(&self, address: &Address, status: MailboxStatus) -> Result<()> {
        write!(self, |tx| mailboxes::set_status(&tx, address, status)
            .await?)
    }

    async fn remove_mailbox(&self, address: &Address) -> Result<()> {
        write!(self, |tx| mailboxes::remove(&tx, address).await?)
    }

    async fn mailbox_by_certificate_dn(&self, canonical_dn: &str) -> Result<Option<Mailbox>> {
        let conn = self.conn().await?;
        mailboxes::by_certificate_dn(&conn, canonical_dn).await
    }

    async fn mailboxes_by_owner(&self, id_nat_ps: &str) -> Result<Vec<Mailbox>> {
        read!(self, |tx| mailboxes::by_owner(&tx, id_nat_ps).await?)
    }

    async fn folders(&self, mailbox: MailboxId) -> Result<Vec<Folder>> {
        read!(self, |tx| folders::list(&tx, mailbox).await?)
    }

    async fn deliver(&self, d: Delivery) -> Result<Vec<Delivered>> {
        let message = self.ready_listed(d.message).await?;
        write_publishing!(self, |tx| {
            let (delivered, _) =
                messages::deliver(&tx, &d.recipients, &message, d.internal_date, &d.documents)
                    .await?;
            let changes = changes_of(&delivered);
            (delivered, changes)
        })
    }

    fn new_blob(&self) -> Result<BlobWriter> {
        self.staging().create()
    }

    async fn append_all(
        &self,
        folder: FolderId,
        messages: Vec<Appended>,
    ) -> Result<Vec<Delivered>> {
        let mut prepared = Vec::with_capacity(messages.len());
        for appended in messages {
            let message = self.ready_listed(appended.message).await?;
            prepared.push((message, appended.flags, appended.internal_date));
        }
        write_publishing!(self, |tx| {
            let mailbox = folders::lock_folder_mailbox(&tx, folder).await?;
            // MULTIAPPEND: the quota is checked against the batch's total first.
            let total = prepared
                .iter()
                .fold(0u64, |sum, (m, ..)| sum.saturating_add(m.size()));
            folders::ensure_room(&tx, mailbox, total).await?;
            let mut delivered = Vec::with_capacity(prepared.len());
            for (message, flags, date) in &prepared {
                delivered
                    .push(messages::append(&tx, mailbox, folder, message, flags, *date).await?);
            }
            let changes = changes_of(&delivered);
            (delivered, changes)
        })
    }

    async fn messages(&self, folder: FolderId) -> Result<Vec<MessageMeta>> {
        read!(self, |tx| messages::list(&tx, folder).await?)
    }

    async fn message_body(&self, folder: FolderId, uid: u32) -> Result<Option<Vec<u8>>> {
        let mut bodies = self.message_bodies(folder, vec![uid]).await?;
        Ok(bodies.pop().map(|(_, bytes)| bytes))
    }

    async fn message_heads(&self, folder: FolderId, uids: Vec<u32>) -> Result<Vec<(u32, Vec<u8>)>> {
        read!(self, |tx| messages::heads(&tx, folder, &uids).await?)
    }

    async fn listing_summaries(
        &self,
        folder: FolderId,
        uids: Vec<u32>,
    ) -> Result<Vec<(u32, Vec<u8>)>> {
        read!(self, |tx| messages::summaries(&tx, folder, &uids).await?)
    }

    async fn message_meta(&self, folder: FolderId, uid: u32) -> Result<Option<MessageMeta>> {
        read!(self, |tx| messages::meta(&tx, folder, uid).await?)
    }

    async fn set_flags(&self, folder: FolderId, uid: u32, flags: Vec<String>) -> Result<u64> {
        write_publishing!(self, |tx| {
            let (modseq, change) = messages::set_flags(&tx, folder, uid, &flags).await?;
            (modseq, change.into_iter().collect::<Vec<_>>())
        })
    }

    async fn expunge(&self, folder: FolderId, uids: Vec<u32>) -> Result<Vec<u32>> {
        write_publishing!(self, |tx| {
            let (removed, change) = messages::expunge(&tx, folder, &uids).await?;
            (removed, change.into_iter().collect::<Vec<_>>())
        })
    }

    async fn message_bodies(
        &self,
        folder: FolderId,
        uids: Vec<u32>,
    ) -> Result<Vec<(u32, Vec<u8>)>> {
        read!(self, |tx| messages::bodies(&tx, folder, &uids).await?)
    }

    async fn folder(&self, id: FolderId) -> Result<Option<Folder>> {
        read!(self, |tx| folders::by_id(&tx, id).await?)
    }

    async fn create_folder(&self, mailbox: MailboxId, name: &str) -> Result<Folder> {
        write!(self, |tx| folders::create_folder(&tx, mailbox, name)
            .await?)
    }

    async fn rename_folder(&self, mailbox: MailboxId, from: &str, to: &str) -> Result<()> {
        write_publishing!(self, |tx| {
            ((), folders::rename_folder(&tx, mailbox, from, to).await?)
        })
    }

    async fn delete_folder(&self, mailbox: MailboxId, name: &str) -> Result<()> {
        write_publishing!(self, |tx| {
            ((), vec![folders::delete_folder(&tx, mailbox, name).await?])
        })
    }

    async fn subscribe(&self, mailbox: MailboxId, name: &str) -> Result<()> {
        write!(self, |tx| folders::subscribe(&tx, mailbox, name).await?)
    }

    async fn unsubscribe(&self, mailbox: MailboxId, name: &str) -> Result<()> {
        write!(self, |tx| folders::unsubscribe(&tx, mailbox, name).await?)
    }

    async fn subscriptions(&self, mailbox: MailboxId) -> Result<Vec<String>> {
        read!(self, |tx| folders::subscriptions(&tx, mailbox).await?)
    }

    async fn store_flags(
        &self,
        folder: FolderId,
        uids: Vec<u32>,
        op: FlagOp,
        flags: Vec<String>,
        unchanged_since: Option<u64>,
    ) -> Result<FlagsOutcome> {
        write_publishing!(self, |tx| {
            let (outcome, change) =
                messages::store_flags(&tx, folder, &uids, op, &flags, unchanged_since).await?;
            (outcome, change.into_iter().collect::<Vec<_>>())
        })
    }

    async fn changes_since(&self, folder: FolderId, since: u64) -> Result<Changes> {
        read!(self, |tx| messages::changes_since(&tx, folder, since)
            .await?)
    }

    async fn copy_messages(
        &self,
        from: FolderId,
        uids: Vec<u32>,
        to: FolderId,
    ) -> Result<CopyOutcome> {
        write_publishing!(self, |tx| {
            messages::copy_or_move(&tx, from, &uids, to, false).await?
        })
    }

    async fn move_messages(
        &self,
        from: FolderId,
        uids: Vec<u32>,
        to: FolderId,
    ) -> Result<CopyOutcome> {
        write_publishing!(self, |tx| {
            messages::copy_or_move(&tx, from, &uids, to, true).await?
        })
    }

    async fn quota(&self, mailbox: MailboxId) -> Result<QuotaUsage> {
        read!(self, |tx| folders::usage(&tx, mailbox).await?)
    }

    fn change_feed(&self) -> ChangeFeed {
        self.feed().clone()
    }

    async fn enqueue(&self, q: NewQueued) -> Result<QueueId> {
        let NewQueued {
            sender,
            recipients,
            message,
            next_attempt,
            envelope,
        } = q;
        let message = ready(self.staging(), message, None).await?;
        let q = NewQueued {
            sender,
            recipients,
            message: MessageBytes::default(),
            next_attempt,
            envelope,
        };
        write!(self, |tx| queue::enqueue(
            &tx,
            &q,
            Some(&message),
            now_unix(),
            None
        )
        .await?)
    }

    async fn accept(&self, mut a: Acceptance) -> Result<Accepted> {
        // The bodies are read and digested here, outside the batch's transaction.
        let delivery = match a.delivery.as_mut() {
            Some(d) => Some(self.ready_listed(std::mem::take(&mut d.message)).await?),
            None => None,
        };
        let queued = match a.queued.as_mut() {
            Some(q) => Some(ready(self.staging(), std::mem::take(&mut q.message), None).await?),
            None => None,
        };
        let job = AcceptJob {
            acceptance: a,
            delivery,
            queued,
            now: now_unix(),
        };
        // Committed with the other acceptances waiting, each in its savepoint (group_commit).
        self.committer().accept(job).await
    }

    async fn queue(&self) -> Result<Vec<Queued>> {
        read!(self, |tx| queue::all(&tx).await?)
    }

    async fn due(&self, now: i64, limit: usize) -> Result<Vec<Queued>> {
        read!(self, |tx| queue::due(&tx, now, limit).await?)
    }

    async fn claim_due(&self, now: i64, lease_until: i64, limit: usize) -> Result<Vec<Queued>> {
        write!(self, |tx| queue::claim_due(&tx, now, lease_until, limit)
            .await?)
    }

    async fn claim_entry(&self, id: QueueId, now: i64, lease_until: i64) -> Result<Option<Queued>> {
        write!(self, |tx| queue::claim_entry(&tx, id, now, lease_until)
            .await?)
    }

    async fn record_attempt(
        &self,
        id: QueueId,
        next_attempt: Option<i64>,
        last_error: Option<String>,
    ) -> Result<()> {
        write!(self, |tx| queue::record_attempt(
            &tx,
            id,
            next_attempt,
            last_error.as_deref()
        )
        .await?)
    }

    async fn set_recipient_status(
        &self,
        id: QueueId,
        recipient: &Address,
        status: RecipientStatus,
        detail: Option<String>,
    ) -> Result<()> {
        write!(self, |tx| queue::set_recipient_status(
            &tx,
            id,
            recipient,
            status,
            detail.as_deref()
        )
        .await?)
    }

    async fn dequeue(&self, id: QueueId) -> Result<()> {
        write!(self, |tx| queue::dequeue(&tx, id).await?)
    }

    async fn reschedule(&self, id: QueueId, next_attempt: i64) -> Result<()> {
        write!(self, |tx| queue::reschedule(&tx, id, next_attempt).await?)
    }

    async fn queue_summary(&self) -> Result<QueueSummary> {
        read!(self, |tx| queue::summary(&tx).await?)
    }

    async fn grant(&self, mailbox: &Address, grantee: &Address, rights: Rights) -> Result<()> {
        write!(self, |tx| small::grant(
            &tx,
            mailbox,
            grantee,
            rights,
            now_unix()
        )
        .await?)
    }

    async fn revoke(&self, mailbox: &Address, grantee: &Address) -> Result<()> {
        write!(self, |tx| small::revoke(&tx, mailbox, grantee).await?)
    }

    async fn grants_on(&self, mailbox: &Address) -> Result<Vec<Grant>> {
        read!(self, |tx| small::grants(&tx, mailbox, true).await?)
    }

    async fn grants_to(&self, grantee: &Address) -> Result<Vec<Grant>> {
        read!(self, |tx| small::grants(&tx, grantee, false).await?)
    }

    async fn audit(&self, e: AuditEvent) -> Result<()> {
        write!(self, |tx| audit::append(&tx, &e).await?)
    }

    async fn audit_log(&self, after_id: i64, limit: usize) -> Result<Vec<AuditRecord>> {
        read!(self, |tx| audit::read(&tx, after_id, limit).await?)
    }

    async fn audit_search(&self, query: AuditQuery) -> Result<Vec<AuditRecord>> {
        read!(self, |tx| audit::search(&tx, &query).await?)
    }

    async fn audit_verify(&self) -> Result<AuditVerification> {
        read!(self, |tx| audit::verify(&tx).await?)
    }

    async fn put_document(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        check_name(name)?;
        write!(self, |tx| small::put_document(
            &tx,
            name,
            &bytes,
            now_unix()
        )
        .await?)
    }

    async fn document(&self, name: &str) -> Result<Option<Vec<u8>>> {
        check_name(name)?;
        read!(self, |tx| small::document(&tx, name).await?)
    }

    async fn document_sha256(&self, name: &str) -> Result<Option<String>> {
        check_name(name)?;
        read!(self, |tx| small::document_sha256(&tx, name).await?)
    }

    async fn documents(&self, mailbox: MailboxId, all: bool) -> Result<Vec<IndexedDocument>> {
        read!(self, |tx| health_docs::list(&tx, mailbox, all).await?)
    }

    async fn usage_indicators(&self, month: &str) -> Result<Vec<IndicatorRow>> {
        read!(self, |tx| small::usage_indicators(&tx, month).await?)
    }

    async fn exchange_history(&self, professional: &str, citizen: &str) -> Result<ExchangeHistory> {
        read!(self, |tx| health_docs::history(&tx, professional, citizen)
            .await?)
    }

    async fn answers_closed_message(
        &self,
        citizen: &str,
        message_ids: Vec<String>,
    ) -> Result<bool> {
        read!(self, |tx| health_docs::answers_closed(
            &tx,
            citizen,
            &message_ids
        )
        .await?)
    }

    async fn notifications_due(&self, now: i64, limit: usize) -> Result<Vec<Notification>> {
        read!(self, |tx| small::notifications_due(&tx, now, limit).await?)
    }

    async fn notification_sent(&self, id: i64) -> Result<()> {
        write!(self, |tx| small::notification_sent(&tx, id).await?)
    }

    async fn notification_failed(&self, id: i64, next_at: i64, error: String) -> Result<()> {
        write!(self, |tx| small::notification_failed(
            &tx, id, next_at, &error
        )
        .await?)
    }

    async fn try_exclusive(&self, job: &str) -> Result<Option<ExclusiveJob>> {
        job_lock::try_exclusive(self, job).await
    }

    async fn health(&self) -> Result<StoreHealth> {
        let conn = self.conn().await?;
        let version = super::migrations::schema_version(&conn).await?;
        drop(conn);
        let (counts, bytes) = read!(self, |tx| small::counts(&tx).await?)?;
        Ok(StoreHealth {
            schema_version: version,
            latest_schema_version: super::postgres_latest_schema_version(),
            // PostgreSQL has no quick_check; amcheck (pg_amcheck) is the operator's tool.
            quick_check_ok: true,
            quick_check: "ok".to_owned(),
            mailboxes: counts[0],
            messages: counts[1],
            queue: counts[2],
            audit: counts[3],
            database_path: self.target().into(),
            database_bytes: bytes,
        })
    }

    async fn ping(&self) -> Result<()> {
        let conn = self.conn().await?;
        conn.query_one("SELECT 1", &[])
            .await
            .pg("answering a ping")?;
        Ok(())
    }

    fn stats(&self) -> WriterStats {
        self.writer_stats()
    }
}
