//! What `perf-bench` reads from the OS around each measure: the machine's load
//! (`/proc/loadavg`), the server's CPU time, its resident memory sampled during the measure
//! and its peak (VmHWM, reset before the measure through `/proc/<pid>/clear_refs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, io};
use crate::imap_proc::cpu_time;

/// How often the RSS sampler reads `/proc/<pid>/status`.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// The first three fields of `/proc/loadavg` (1, 5 and 15 minutes), as the file says them.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| loadavg_fields(&text))
        .unwrap_or_else(|e| format!("unreadable ({e})"))
}

fn loadavg_fields(text: &str) -> String {
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The value in KiB of the line `field:` (e.g. "VmHWM") of a `/proc/<pid>/status` text.
pub fn status_kib(status: &str, field: &str) -> Option<u64> {
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    let mut parts = line[field.len() + 1..].split_whitespace();
    let value = parts.next()?.parse().ok()?;
    (parts.next()? == "kB").then_some(value)
}

/// The field `field` (KiB) of `/proc/<pid>/status`.
pub fn proc_status_kib(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(io(format!("reading {path}")))?;
    status_kib(&text, field).ok_or_else(|| Error::Metrics(format!("no {field} line in {path}")))
}

/// Resets the peak RSS (VmHWM) of `pid` to its current RSS (proc(5): "5" to clear_refs).
pub fn reset_peak_rss(pid: u32) -> Result<()> {
    let path = format!("/proc/{pid}/clear_refs");
    std::fs::write(&path, "5").map_err(io(format!("writing 5 to {path}")))
}

/// One reading of `/proc/<pid>/status`, KiB: VmRSS is RssAnon (heap, stacks) + RssFile
/// (mapped files: the binary, SQLite's memory-mapped database) + RssShmem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RssSample {
    pub at: Instant,
    pub rss: u64,
    pub anon: u64,
    pub file: u64,
}

impl RssSample {
    fn parse(status: &str, at: Instant) -> Option<RssSample> {
        Some(RssSample {
            at,
            rss: status_kib(status, "VmRSS")?,
            anon: status_kib(status, "RssAnon")?,
            file: status_kib(status, "RssFile")?,
        })
    }

    /// "84.8 MB (anon 60.1, file 24.7)".
    pub fn describe(&self) -> String {
        let mb = |k: u64| k as f64 / 1024.0;
        format!(
            "{:.1} MB (anon {:.1}, file {:.1})",
            mb(self.rss),
            mb(self.anon),
            mb(self.file)
        )
    }
}

/// Samples the memory of a process on a thread until stopped.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<RssSample>>,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            let path = format!("/proc/{pid}/status");
            while !flag.load(Ordering::Relaxed) {
                if let Some(sample) = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| RssSample::parse(&text, Instant::now()))
                {
                    samples.push(sample);
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
            samples
        });
        RssSampler { stop, thread }
    }

    /// Every sample; none if the thread panicked.
    pub fn finish(self) -> Vec<RssSample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// The sample of largest VmRSS taken at or after `from` and before `to` (when given).
pub fn max_between(samples: &[RssSample], from: Instant, to: Option<Instant>) -> Option<RssSample> {
    samples
        .iter()
        .filter(|s| s.at >= from && to.is_none_or(|to| s.at < to))
        .max_by_key(|s| s.rss)
        .copied()
}

/// What the server (and this benchmark) used during one measure.
#[derive(Debug, Clone)]
pub struct Usage {
    pub started: Instant,
    pub wall: Duration,
    pub server_cpu: Option<Duration>,
    pub bench_cpu: Option<Duration>,
    /// The largest sampled VmRSS, KiB.
    pub rss_max_kib: Option<u64>,
    /// VmHWM at the end: the peak since the reset at the start (since the server started when
    /// the reset failed, see `hwm_reset`).
    pub hwm_kib: Option<u64>,
    pub hwm_reset: bool,
    pub rss_before_kib: Option<u64>,
    /// Every sample of the measure.
    pub samples: Vec<RssSample>,
}

