//! The storage contract the protocol crates and the server program against.

use async_trait::async_trait;
use mssd_core::Address;

use crate::change_feed::ChangeFeed;
use crate::citizen_model::ExchangeHistory;
use crate::directory_store::DirectoryStore;
use crate::document_model::{IndexedDocument, IndicatorRow};
use crate::error::Result;
use crate::exclusive_job::ExclusiveJob;
use crate::model::{
    Acceptance, Accepted, Appended, AuditEvent, AuditQuery, AuditRecord, AuditVerification,
    Changes, CopyOutcome, Delivered, Delivery, FlagOp, FlagsOutcome, Folder, FolderId, Grant,
    Mailbox, MailboxId, MailboxStatus, MessageMeta, NewMailbox, NewQueued, Notification, QueueId,
    QueueSummary, Queued, QuotaUsage, RecipientStatus, Rights, StoreHealth, WriterStats,
};

/// Durable storage. Every write returns `Ok` only once it is committed and fsynced.
#[async_trait]
pub trait Store: DirectoryStore + Send + Sync {
    // --- mailboxes ---

    /// Creates the mailbox and its folders INBOX, Sent, Drafts, Trash, Archive.
    /// A taken address or certificate DN gives `Error::AlreadyExists`.
    async fn create_mailbox(&self, m: NewMailbox) -> Result<Mailbox>;
    async fn mailbox(&self, address: &Address) -> Result<Option<Mailbox>>;
    async fn list_mailboxes(&self) -> Result<Vec<Mailbox>>;
    async fn set_mailbox_status(&self, address: &Address, status: MailboxStatus) -> Result<()>;
    /// Deletes the mailbox, its folders and messages, and blobs nothing else references.
    async fn remove_mailbox(&self, address: &Address) -> Result<()>;
    async fn mailbox_by_certificate_dn(&self, canonical_dn: &str) -> Result<Option<Mailbox>>;
    async fn mailboxes_by_owner(&self, id_nat_ps: &str) -> Result<Vec<Mailbox>>;

    // --- folders and messages ---

    async fn folders(&self, mailbox: MailboxId) -> Result<Vec<Folder>>;
    /// One transaction: the bytes are stored once and appended to each recipient's INBOX.
    async fn deliver(&self, d: Delivery) -> Result<Vec<Delivered>>;
    /// A new file to stream a large message's body into, for a [`MessageBytes`] stored later.
    /// Blocking (it creates the file).
    fn new_blob(&self) -> Result<crate::BlobWriter>;
    /// Stores `message` in `folder` (IMAP APPEND; a large body may come in a blob file).
    async fn append(
        &self,
        folder: FolderId,
        message: crate::MessageBytes,
        flags: Vec<String>,
        internal_date: i64,
    ) -> Result<Delivered> {
        let appended = Appended {
            message,
            flags,
            internal_date,
        };
        let mut delivered = self.append_all(folder, vec![appended]).await?;
        delivered
            .pop()
            .ok_or_else(|| crate::Error::invalid("APPEND", "nothing was stored"))
    }
    /// Stores `messages` in `folder` in one transaction, in order: all of them or none (the
    /// quota is checked against their total). MULTIAPPEND (RFC 3502).
    async fn append_all(&self, folder: FolderId, messages: Vec<Appended>)
    -> Result<Vec<Delivered>>;
    async fn messages(&self, folder: FolderId) -> Result<Vec<MessageMeta>>;
    async fn message_body(&self, folder: FolderId, uid: u32) -> Result<Option<Vec<u8>>>;
    /// For each message, its bytes up to at least the end of its header block (the whole of a
    /// small message; the head of one whose body is a file, which is never read): what a
    /// listing parses. Unknown UIDs are skipped; UID order.
    async fn message_heads(&self, folder: FolderId, uids: Vec<u32>) -> Result<Vec<(u32, Vec<u8>)>>;
    /// The listing summaries stored with these messages (see
    /// [`crate::SqliteStore::set_listing_summarizer`]), UID order; UIDs without one (unknown,
    /// or stored before summaries were) are left out.
    async fn listing_summaries(
        &self,
        folder: FolderId,
        uids: Vec<u32>,
    ) -> Result<Vec<(u32, Vec<u8>)>>;
    /// The metadata of one message (flags, size, dates); `None` for an unknown UID.
    async fn message_meta(&self, folder: FolderId, uid: u32) -> Result<Option<MessageMeta>>;
    /// Replaces the flags; returns the message's modseq (unchanged when the flags are).
    async fn set_flags(&self, folder: FolderId, uid: u32, flags: Vec<String>) -> Result<u64>;
    /// Removes messages; returns the UIDs that existed. Their UIDs are never handed out again.
    async fn expunge(&self, folder: FolderId, uids: Vec<u32>) -> Result<Vec<u32>>;
    /// Bytes of several messages in one read job; unknown UIDs are skipped; UID order.
    async fn message_bodies(&self, folder: FolderId, uids: Vec<u32>)
    -> Result<Vec<(u32, Vec<u8>)>>;

