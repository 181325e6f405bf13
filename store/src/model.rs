//! Plain data exchanged with a [`crate::Store`]. No backend type appears here, so another backend
//! (PostgreSQL) can implement the same trait without changing callers.

use std::fmt;
use std::path::PathBuf;

use mssd_core::{Address, MailboxKind};

use crate::blob_files::MessageBytes;

pub use crate::ids::{FolderId, MailboxId, QueueId};

/// Whether a mailbox may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailboxStatus {
    Active,
    Suspended,
}

impl MailboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailboxStatus::Active => "active",
            MailboxStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(MailboxStatus::Active),
            "suspended" => Some(MailboxStatus::Suspended),
            _ => None,
        }
    }
}

/// A mailbox to create. Hashes and DNs are computed by the caller.
#[derive(Clone)]
pub struct NewMailbox {
    pub address: Address,
    pub kind: MailboxKind,
    pub display_name: Option<String>,
    /// idNat_PS of the owning professional, if any.
    pub owner_id_nat: Option<String>,
    /// Argon2 PHC string.
    pub password_hash: Option<String>,
    /// Canonical normalised subject DN of the certificate that authenticates as this mailbox.
    pub certificate_dn: Option<String>,
    pub quota_bytes: Option<u64>,
}

/// A hosted mailbox.
#[derive(Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub id: MailboxId,
    pub address: Address,
    pub kind: MailboxKind,
    pub display_name: Option<String>,
    pub owner_id_nat: Option<String>,
    pub password_hash: Option<String>,
    pub certificate_dn: Option<String>,
    pub quota_bytes: Option<u64>,
    pub status: MailboxStatus,
    /// Unix seconds.
    pub created_at: i64,
}

impl NewMailbox {
    /// A citizen's mailbox: no password, no certificate (citizens log in with tokens).
    pub fn citizen(address: Address, display_name: Option<String>) -> NewMailbox {
        NewMailbox {
            address,
            kind: MailboxKind::Citizen,
            display_name,
            owner_id_nat: None,
            password_hash: None,
            certificate_dn: None,
            quota_bytes: None,
        }
    }
}

// Debug by hand: the address may hold an INS and the hash is a secret.
impl fmt::Debug for NewMailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewMailbox")
            .field("kind", &self.kind.as_str())
            .field("has_password", &self.password_hash.is_some())
            .field("certificate_dn", &self.certificate_dn)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("id", &self.id)
            .field("kind", &self.kind.as_str())
            .field("status", &self.status)
            .field("has_password", &self.password_hash.is_some())
            .field("certificate_dn", &self.certificate_dn)
            .finish_non_exhaustive()
    }
}

/// An IMAP folder with its counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: FolderId,
    pub mailbox: MailboxId,
    pub name: String,
    /// RFC 6154 attribute, e.g. `\Sent`; INBOX has none.
    pub special_use: Option<String>,
    pub uid_validity: u32,
    pub uid_next: u32,
    pub highest_modseq: u64,
    pub messages: u32,
    pub unseen: u32,
}

/// One inbound message for one or more local mailboxes.
#[derive(Debug)]
pub struct Delivery {
    /// Recipient mailboxes; duplicates are delivered once.
    pub recipients: Vec<MailboxId>,
    pub message: MessageBytes,
    /// Unix seconds.
    pub internal_date: i64,
    /// The health documents the message carries, indexed in each recipient mailbox in the
    /// delivery's transaction.
    pub documents: Vec<crate::document_model::NewDocument>,
}

/// One message of an IMAP APPEND (MULTIAPPEND, RFC 3502, gives several).
#[derive(Debug)]
pub struct Appended {
    pub message: MessageBytes,
    pub flags: Vec<String>,
    /// Seconds since the Unix epoch.
    pub internal_date: i64,
}

/// Where a message landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub mailbox: MailboxId,
    pub folder: FolderId,
    pub uid: u32,
    pub modseq: u64,
}

/// A message in a folder, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Vec<String>,
    pub size: u64,
    /// Unix seconds.
    pub internal_date: i64,
    /// Lowercase hex SHA-256 of the message bytes.
    pub sha256: String,
}

/// Delivery state of one recipient of a queued message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientStatus {
    /// Still to be delivered.
    Pending,
    /// Accepted by the next hop.
    Delivered,
    /// Refused for good.
    Failed,
}

