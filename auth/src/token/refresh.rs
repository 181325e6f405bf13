//! Keys fetched from the issuer: the hook the server plugs its download into, and the rate
//! limit of refreshes a token naming an unknown key may cause.
//!
//! Issuers rotate keys: a token signed with a new key names a `kid` our set does not hold yet.
//! Rather than refusing every such login until the next periodic refresh, the validator asks
//! its [`KeySource`] for the current set and tries the token once more. Anyone can send a
//! token with a made-up `kid`, so such refreshes are limited to one per
//! [`KeySource::min_interval`]: the issuer is never hammered on an attacker's behalf.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::token::jwks::Jwks;

/// Shortest interval between two refreshes caused by unknown keys, unless configured.
pub const UNKNOWN_KID_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// Fetches an issuer's current key set. mssd-auth does no I/O: the server implements it (an
/// HTTPS download, kept in the store so a restart while the issuer is down still has keys).
#[async_trait::async_trait]
pub trait JwksFetcher: Send + Sync {
    /// The issuer's keys now, or why they could not be had (logged by the caller).
    async fn fetch(&self) -> std::result::Result<Jwks, String>;
}

/// Where a validator gets fresh keys.
#[derive(Clone)]
pub struct KeySource {
    pub fetcher: Arc<dyn JwksFetcher>,
    /// At most one refresh for unknown keys per this interval.
    pub min_interval: Duration,
}

impl KeySource {
    pub fn new(fetcher: Arc<dyn JwksFetcher>) -> KeySource {
        KeySource {
            fetcher,
            min_interval: UNKNOWN_KID_REFRESH_INTERVAL,
        }
    }
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySource")
            .field("min_interval", &self.min_interval)
            .finish_non_exhaustive()
    }
}

/// When the last refresh started, and whether another may start now.
#[derive(Debug)]
pub(crate) struct RefreshGate {
    min_interval: Duration,
    last: Option<Instant>,
}

impl RefreshGate {
    pub(crate) fn new(min_interval: Duration) -> RefreshGate {
        RefreshGate {
            min_interval,
            last: None,
        }
    }

    /// True (and the start recorded) when no refresh started within `min_interval` of `now`.
    pub(crate) fn try_start(&mut self, now: Instant) -> bool {
        let open = self
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= self.min_interval);
        if open {
            self.last = Some(now);
        }
        open
    }

    /// Records a refresh started regardless of the gate (the periodic one).
    pub(crate) fn started(&mut self, now: Instant) {
        self.last = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_table() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        // (event, seconds after t0, expected answer of try_start; `None`: a periodic start)
        let steps: [(&str, u64, Option<bool>); 7] = [
            ("first unknown kid", 0, Some(true)),
            ("another at once", 1, Some(false)),
            ("just before the interval", 29, Some(false)),
            ("at the interval", 30, Some(true)),
            ("periodic refresh", 45, None),
            ("unknown kid after the periodic one", 60, Some(false)),
            ("interval after the periodic one", 75, Some(true)),
        ];
        let mut gate = RefreshGate::new(UNKNOWN_KID_REFRESH_INTERVAL);
        for (event, at, expected) in steps {
            match expected {
                Some(open) => assert_eq!(gate.try_start(t0 + s(at)), open, "{event}"),
                None => gate.started(t0 + s(at)),
            }
        }
        let mut open = RefreshGate::new(Duration::ZERO);
        assert!(open.try_start(t0) && open.try_start(t0));
    }
}
