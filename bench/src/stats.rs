//! Latency summary of a run: nearest-rank percentiles over every measured message.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencySummary {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

/// Summarises `samples` (sorted in place); `None` when there is none.
pub fn summarize(samples: &mut [Duration]) -> Option<LatencySummary> {
    samples.sort_unstable();
    let max = *samples.last()?;
    Some(LatencySummary {
        count: samples.len(),
        p50: percentile(samples, 50),
        p99: percentile(samples, 99),
        max,
    })
}

/// Nearest-rank percentile of sorted, non-empty `sorted`: the smallest sample with at least
/// `pct` % of the samples at or below it.
fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// Messages per second, 0 for an empty run.
pub fn rate(count: usize, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn summaries_table() {
        let hundred: Vec<u64> = (1..=100).rev().collect();
        /// (samples in ms, expected (count, p50, p99, max) in ms)
        type Case = (Vec<u64>, Option<(usize, u64, u64, u64)>);
        let cases: Vec<Case> = vec![
            (vec![], None),
            (vec![7], Some((1, 7, 7, 7))),
            (vec![3, 1, 2], Some((3, 2, 3, 3))),
            (vec![10, 20, 30, 40], Some((4, 20, 40, 40))),
            (hundred, Some((100, 50, 99, 100))),
        ];
        for (input, expected) in cases {
            let mut samples = ms(&input);
            let got = summarize(&mut samples);
            let expected = expected.map(|(count, p50, p99, max)| LatencySummary {
                count,
                p50: Duration::from_millis(p50),
                p99: Duration::from_millis(p99),
                max: Duration::from_millis(max),
            });
            assert_eq!(got, expected, "{input:?}");
        }
    }

    #[test]
    fn rates_table() {
        let cases = [
            (0, Duration::ZERO, 0.0),
            (10, Duration::ZERO, 0.0),
            (1000, Duration::from_secs(2), 500.0),
            (5000, Duration::from_millis(2500), 2000.0),
        ];
        for (count, elapsed, expected) in cases {
            assert_eq!(rate(count, elapsed), expected, "{count} in {elapsed:?}");
        }
    }
}
