//! What the refresh machinery did last, for `/metrics` and `mssd doctor`.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::diff::{DiffSummary, TrustListDiff};

/// Result of one refresh attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum RefreshOutcome {
    /// The new list is in force. `forced`: the age and removal-share rules were skipped.
    Accepted { summary: DiffSummary, forced: bool },
    /// Same `DateDeGeneration` as the list in force: nothing changed.
    Unchanged,
    /// The previous list stays in force. `kind` is [`crate::Error::kind`].
    Refused { kind: &'static str, reason: String },
}

/// What [`crate::TrustListHandle::restore`] found in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// No list was ever saved: starting empty (nothing listed) until a refresh succeeds.
    NothingStored,
    /// The saved list is in force.
    Restored {
        generated_at: OffsetDateTime,
        domains: usize,
    },
    /// The saved copy cannot be used: starting empty, and why.
    Unusable { reason: String },
}

/// A successful refresh or forced load.
#[derive(Clone, Debug)]
pub struct RefreshReport {
    pub outcome: RefreshOutcome,
    /// Empty when unchanged.
    pub diff: TrustListDiff,
    pub generated_at: OffsetDateTime,
    pub domains: usize,
    pub entries: usize,
    /// `<Domaine>` elements of the new list skipped as invalid.
    pub skipped_entries: usize,
    pub sha256: String,
    /// False when the list is in force but could not be saved to the store (logged); a
    /// restart would then enforce the previously saved one.
    pub persisted: bool,
}

/// Counters and the latest results of the refresh machinery, with the list in force.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RefreshStatus {
    pub last_attempt: Option<OffsetDateTime>,
    /// Last attempt that ended Accepted or Unchanged.
    pub last_success: Option<OffsetDateTime>,
    pub last_result: Option<RefreshOutcome>,
    pub accepted: u64,
    pub unchanged: u64,
    pub refused: u64,
    /// Refusals by [`crate::Error::kind`].
    pub refused_by_kind: BTreeMap<&'static str, u64>,
    /// The list in force: its `DateDeGeneration` (`None` when empty), counts and digest.
    pub generated_at: Option<OffsetDateTime>,
    pub entries: usize,
    pub domains: usize,
    pub skipped_entries: usize,
    pub sha256: Option<String>,
    /// What start-up restored, when the handle came from `restore`.
    pub restored: Option<RestoreOutcome>,
    /// Why the last accepted list could not be saved, until one is saved again.
    pub last_persist_error: Option<String>,
}

impl RefreshStatus {
    /// The refresh history as saved in the store for other processes (`mssd doctor`).
    pub fn to_json(&self) -> serde_json::Value {
        let time = |t: Option<OffsetDateTime>| t.map(|t| t.unix_timestamp());
        let last = match &self.last_result {
            None => serde_json::Value::Null,
            Some(RefreshOutcome::Accepted { summary, forced }) => serde_json::json!({
                "result": "accepted", "forced": forced,
                "domains_added": summary.domains_added, "domains_removed": summary.domains_removed,
                "dns_added": summary.dns_added, "dns_removed": summary.dns_removed,
            }),
            Some(RefreshOutcome::Unchanged) => serde_json::json!({ "result": "unchanged" }),
            Some(RefreshOutcome::Refused { kind, reason }) => {
                serde_json::json!({ "result": "refused", "kind": kind, "reason": reason })
            }
        };
        serde_json::json!({
            "last_attempt": time(self.last_attempt),
            "last_success": time(self.last_success),
            "last_result": last,
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "refused": self.refused,
        })
    }
}