impl Usage {
    /// The CPU time of the server and the bench, then the server's memory: before, the
    /// largest sample and when, and the peak (VmHWM).
    pub fn line(&self) -> String {
        let cpu = |d: Option<Duration>| d.map_or("?".into(), |d| format!("{:.1} s", secs(d)));
        let mb = |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.1} MB", k as f64 / 1024.0));
        let peak = max_between(&self.samples, self.started, None).map_or("-".into(), |s| {
            format!(
                "{} at +{:.0} ms",
                s.describe(),
                secs(s.at.duration_since(self.started)) * 1000.0
            )
        });
        format!(
            "CPU over {:.1} s of wall time: mssd {}, perf-bench {}\nmssd RSS {} before, sampled max {peak} ({} samples), VmHWM {}{}",
            secs(self.wall),
            cpu(self.server_cpu),
            cpu(self.bench_cpu),
            mb(self.rss_before_kib),
            self.samples.len(),
            mb(self.hwm_kib),
            if self.hwm_reset {
                " (peak since the start of this measure)"
            } else {
                " (peak since mssd started: clear_refs failed)"
            }
        )
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Started before a measure, finished after it.
pub struct Meter {
    pid: u32,
    started: Instant,
    server_cpu: Option<Duration>,
    bench_cpu: Option<Duration>,
    rss_before_kib: Option<u64>,
    hwm_reset: bool,
    sampler: RssSampler,
}

impl Meter {
    /// Prints the machine load, resets the server's peak RSS and starts sampling.
    pub fn start(pid: u32, title: &str) -> Meter {
        println!("\n== {title}\nload average before: {}", loadavg());
        let hwm_reset = match reset_peak_rss(pid) {
            Ok(()) => true,
            Err(e) => {
                println!("warning: cannot reset the peak RSS: {e}");
                false
            }
        };
        Meter {
            pid,
            started: Instant::now(),
            server_cpu: cpu_time(pid).ok(),
            bench_cpu: cpu_time(std::process::id()).ok(),
            rss_before_kib: proc_status_kib(pid, "VmRSS").ok(),
            hwm_reset,
            sampler: RssSampler::start(pid),
        }
    }

    /// Stops sampling, prints the usage line and the load, returns the usage.
    pub fn finish(self) -> Usage {
        let wall = self.started.elapsed();
        let samples = self.sampler.finish();
        let used = |before: Option<Duration>, pid: u32| {
            before
                .zip(cpu_time(pid).ok())
                .map(|(b, a)| a.saturating_sub(b))
        };
        let usage = Usage {
            started: self.started,
            wall,
            server_cpu: used(self.server_cpu, self.pid),
            bench_cpu: used(self.bench_cpu, std::process::id()),
            rss_max_kib: samples.iter().map(|s| s.rss).max(),
            hwm_kib: proc_status_kib(self.pid, "VmHWM").ok(),
            hwm_reset: self.hwm_reset,
            rss_before_kib: self.rss_before_kib,
            samples,
        };
        println!("{}", usage.line());
        println!("load average after: {}", loadavg());
        usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let text = "Name:\tmssd\nVmHWM:\t   61234 kB\nVmRSS:\t   51234 kB\nVmRSSx:\t 1 kB\n";
        let cases = [
            ("VmHWM", Some(61234)),
            ("VmRSS", Some(51234)),
            ("VmRSSx", Some(1)),
            ("VmPeak", None),
            ("Name", None),
            ("Vm", None),
        ];
        for (field, expected) in cases {
            assert_eq!(status_kib(text, field), expected, "{field}");
        }
        assert_eq!(status_kib("VmHWM:\t12 MB\n", "VmHWM"), None);
    }

    #[test]
    fn loadavg_table() {
        let cases = [
            ("0.52 0.58 0.59 1/467 12345\n", "0.52 0.58 0.59"),
            ("1.00 2.00", "1.00 2.00"),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(loadavg_fields(text), expected, "{text:?}");
        }
    }

    #[test]
    fn own_process_is_measured() {
        let me = std::process::id();
        assert!(proc_status_kib(me, "VmHWM").unwrap() >= proc_status_kib(me, "VmRSS").unwrap());
        let from = Instant::now();
        let sampler = RssSampler::start(me);
        std::thread::sleep(Duration::from_millis(30));
        let samples = sampler.finish();
        assert!(!samples.is_empty());
        assert!(max_between(&samples, from, None).is_some_and(|s| s.rss > 0 && s.anon > 0));
        assert_eq!(max_between(&samples, from, Some(from)), None);
    }

    #[test]
    fn max_between_table() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let sample = |ms: u64, rss: u64| RssSample {
            at: at(ms),
            rss,
            anon: rss / 2,
            file: rss / 2,
        };
        let samples = [sample(0, 10), sample(10, 30), sample(20, 20), sample(30, 5)];
        let cases = [
            (at(0), None, Some(sample(10, 30))),
            (at(0), Some(at(10)), Some(sample(0, 10))),
            (at(15), None, Some(sample(20, 20))),
            (at(25), Some(at(40)), Some(sample(30, 5))),
            (at(31), None, None),
        ];
        for (from, to, expected) in cases {
            assert_eq!(max_between(&samples, from, to), expected, "{from:?} {to:?}");
        }
        let text = "VmRSS:\t 100 kB\nRssAnon:\t 60 kB\nRssFile:\t 40 kB\n";
        let parsed = RssSample::parse(text, at(0)).unwrap();
        assert_eq!((parsed.rss, parsed.anon, parsed.file), (100, 60, 40));
        assert_eq!(RssSample::parse("VmRSS:\t 100 kB\n", at(0)), None);
    }
}
