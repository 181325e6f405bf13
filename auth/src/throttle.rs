//! Throttling of failed authentications, per client IP and per account.
//!
//! Pure logic: every method takes `now`, so tests drive the clock. Failures are counted in
//! a sliding window; from the `max_failures`-th failure in the window on, further attempts
//! are refused for a delay that doubles with each failure, up to `max_delay`. Tables are
//! bounded: past `max_entries` the least recently touched entry is forgotten.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// IPv6 clients usually hold a whole /64: count them as one.
const IPV6_PREFIX_SEGMENTS: usize = 4;
/// Failures kept per key beyond `max_failures`: enough for the delay to reach any
/// sensible cap (2^16 times the initial delay).
const EXTRA_FAILURES_KEPT: usize = 16;

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

/// Failure counters per IP and per account.
pub struct Throttle {
    config: ThrottleConfig,
    ips: FailureTable<IpAddr>,
    accounts: FailureTable<String>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            ips: FailureTable::new(config.max_entries),
            accounts: FailureTable::new(config.max_entries),
            config,
        }
    }

    /// How long the client must wait, when the IP or the account is blocked at `now`.
    pub fn retry_after(&self, ip: IpAddr, account: Option<&str>, now: Instant) -> Option<Duration> {
        let by_ip = self.ips.retry_after(&ip_key(ip), now);
        let by_account = account.and_then(|a| self.accounts.retry_after(&account_key(a), now));
        by_ip.max(by_account)
    }

    pub fn record_failure(&mut self, ip: IpAddr, account: Option<&str>, now: Instant) {
        self.ips.record_failure(ip_key(ip), now, &self.config);
        if let Some(account) = account {
            self.accounts
                .record_failure(account_key(account), now, &self.config);
        }
    }

    /// A success forgets the account's failures (not the IP's: one good password must not
    /// clear a spray from the same address).
    pub fn record_success(&mut self, account: &str) {
        self.accounts.remove(&account_key(account));
    }

    pub fn tracked_ips(&self) -> usize {
        self.ips.entries.len()
    }

    pub fn tracked_accounts(&self) -> usize {
        self.accounts.entries.len()
    }
}

fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[IPV6_PREFIX_SEGMENTS..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

fn account_key(account: &str) -> String {
    account.to_lowercase()
}

struct Record {
    failures: VecDeque<Instant>,
    blocked_until: Option<Instant>,
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

    fn retry_after(&self, key: &K, now: Instant) -> Option<Duration> {
        let until = self.entries.get(key)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    fn record_failure(&mut self, key: K, now: Instant, config: &ThrottleConfig) {
        let touched = (now, self.next_sequence);
        self.next_sequence += 1;
        if !self.entries.contains_key(&key) && self.entries.len() >= self.max_entries {
            self.evict_oldest();
        }
        let record = self.entries.entry(key.clone()).or_insert_with(|| Record {
            failures: VecDeque::new(),
            blocked_until: None,
            touched,
        });
        self.by_age.remove(&record.touched);
        record.touched = touched;
        self.by_age.insert(touched, key);

        while record
            .failures
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= config.window)
        {
            record.failures.pop_front();
        }
        record.failures.push_back(now);
        if record.failures.len() > config.max_failures as usize + EXTRA_FAILURES_KEPT {
            record.failures.pop_front();
        }
        let count = record.failures.len();
        if count >= config.max_failures as usize {
            let doublings = (count - config.max_failures as usize) as u32;
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
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn config() -> ThrottleConfig {
        ThrottleConfig {
            max_failures: 3,
            window: 600 * SECOND,
            initial_delay: 10 * SECOND,
            max_delay: 60 * SECOND,
            max_entries: 4,
        }
    }

    #[test]
    fn delay_doubles_up_to_the_cap() {
        let cases = [(0, 10), (1, 20), (2, 40), (3, 60), (10, 60), (40, 60)];
        for (doublings, secs) in cases {
            assert_eq!(delay(&config(), doublings), secs * SECOND, "{doublings}");
        }
    }

    /// Each row: seconds since start, event, then the expected retry_after (seconds) for
    /// (ip, account) right after it.
    #[test]
    fn failure_sequence_table() {
        enum Event {
            Fail(&'static str, &'static str),
            Success(&'static str),
            Check(&'static str, &'static str),
        }
        use Event::*;
        let rows: &[(u32, Event, Option<u32>)] = &[
            (0, Fail("192.0.2.1", "a@x.fr"), None),
            (1, Fail("192.0.2.1", "a@x.fr"), None),
            (2, Fail("192.0.2.1", "a@x.fr"), Some(10)),
            (5, Check("192.0.2.1", "a@x.fr"), Some(7)),
            // The account is blocked from another IP too, case-insensitively.
            (5, Check("192.0.2.9", "A@X.FR"), Some(7)),
            // The IP is blocked for another account too.
            (5, Check("192.0.2.1", "b@x.fr"), Some(7)),
            (12, Check("192.0.2.1", "a@x.fr"), None),
            (12, Fail("192.0.2.1", "a@x.fr"), Some(20)),
            (32, Fail("192.0.2.1", "a@x.fr"), Some(40)),
            (72, Fail("192.0.2.1", "a@x.fr"), Some(60)),
            (132, Fail("192.0.2.1", "a@x.fr"), Some(60)),
            // Success clears the account, not the IP.
            (140, Success("a@x.fr"), None),
            (140, Check("192.0.2.77", "a@x.fr"), None),
            (140, Check("192.0.2.1", "a@x.fr"), Some(52)),
            // Past the window, old failures no longer count.
            (2000, Fail("192.0.2.1", "c@x.fr"), None),
            (2001, Fail("192.0.2.1", "c@x.fr"), None),
            (2002, Fail("192.0.2.1", "c@x.fr"), Some(10)),
        ];
        let start = Instant::now();
        let mut throttle = Throttle::new(config());
        for (at, event, expected) in rows {
            let now = start + *at * SECOND;
            let (checked_ip, checked_account) = match event {
                Fail(i, a) => {
                    throttle.record_failure(ip(i), Some(a), now);
                    (*i, *a)
                }
                Success(a) => {
                    throttle.record_success(a);
                    ("198.51.100.1", *a)
                }
                Check(i, a) => (*i, *a),
            };
            let got = throttle.retry_after(ip(checked_ip), Some(checked_account), now);
            assert_eq!(got, expected.map(|s| s * SECOND), "at {at}s");
        }
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let cases = [
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
            ("::ffff:192.0.2.5", "192.0.2.5"),
            ("192.0.2.5", "192.0.2.5"),
        ];
        for (input, key) in cases {
            assert_eq!(ip_key(ip(input)), ip(key), "{input}");
        }
        let start = Instant::now();
        let mut throttle = Throttle::new(config());
        for (i, addr) in ["2001:db8::1", "2001:db8::2", "2001:db8::3"]
            .iter()
            .enumerate()
        {
            throttle.record_failure(ip(addr), None, start + i as u32 * SECOND);
        }
        assert!(
            throttle
                .retry_after(ip("2001:db8::ffff"), None, start + 3 * SECOND)
                .is_some()
        );
        assert!(
            throttle
                .retry_after(ip("2001:db8:0:1::1"), None, start + 3 * SECOND)
                .is_none()
        );
    }

    #[test]
    fn tables_are_bounded_and_forget_the_oldest() {
        let start = Instant::now();
        let mut throttle = Throttle::new(config());
        // Block 192.0.2.0 first, then touch 5 other IPs: the table holds 4.
        for s in 0..3 {
            throttle.record_failure(ip("192.0.2.0"), None, start + s * SECOND);
        }
        assert!(
            throttle
                .retry_after(ip("192.0.2.0"), None, start + 3 * SECOND)
                .is_some()
        );
        for i in 1..=5u32 {
            throttle.record_failure(
                ip(&format!("192.0.2.{i}")),
                Some(&format!("u{i}@x.fr")),
                start + (3 + i) * SECOND,
            );
            assert!(throttle.tracked_ips() <= 4);
            assert!(throttle.tracked_accounts() <= 4);
        }
        assert_eq!(throttle.tracked_ips(), 4);
        assert_eq!(
            throttle.retry_after(ip("192.0.2.0"), None, start + 9 * SECOND),
            None
        );
        // Touching an entry makes it the youngest: 192.0.2.2 survives the next insert.
        throttle.record_failure(ip("192.0.2.2"), None, start + 10 * SECOND);
        throttle.record_failure(ip("192.0.2.9"), None, start + 11 * SECOND);
        throttle.record_failure(ip("192.0.2.2"), None, start + 12 * SECOND);
        assert!(
            throttle
                .retry_after(ip("192.0.2.2"), None, start + 12 * SECOND)
                .is_some()
        );
    }
}