impl RecipientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Pending => "pending",
            RecipientStatus::Delivered => "delivered",
            RecipientStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(RecipientStatus::Pending),
            "delivered" => Some(RecipientStatus::Delivered),
            "failed" => Some(RecipientStatus::Failed),
            _ => None,
        }
    }
}

/// One recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecipient {
    pub address: Address,
    pub status: RecipientStatus,
    /// Last reply or reason for this recipient.
    pub detail: Option<String>,
}

/// A message to put on the outbound queue.
#[derive(Debug)]
pub struct NewQueued {
    /// Envelope sender; `None` is the null reverse-path `<>` (DSNs).
    pub sender: Option<Address>,
    pub recipients: Vec<QueuedRecipient>,
    /// In an [`Acceptance`] with a delivery, an empty message means the delivery's bytes,
    /// stored once for both.
    pub message: MessageBytes,
    /// Unix seconds of the first attempt.
    pub next_attempt: i64,
    /// Envelope extras (DSN parameters, ...), kept as JSON.
    pub envelope: serde_json::Value,
}

/// An entry of the outbound queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub id: QueueId,
    pub sender: Option<Address>,
    pub recipients: Vec<QueuedRecipient>,
    pub message: Vec<u8>,
    pub sha256: String,
    pub envelope: serde_json::Value,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` once no further attempt is planned.
    pub next_attempt: Option<i64>,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// An event to append to the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Unix milliseconds.
    pub at: i64,
    /// e.g. `mailbox.create`.
    pub kind: String,
    pub actor: String,
    pub subject: String,
    pub outcome: String,
    pub detail: serde_json::Value,
}

/// A recorded audit event with its position in the trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: i64,
    pub event: AuditEvent,
}

/// Which audit records `mssd audit search` wants, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Records after this id (paging: the last id of the previous page).
    pub after_id: i64,
    /// Unix milliseconds, inclusive.
    pub since: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub until: Option<i64>,
    /// A kind (`mailbox.create`) or a family of kinds (`imap` matches `imap.*`).
    pub kind: Option<String>,
    /// Records whose actor or subject is this mailbox address.
    pub mailbox: Option<String>,
    pub limit: usize,
}

/// What `mssd audit verify` found walking the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Records read.
    pub records: u64,
    /// The first record where the chain breaks, and why.
    pub broken: Option<(i64, String)>,
    /// The last record and its link when the chain holds up to it: kept outside the
    /// database, it proves later that no record was removed from the end.
    pub head: Option<(i64, String)>,
}

/// What an operator (`mssd doctor`, `/health`) needs to know about the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreHealth {
    pub schema_version: u32,
    pub latest_schema_version: u32,
    pub quick_check_ok: bool,
    /// The first lines SQLite's quick_check returned (`ok` when healthy).
    pub quick_check: String,
    pub mailboxes: u64,
    pub messages: u64,
    pub queue: u64,
    pub audit: u64,
    pub database_path: PathBuf,
    /// Size of the database file plus its WAL.
    pub database_bytes: u64,
}

impl StoreHealth {
    /// Schema current and SQLite's quick_check clean.
    pub fn healthy(&self) -> bool {
        self.quick_check_ok && self.schema_version == self.latest_schema_version
    }
}

impl std::fmt::Display for StoreHealth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} schema v{}",
            self.database_path.display(),
            self.schema_version
        )?;
        if self.schema_version == self.latest_schema_version {
            write!(f, " (latest)")?;
        } else {
            write!(f, " (code expects v{})", self.latest_schema_version)?;
        }
        if self.quick_check_ok {
            write!(f, ", integrity ok")?;
        } else {
            write!(
                f,
                ", integrity check FAILED: {}",
                self.quick_check.replace('\n', "; ")
            )?;
        }
        write!(
            f,
            ", {} mailbox(es), {} message(s), {} queued, {} audit record(s), {} KiB",
            self.mailboxes,
            self.messages,
            self.queue,
            self.audit,
            self.database_bytes / 1024
        )
    }
}

/// A message accepted by SMTP: its local deliveries, its queue entry and its audit line, all
/// committed in one transaction (one fsync, all or nothing).
#[derive(Debug)]
pub struct Acceptance {
    pub delivery: Option<Delivery>,
    pub queued: Option<NewQueued>,
    pub audit: AuditEvent,
    /// Usage counters of the message, committed with it.
    pub usage: Vec<crate::document_model::UsageCount>,
    /// Professional-to-citizen messages, for the citizen rules.
    pub exchanges: Vec<crate::citizen_model::CitizenExchange>,
    /// Citizen mailboxes to notify of the new message (the outbox, committed with it).
    pub notify: Vec<MailboxId>,
}

/// Where an accepted message went.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub delivered: Vec<Delivered>,
    pub queued: Option<QueueId>,
}

/// What a grantee may do with a mailbox granted to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rights {
    /// See the mailbox (IMAP shared namespace), read its messages.
    pub read: bool,
    /// Change flags, move, expunge, append.
    pub write: bool,
    /// Send as the mailbox (MAIL FROM).
    pub send: bool,
}

impl Rights {
    /// Parses a comma-separated list: `read,write,send` (any order, at least one).
    pub fn parse(text: &str) -> std::result::Result<Rights, String> {
        let mut rights = Rights::default();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word.to_ascii_lowercase().as_str() {
                "read" => rights.read = true,
                "write" => rights.write = true,
                "send" => rights.send = true,
                other => {
                    return Err(format!(
                        "unknown right \"{other}\": use read, write and/or send"
                    ));
                }
            }
        }
        if rights == Rights::default() {
            return Err("give at least one right: read, write or send".into());
        }
        Ok(rights)
    }

    /// The stored form: a subset of "rws" in that order.
    pub(crate) fn code(self) -> String {
        [(self.read, 'r'), (self.write, 'w'), (self.send, 's')]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, c)| *c)
            .collect()
    }

    pub(crate) fn from_code(code: &str) -> Rights {
        Rights {
            read: code.contains('r'),
            write: code.contains('w'),
            send: code.contains('s'),
        }
    }
}

impl std::fmt::Display for Rights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<&str> = [
            (self.read, "read"),
            (self.write, "write"),
            (self.send, "send"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| *w)
        .collect();
        f.write_str(&words.join(","))
    }
}

/// Rights on `mailbox` held by `grantee`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub mailbox: Address,
    pub grantee: Address,
    pub rights: Rights,
    /// Unix seconds.
    pub granted_at: i64,
}

/// How many entries the outbound queue holds and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueSummary {
    pub depth: u64,
    /// Unix seconds of the oldest entry's creation; None when the queue is empty.
    pub oldest_created_at: Option<i64>,
}

/// Counters of the group-commit writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Committed transactions, i.e. WAL fsyncs.
    pub commits: u64,
    /// Jobs made durable by those commits.
    pub writes: u64,
    /// Batches rolled back and run again job by job because one job failed (PostgreSQL's
    /// pipelined accepts; always 0 on SQLite, whose batches never run twice).
    pub retried: u64,
}

/// How `store_flags` combines the given flags with a message's current ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Replace,
    Add,
    Remove,
}

/// A message's flags after a STORE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagUpdate {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Vec<String>,
}

/// What one STORE command did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlagsOutcome {
    /// Messages whose flags are now as listed (changed or not), in UID order.
    pub updated: Vec<FlagUpdate>,
    /// UIDs left alone because their modseq > unchanged_since (RFC 7162 MODIFIED).
    pub modified: Vec<u32>,
}

/// What changed in a folder after a given modseq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Current counters.
    pub folder: Folder,
    /// Messages with modseq > since, in UID order.
    pub changed: Vec<MessageMeta>,
    /// UIDs expunged with modseq > since, ascending.
    pub expunged: Vec<u32>,
}

/// Where copied (or moved) messages landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// UIDVALIDITY of the destination folder.
    pub uid_validity: u32,
    /// (source UID, new destination UID), in source UID order; unknown source UIDs skipped.
    pub pairs: Vec<(u32, u32)>,
}

/// Storage used by a mailbox, as IMAP QUOTA sees it (a blob in two folders counts twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaUsage {
    pub used_bytes: u64,
    pub used_messages: u64,
    pub limit_bytes: Option<u64>,
}

/// A committed change to a folder, published on the [`crate::ChangeFeed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderChange {
    pub mailbox: MailboxId,
    pub folder: FolderId,
    pub highest_modseq: u64,
}

/// A pending new-message notification (the mailbox id and counts only: no address, no INS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub mailbox: MailboxId,
    pub new_messages: u32,
    pub attempts: u32,
    /// Unix seconds.
    pub created_at: i64,
}