    // --- IMAP folder administration, flags, changes, copy/move, quota ---

    async fn folder(&self, id: FolderId) -> Result<Option<Folder>>;
    /// Hierarchy separator is '/'. Creates just this name (no missing parents). `AlreadyExists`
    /// if taken. Names are case-sensitive except "INBOX" (any case means INBOX, refused).
    /// Fresh UIDVALIDITY (never reused).
    async fn create_folder(&self, mailbox: MailboxId, name: &str) -> Result<Folder>;
    /// Renames the folder and every folder under "<old>/" to the new prefix (RFC 3501 RENAME).
    /// INBOX refused (`Invalid`); target taken -> `AlreadyExists`. UIDVALIDITY kept.
    async fn rename_folder(&self, mailbox: MailboxId, from: &str, to: &str) -> Result<()>;
    /// Deletes the folder and its messages (subfolders stay). INBOX refused (`Invalid`).
    /// Usage counters updated.
    async fn delete_folder(&self, mailbox: MailboxId, name: &str) -> Result<()>;
    /// Idempotent.
    async fn subscribe(&self, mailbox: MailboxId, name: &str) -> Result<()>;
    /// `NotFound` if not subscribed.
    async fn unsubscribe(&self, mailbox: MailboxId, name: &str) -> Result<()>;
    /// Subscribed names, sorted.
    async fn subscriptions(&self, mailbox: MailboxId) -> Result<Vec<String>>;
    /// One transaction for a whole STORE command. Add/Remove/Replace with normalize_flags; a
    /// message whose flags do not change keeps its modseq but is still listed in `updated`;
    /// unknown UIDs are skipped; with `unchanged_since = Some(m)`, messages whose modseq > m go
    /// to `modified` untouched.
    async fn store_flags(
        &self,
        folder: FolderId,
        uids: Vec<u32>,
        op: FlagOp,
        flags: Vec<String>,
        unchanged_since: Option<u64>,
    ) -> Result<FlagsOutcome>;
    /// What changed after `since` (a modseq): cheap when nothing changed (indexed by modseq).
    async fn changes_since(&self, folder: FolderId, since: u64) -> Result<Changes>;
    /// Copies in one transaction: the blob is shared (not duplicated), new UIDs taken from the
    /// destination, flags and internal date kept. Quota of the destination mailbox enforced
    /// (`QuotaExceeded`, nothing copied).
    async fn copy_messages(
        &self,
        from: FolderId,
        uids: Vec<u32>,
        to: FolderId,
    ) -> Result<CopyOutcome>;
    /// Copy + expunge of the sources in one transaction (RFC 6851 MOVE). Quota checked only if
    /// the destination is another mailbox.
    async fn move_messages(
        &self,
        from: FolderId,
        uids: Vec<u32>,
        to: FolderId,
    ) -> Result<CopyOutcome>;
    async fn quota(&self, mailbox: MailboxId) -> Result<QuotaUsage>;
    /// A handle on the notifications of committed folder changes (a clone).
    fn change_feed(&self) -> ChangeFeed;

    // --- outbound queue ---

    async fn enqueue(&self, q: NewQueued) -> Result<QueueId>;
    /// Local delivery, queue entry and audit line of one accepted message, in one transaction.
    async fn accept(&self, a: Acceptance) -> Result<Accepted>;
    async fn queue(&self) -> Result<Vec<Queued>>;
    /// Entries whose next attempt is at or before `now`, oldest first. A listing only: a
    /// runner takes entries with [`Store::claim_due`].
    async fn due(&self, now: i64, limit: usize) -> Result<Vec<Queued>>;
    /// Claims the entries due at `now` (in `due`'s order) for one attempt: in the same
    /// transaction each moves to `next_attempt = lease_until`, so no other runner — of this
    /// process or of another node sharing the database — sees it due before the lease ends.
    /// Settling the attempt (`record_attempt`, `dequeue`) ends the lease; the entries of a
    /// runner that died are due again at `lease_until`. The returned entries show
    /// `next_attempt = Some(lease_until)`.
    async fn claim_due(&self, now: i64, lease_until: i64, limit: usize) -> Result<Vec<Queued>>;
    /// Claims entry `id` like `claim_due` whatever its schedule (an operator's retry), unless
    /// another runner's lease still runs at `now`: then `None`. `NotFound` if there is no such
    /// entry.
    async fn claim_entry(&self, id: QueueId, now: i64, lease_until: i64) -> Result<Option<Queued>>;
    /// Counts one attempt; `next_attempt: None` parks the entry (never due again).
    async fn record_attempt(
        &self,
        id: QueueId,
        next_attempt: Option<i64>,
        last_error: Option<String>,
    ) -> Result<()>;
    /// Records the outcome for one recipient, so a retry skips those already delivered.
    async fn set_recipient_status(
        &self,
        id: QueueId,
        recipient: &Address,
        status: RecipientStatus,
        detail: Option<String>,
    ) -> Result<()>;
    async fn dequeue(&self, id: QueueId) -> Result<()>;
    /// Plans the next attempt at `next_attempt` without counting an attempt (operator retry);
    /// never before the end of a lease still running (the entry is being attempted).
    async fn reschedule(&self, id: QueueId, next_attempt: i64) -> Result<()>;
    /// Depth and oldest entry of the queue, without reading messages (for `/metrics`).
    async fn queue_summary(&self) -> Result<QueueSummary>;

