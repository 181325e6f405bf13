//! mssd-store: durable storage for mssd.
//!
//! [`Store`] is the contract (mailboxes, folders and messages, outbound queue, audit trail);
//! [`SqliteStore`] implements it on SQLite. Durable before acknowledged: a write returns `Ok` only
//! once its transaction is committed with the WAL fsynced. All writes go through one thread that
//! commits pending jobs together (group commit), so many sessions share one fsync.

mod blob_files;
mod change_feed;
mod citizen_model;
mod directory_model;
mod directory_store;
mod document_model;
mod error;
mod exclusive_job;
pub mod flags;
mod ids;
mod migrate;
mod model;
mod postgres;
mod sqlite;
mod store;

pub use blob_files::{
    BlobDir, BlobWriter, MessageBytes, SPILL_THRESHOLD, StagedBlob, blob_file_path, header_end,
};
pub use change_feed::ChangeFeed;
pub use citizen_model::{CitizenExchange, ExchangeHistory};
pub use directory_model::{
    ActivitySite, DirectoryActivity, DirectoryDiff, DirectoryGeneration, DirectoryMailbox,
    DirectoryProfessional, DirectoryRows, DirectorySet, DirectorySetStatus, ProfessionalIdentity,
};
pub use directory_store::DirectoryStore;
pub use document_model::{
    Direction, DocumentAction, DocumentStatus, IndexedDocument, IndicatorRow, NewDocument,
    UsageCount,
};
pub use error::{Error, Result};
pub use exclusive_job::ExclusiveJob;
pub use migrate::{
    MigrationProgress, MigrationReport, MigrationStart, NoProgress, PostgresTarget, TableCheck,
    migrate_sqlite_to_postgres, postgres_requires_tls, postgres_target_name,
};
pub use model::{
    Acceptance, Accepted, Appended, AuditEvent, AuditQuery, AuditRecord, AuditVerification,
    Changes, CopyOutcome, Delivered, Delivery, FlagOp, FlagUpdate, FlagsOutcome, Folder,
    FolderChange, FolderId, Grant, Mailbox, MailboxId, MailboxStatus, MessageMeta, NewMailbox,
    NewQueued, Notification, QueueId, QueueSummary, Queued, QueuedRecipient, QuotaUsage,
    RecipientStatus, Rights, StoreHealth, WriterStats,
};
pub use postgres::{
    PostgresOptions, PostgresStore, PostgresTls, postgres_latest_schema_version,
    postgres_migration_scripts,
};
pub use sqlite::{
    ListingSummarizer, Snapshot, SqliteOptions, SqliteStore, blob_dir_of, latest_schema_version,
    migration_scripts, referenced_blob_files, sqlite_quick_check, sqlite_snapshot,
};
pub use store::Store;
