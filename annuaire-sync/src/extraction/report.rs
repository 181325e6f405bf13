//! What an import did, with exact counts; kept in the store for `mssd doctor` and `/metrics`.

use mssd_store::{DirectoryDiff, DirectorySet};
use serde::{Deserialize, Serialize};

use super::columns::FileKind;
use super::parser::ParseCounts;

/// The outcome of one import, applied or refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub file: FileKind,
    /// The path or URL imported.
    pub source: String,
    #[serde(flatten)]
    pub counts: ParseCounts,
    /// Distinct entries: mailboxes (by address) or professionals (by idNat_PS).
    pub entries: u64,
    /// Accepted lines merged into an entry seen on an earlier line.
    pub merged: u64,
    /// Against the directory in force before this import (key samples capped).
    pub diff: DirectoryDiff,
    /// True when the new directory is now in force.
    pub replaced: bool,
    /// True when `--force` overrode a refusal.
    pub forced: bool,
    /// Why the import was not applied.
    pub refused: Option<String>,
    /// Unix seconds.
    pub finished_at: i64,
    pub elapsed_ms: u64,
}

/// Store document holding the last import report of `set` (JSON).
pub fn report_document(set: DirectorySet) -> String {
    format!("annuaire/last-import-{}.json", set.as_str())
}

/// Store document holding the diff of the last applied import of `set` (JSON).
pub fn diff_document(set: DirectorySet) -> String {
    format!("annuaire/last-diff-{}.json", set.as_str())
}