    // --- grants: rights on a mailbox held by another mailbox ---

    /// Sets (replaces) `grantee`'s rights on `mailbox`.
    async fn grant(&self, mailbox: &Address, grantee: &Address, rights: Rights) -> Result<()>;
    /// Error `NotFound` when no such grant exists.
    async fn revoke(&self, mailbox: &Address, grantee: &Address) -> Result<()>;
    /// Who holds rights on `mailbox`.
    async fn grants_on(&self, mailbox: &Address) -> Result<Vec<Grant>>;
    /// Which mailboxes `grantee` holds rights on.
    async fn grants_to(&self, grantee: &Address) -> Result<Vec<Grant>>;

    // --- audit trail (append-only) ---

    async fn audit(&self, e: AuditEvent) -> Result<()>;
    /// Records with `id > after_id`, in order.
    async fn audit_log(&self, after_id: i64, limit: usize) -> Result<Vec<AuditRecord>>;
    /// Audit records matching `query`, oldest first (`mssd audit search`).
    async fn audit_search(&self, query: AuditQuery) -> Result<Vec<AuditRecord>>;
    /// Walks the audit trail's hash chain (`mssd audit verify`).
    async fn audit_verify(&self) -> Result<AuditVerification>;

    // --- named documents ---

    /// Stores `bytes` under `name`, replacing any previous document of that name (e.g. the
    /// last good liste blanche, so a restart without network enforces it).
    async fn put_document(&self, name: &str, bytes: Vec<u8>) -> Result<()>;
    /// The document stored under `name`, if any. A copy whose bytes no longer match their
    /// recorded SHA-256 gives `Error::Corrupt`.
    async fn document(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// The SHA-256 (lowercase hex) recorded with document `name`, without reading its bytes:
    /// how a running server notices that another process replaced it.
    async fn document_sha256(&self, name: &str) -> Result<Option<String>>;

    // --- health documents ---

    /// The document index of `mailbox`, oldest first: current versions only unless `all`.
    async fn documents(&self, mailbox: MailboxId, all: bool) -> Result<Vec<IndexedDocument>>;
    /// The usage counters of `month` (`YYYY-MM`), by mailbox and direction.
    async fn usage_indicators(&self, month: &str) -> Result<Vec<IndicatorRow>>;

    // --- citizens ---

    /// What professional P (canonical address) sent citizen C so far.
    async fn exchange_history(&self, professional: &str, citizen: &str) -> Result<ExchangeHistory>;
    /// Whether one of `message_ids` (In-Reply-To / References) names a message to `citizen`
    /// that carried `X-MSS-MES: FIN`.
    async fn answers_closed_message(&self, citizen: &str, message_ids: Vec<String>)
    -> Result<bool>;

    /// Notifications whose next attempt is at or before `now`, oldest first.
    async fn notifications_due(&self, now: i64, limit: usize) -> Result<Vec<Notification>>;
    /// The receiver acknowledged it: removed.
    async fn notification_sent(&self, id: i64) -> Result<()>;
    /// Counts a failed attempt and plans the next at `next_at`.
    async fn notification_failed(&self, id: i64, next_at: i64, error: String) -> Result<()>;

    // --- jobs run by one node at a time ---

    /// The right to run `job` (a name of `[a-z0-9._-]`) while no other process using this
    /// store — another node on PostgreSQL, the CLI beside the server on SQLite — holds it;
    /// `None` while one does. Held until the guard is released or dropped.
    async fn try_exclusive(&self, job: &str) -> Result<Option<ExclusiveJob>>;

    // --- operations ---

    async fn health(&self) -> Result<StoreHealth>;
    /// A cheap liveness check for `/healthz`: the writer takes jobs and a read answers.
    /// Unlike `health`, it scans nothing, so it can be called on every probe.
    async fn ping(&self) -> Result<()>;
    fn stats(&self) -> WriterStats;
}
