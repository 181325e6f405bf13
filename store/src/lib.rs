//! mssd-store: durable storage for mssd.
//!
//! [`Store`] is the contract (mailboxes, folders and messages, outbound queue, audit trail);
//! [`SqliteStore`] implements it on SQLite. Durable before acknowledged: a write returns `Ok` only
//! once its transaction is committed with the WAL fsynced. All writes go through one thread that
//! commits pending jobs together (group commit), so many sessions share one fsync.

mod error;
pub mod flags;
mod model;
mod sqlite;
mod store;

pub use error::{Error, Result};
pub use model::{
    AuditEvent, AuditRecord, Delivered, Delivery, Folder, FolderId, Mailbox, MailboxId,
    MailboxStatus, MessageMeta, NewMailbox, NewQueued, QueueId, QueueSummary, Queued,
    QueuedRecipient, RecipientStatus, StoreHealth, WriterStats,
};
pub use sqlite::{SqliteOptions, SqliteStore, latest_schema_version, migration_scripts};
pub use store::Store;
