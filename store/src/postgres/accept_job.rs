//! An acceptance as the group committer ([`super::group_commit`]) queues it, with its bodies
//! read and digested beforehand, outside any transaction.

use super::blobs::Ready;
use crate::model::Acceptance;

/// An acceptance with its message bodies read and digested (outside any transaction).
pub(crate) struct AcceptJob {
    pub acceptance: Acceptance,
    pub delivery: Option<Ready>,
    pub queued: Option<Ready>,
    pub now: i64,
}

impl AcceptJob {
    /// Bytes in memory, to bound a batch.
    pub(crate) fn weight(&self) -> usize {
        let size = |r: &Option<Ready>| r.as_ref().map_or(0, |r| r.bytes.len());
        size(&self.delivery) + size(&self.queued)
    }

    /// Whether it can take the pipelined way ([`super::accept_pipelined`]): neither health
    /// documents nor citizen exchanges (their writes depend on what earlier statements found).
    pub(crate) fn pipelinable(&self) -> bool {
        let a = &self.acceptance;
        a.exchanges.is_empty() && a.delivery.as_ref().is_none_or(|d| d.documents.is_empty())
    }
}
