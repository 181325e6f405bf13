//! Counters and queue figures for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use mssd_store::Queued;

/// Recipient outcomes since start, and reports sent.
#[derive(Debug, Default)]
pub struct OutboundStats {
    pub delivered: AtomicU64,
    pub deferred: AtomicU64,
    pub failed: AtomicU64,
    /// Sessions refused because the peer's DN is not listed, or TLS/STARTTLS failed.
    pub refused_peers: AtomicU64,
    /// DSNs (bounces and success reports) generated.
    pub reports: AtomicU64,
}

impl OutboundStats {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// `(delivered, deferred, failed, refused_peers, reports)`.
    pub fn snapshot(&self) -> (u64, u64, u64, u64, u64) {
        (
            self.delivered.load(Ordering::Relaxed),
            self.deferred.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
            self.refused_peers.load(Ordering::Relaxed),
            self.reports.load(Ordering::Relaxed),
        )
    }
}

/// The queue at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Entries on the queue.
    pub depth: usize,
    /// Entries with no further attempt planned.
    pub parked: usize,
    /// Age in seconds of the oldest entry (0 when empty).
    pub oldest_age_secs: i64,
}

impl QueueStats {
    pub fn of(entries: &[Queued], now: i64) -> QueueStats {
        let oldest = entries.iter().map(|e| e.created_at).min();
        QueueStats {
            depth: entries.len(),
            parked: entries.iter().filter(|e| e.next_attempt.is_none()).count(),
            oldest_age_secs: oldest.map_or(0, |t| now.saturating_sub(t).max(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mssd_store::QueueId;

    fn entry(created_at: i64, next_attempt: Option<i64>) -> Queued {
        Queued {
            id: QueueId(1),
            sender: None,
            recipients: Vec::new(),
            message: Vec::new(),
            sha256: String::new(),
            envelope: serde_json::Value::Null,
            created_at,
            next_attempt,
            attempts: 0,
            last_error: None,
        }
    }

    #[test]
    fn queue_figures() {
        let cases: Vec<(Vec<Queued>, QueueStats)> = vec![
            (vec![], QueueStats::default()),
            (
                vec![entry(900, Some(1000))],
                QueueStats {
                    depth: 1,
                    parked: 0,
                    oldest_age_secs: 100,
                },
            ),
            (
                vec![
                    entry(990, Some(1000)),
                    entry(400, None),
                    entry(1200, Some(1300)),
                ],
                QueueStats {
                    depth: 3,
                    parked: 1,
                    oldest_age_secs: 600,
                },
            ),
        ];
        for (entries, expected) in cases {
            assert_eq!(QueueStats::of(&entries, 1000), expected);
        }
    }
}
