//! What a migration tells its caller as it goes (a progress bar in the CLI: the store does not
//! depend on one) and what it found at the end.

use crate::error::Result;
use crate::model::AuditVerification;

/// Called as the migration goes. `rows_copied` returning an error stops the migration after
/// that batch, which is committed: running it again resumes there.
pub trait MigrationProgress: Send {
    /// A table's copy starts (or resumes, with `already` rows copied by an earlier run).
    fn table_started(&mut self, table: &str, total_rows: u64, already: u64);
    /// A batch of `rows` rows (`bytes` bytes of values) was committed.
    fn rows_copied(&mut self, table: &str, rows: u64, bytes: u64) -> Result<()>;
    /// Every row of the table is copied.
    fn table_finished(&mut self, table: &str);
    /// Verification reads `table` on both sides.
    fn verifying(&mut self, table: &str);
}

/// A progress sink that shows nothing.
#[derive(Debug, Default)]
pub struct NoProgress;

impl MigrationProgress for NoProgress {
    fn table_started(&mut self, _: &str, _: u64, _: u64) {}
    fn rows_copied(&mut self, _: &str, _: u64, _: u64) -> Result<()> {
        Ok(())
    }
    fn table_finished(&mut self, _: &str) {}
    fn verifying(&mut self, _: &str) {}
}

/// How the run began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationStart {
    /// Into an empty database.
    Fresh,
    /// After an interrupted run from the same source.
    Resumed,
    /// The target already held this source, copied and verified: only verified again.
    AlreadyDone,
}

/// One table compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCheck {
    pub table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    pub source_digest: String,
    pub target_digest: String,
}

impl TableCheck {
    pub fn matches(&self) -> bool {
        self.source_rows == self.target_rows && self.source_digest == self.target_digest
    }
}

/// What a migration did and found.
#[derive(Debug, Clone)]
pub struct MigrationReport {
    pub start: MigrationStart,
    /// Rows and bytes of values copied by this run (not by an earlier, interrupted one).
    pub rows_copied: u64,
    pub bytes_copied: u64,
    pub copy_seconds: f64,
    pub verify_seconds: f64,
    pub tables: Vec<TableCheck>,
    /// The audit chain walked on each side; equal when the trail was carried over intact.
    pub source_audit: AuditVerification,
    pub target_audit: AuditVerification,
    /// The source changed between the copy and the verification (a server wrote to it).
    pub source_changed: bool,
}

impl MigrationReport {
    /// Every table equal, the audit chains alike, the source unchanged.
    pub fn verified(&self) -> bool {
        !self.source_changed
            && self.tables.iter().all(TableCheck::matches)
            && self.source_audit == self.target_audit
    }
}
