//! Throttling of failed authentications, per client IP and per (client IP, account), as
//! Dovecot does: never per account alone, since addresses are public in the Annuaire and
//! anyone could otherwise lock anyone out.
//!
//! Pure logic: every method takes `now`, so tests drive the clock. Failures are counted in
//! a sliding window; from the `max_failures`-th failure in the window on (for an IP alone,
//! `IP_FAILURE_FACTOR` times as many, since one NAT address serves a whole hospital),
//! further attempts are refused for a delay that doubles with each failure, up to
//! `max_delay`. An attempt is reserved before its password is verified and counts as a
//! failure until it is known: 64 simultaneous guesses cannot all get through the check.
//! Tables are bounded: past `max_entries` the least recently touched entry is forgotten.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use mssd_core::client_source;

/// Failures kept per key beyond `max_failures`: enough for the delay to reach any
/// sensible cap (2^16 times the initial delay).
const EXTRA_FAILURES_KEPT: usize = 16;
/// An IP alone may fail this many times more than one (IP, account) pair.
pub const IP_FAILURE_FACTOR: u32 = 4;
/// What a client refused for lack of a free attempt (others in flight) is told to wait.
const IN_FLIGHT_RETRY: Duration = Duration::from_secs(1);

/// Settings of the throttle (`[auth.throttle]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures within `window` before attempts are refused.
    pub max_failures: u32,
    pub window: Duration,
    /// The first refusal delay; it doubles with each further failure.
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// Bound of each table (IPs, accounts).
    pub max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            initial_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(15 * 60),
            max_entries: 100_000,
        }
    }
}

/// Failure counters per IP and per (IP, account).
pub struct Throttle {
    config: ThrottleConfig,
    ips: FailureTable<IpAddr>,
    pairs: FailureTable<(IpAddr, String)>,
}

/// An attempt under way: it holds a slot in each table until `finish`.
#[derive(Debug)]
pub struct Attempt {
    ip: IpAddr,
    pair: Option<(IpAddr, String)>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            ips: FailureTable::new(config.max_entries),
            pairs: FailureTable::new(config.max_entries),
            config,
        }
    }

    fn ip_limit(&self) -> usize {
        self.config.max_failures.saturating_mul(IP_FAILURE_FACTOR) as usize
    }

    fn pair_limit(&self) -> usize {
        self.config.max_failures as usize
    }

    /// How long the client must wait, when its IP or its (IP, account) pair is blocked at
    /// `now` (attempts in flight count as failures).
    pub fn retry_after(&self, ip: IpAddr, account: Option<&str>, now: Instant) -> Option<Duration> {
        let ip = client_source(ip);
        let by_ip = self
            .ips
            .retry_after(&ip, now, self.ip_limit(), &self.config);
        let by_pair = account.and_then(|a| {
            let key = (ip, account_key(a));
            self.pairs
                .retry_after(&key, now, self.pair_limit(), &self.config)
        });
        by_ip.max(by_pair)
    }

    /// Reserves an attempt, or says how long to wait. The attempt counts as a failure
    /// until `finish` says otherwise.
    pub fn begin(
        &mut self,
        ip: IpAddr,
        account: Option<&str>,
        now: Instant,
    ) -> Result<Attempt, Duration> {
        if let Some(wait) = self.retry_after(ip, account, now) {
            return Err(wait);
        }
        let ip = client_source(ip);
        self.ips.touch(ip, now).in_flight += 1;
        let pair = account.map(|a| (ip, account_key(a)));
        if let Some(pair) = &pair {
            self.pairs.touch(pair.clone(), now).in_flight += 1;
        }
        Ok(Attempt { ip, pair })
    }

    /// Ends an attempt: a failure is counted; a success forgets the pair's failures (not
    /// the IP's: one good password must not clear a spray from the same address).
    pub fn finish(&mut self, attempt: Attempt, failed: bool, now: Instant) {
        self.ips.settle(&attempt.ip);
        if let Some(pair) = &attempt.pair {
            self.pairs.settle(pair);
        }
        if failed {
            self.count_failure(attempt, now);
        } else if let Some(pair) = &attempt.pair {
            self.pairs.remove(pair);
        }
    }

    /// A failure outside `begin`/`finish` (tests, and attempts refused before any check).
    pub fn record_failure(&mut self, ip: IpAddr, account: Option<&str>, now: Instant) {
        let attempt = Attempt {
            ip: client_source(ip),
            pair: account.map(|a| (client_source(ip), account_key(a))),
        };
        self.count_failure(attempt, now);
    }

    fn count_failure(&mut self, attempt: Attempt, now: Instant) {
        let (ip_limit, pair_limit) = (self.ip_limit(), self.pair_limit());
        self.ips
            .record_failure(attempt.ip, now, ip_limit, &self.config);
        if let Some(pair) = attempt.pair {
            self.pairs
                .record_failure(pair, now, pair_limit, &self.config);
        }
    }

    pub fn tracked_ips(&self) -> usize {
        self.ips.entries.len()
    }

    pub fn tracked_accounts(&self) -> usize {
        self.pairs.entries.len()
    }
}

