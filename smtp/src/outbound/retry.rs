//! When to try a deferred message again: a schedule of delays after the first, second, ...
//! attempt (the last delay repeats), bounded by the entry's expiry.

use std::time::Duration;

/// Delays between attempts. `delays[n - 1]` follows the n-th attempt; past the end the last
/// delay repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    /// 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, then every 4 h.
    fn default() -> Self {
        let minutes = [1, 5, 15, 30, 60, 120, 240];
        RetrySchedule {
            delays: minutes
                .iter()
                .map(|m| Duration::from_secs(m * 60))
                .collect(),
        }
    }
}

impl RetrySchedule {
    /// An empty list gives the default schedule.
    pub fn new(delays: Vec<Duration>) -> RetrySchedule {
        if delays.is_empty() {
            RetrySchedule::default()
        } else {
            RetrySchedule { delays }
        }
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The delay after `attempts` attempts (counting the one just made, so at least 1).
    pub fn delay_after(&self, attempts: u32) -> Duration {
        let index = (attempts.max(1) as usize - 1).min(self.delays.len().saturating_sub(1));
        self.delays
            .get(index)
            .copied()
            .unwrap_or(Duration::from_secs(60))
    }

    /// Unix seconds of the next attempt after `attempts` attempts at `now`. Never later than
    /// `expires_at`, so an entry that cannot be delivered is bounced on time, not a retry
    /// interval late.
    pub fn next_attempt(&self, attempts: u32, now: i64, expires_at: i64) -> i64 {
        let delay = i64::try_from(self.delay_after(attempts).as_secs()).unwrap_or(i64::MAX);
        now.saturating_add(delay).min(expires_at.max(now))
    }
}

/// Parses `30s`, `5m`, `4h`, `5d` (a bare number is seconds), for configuration.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(seconds).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_follow_the_schedule_then_repeat_the_last() {
        let schedule = RetrySchedule::default();
        let cases: &[(u32, u64)] = &[
            (0, 60),
            (1, 60),
            (2, 300),
            (3, 900),
            (4, 1800),
            (5, 3600),
            (6, 7200),
            (7, 14_400),
            (8, 14_400),
            (500, 14_400),
        ];
        for &(attempts, seconds) in cases {
            assert_eq!(
                schedule.delay_after(attempts),
                Duration::from_secs(seconds),
                "after {attempts} attempts"
            );
        }
        assert_eq!(RetrySchedule::new(Vec::new()), schedule);
        let custom = RetrySchedule::new(vec![Duration::from_secs(2), Duration::from_secs(7)]);
        assert_eq!(custom.delay_after(1), Duration::from_secs(2));
        assert_eq!(custom.delay_after(9), Duration::from_secs(7));
    }

    #[test]
    fn next_attempt_is_bounded_by_expiry() {
        let schedule = RetrySchedule::default();
        // (attempts, now, expires_at, next)
        let cases: &[(u32, i64, i64, i64)] = &[
            (1, 1000, 100_000, 1060),
            (7, 1000, 100_000, 15_400),
            (7, 1000, 5000, 5000),
            (1, 1000, 900, 1000),
            (1, i64::MAX - 10, i64::MAX, i64::MAX),
        ];
        for &(attempts, now, expires, next) in cases {
            assert_eq!(
                schedule.next_attempt(attempts, now, expires),
                next,
                "{attempts} {now} {expires}"
            );
        }
    }

    #[test]
    fn durations() {
        let cases: &[(&str, Option<u64>)] = &[
            ("30s", Some(30)),
            ("5m", Some(300)),
            ("4h", Some(14_400)),
            ("5d", Some(432_000)),
            ("90", Some(90)),
            (" 2 h ", Some(7200)),
            ("", None),
            ("h", None),
            ("5w", None),
            ("-5m", None),
            ("99999999999999999999d", None),
        ];
        for &(text, seconds) in cases {
            assert_eq!(
                parse_duration(text),
                seconds.map(Duration::from_secs),
                "{text:?}"
            );
        }
    }
}