fn account_key(account: &str) -> String {
    account.to_lowercase()
}

struct Record {
    failures: VecDeque<Instant>,
    blocked_until: Option<Instant>,
    /// Attempts reserved and not yet finished.
    in_flight: usize,
    /// Position in `FailureTable::by_age`.
    touched: (Instant, u64),
}

/// A map bounded in size that forgets its least recently touched key first.
struct FailureTable<K> {
    entries: HashMap<K, Record>,
    by_age: BTreeMap<(Instant, u64), K>,
    next_sequence: u64,
    max_entries: usize,
}

impl<K: Hash + Eq + Clone> FailureTable<K> {
    fn new(max_entries: usize) -> Self {
        FailureTable {
            entries: HashMap::new(),
            by_age: BTreeMap::new(),
            next_sequence: 0,
            max_entries: max_entries.max(1),
        }
    }

    fn retry_after(
        &self,
        key: &K,
        now: Instant,
        limit: usize,
        config: &ThrottleConfig,
    ) -> Option<Duration> {
        let record = self.entries.get(key)?;
        if let Some(until) = record.blocked_until
            && until > now
        {
            return Some(until - now);
        }
        let recent = record
            .failures
            .iter()
            .filter(|&&t| now.saturating_duration_since(t) < config.window)
            .count();
        // Once the delay is over one attempt at a time may go; before the limit, as many as
        // would still fit under it if they all failed.
        (record.in_flight > 0 && recent + record.in_flight >= limit).then_some(IN_FLIGHT_RETRY)
    }

    /// The record of `key`, created if needed, made the youngest.
    fn touch(&mut self, key: K, now: Instant) -> &mut Record {
        let touched = (now, self.next_sequence);
        self.next_sequence += 1;
        if !self.entries.contains_key(&key) && self.entries.len() >= self.max_entries {
            self.evict_oldest();
        }
        let record = self.entries.entry(key.clone()).or_insert_with(|| Record {
            failures: VecDeque::new(),
            blocked_until: None,
            in_flight: 0,
            touched,
        });
        self.by_age.remove(&record.touched);
        record.touched = touched;
        self.by_age.insert(touched, key);
        record
    }

    fn settle(&mut self, key: &K) {
        if let Some(record) = self.entries.get_mut(key) {
            record.in_flight = record.in_flight.saturating_sub(1);
        }
    }

    fn record_failure(&mut self, key: K, now: Instant, limit: usize, config: &ThrottleConfig) {
        let record = self.touch(key, now);
        while record
            .failures
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= config.window)
        {
            record.failures.pop_front();
        }
        record.failures.push_back(now);
        if record.failures.len() > limit + EXTRA_FAILURES_KEPT {
            record.failures.pop_front();
        }
        let count = record.failures.len();
        if count >= limit {
            let doublings = (count - limit) as u32;
            record.blocked_until = Some(now + delay(config, doublings));
        }
    }

    fn remove(&mut self, key: &K) {
        if let Some(record) = self.entries.remove(key) {
            self.by_age.remove(&record.touched);
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((_, key)) = self.by_age.pop_first() {
            self.entries.remove(&key);
        }
    }
}

/// `initial_delay * 2^doublings`, capped at `max_delay`.
fn delay(config: &ThrottleConfig, doublings: u32) -> Duration {
    let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
    config
        .initial_delay
        .checked_mul(factor)
        .unwrap_or(config.max_delay)
        .min(config.max_delay)
}

#[cfg(test)]
#[path = "throttle_tests.rs"]
mod tests;
