//! What the benchmark reads from the OS: the server's resident memory (`/proc/<pid>/status`),
//! which child process is the server, and the open-files limit that 1,000 sockets need.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result, io};

/// VmRSS in KiB from the text of `/proc/<pid>/status`.
pub fn vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let value = parts.next()?.parse().ok()?;
    (parts.next()? == "kB").then_some(value)
}

/// (command name, parent pid) from the text of `/proc/<pid>/stat`; the name may hold spaces
/// and parentheses, so the fields after it are found from the last ')'.
pub fn stat_name_and_parent(stat: &str) -> Option<(&str, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?;
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let _state = rest.next()?;
    Some((name, rest.next()?.parse().ok()?))
}

/// User + system CPU time in clock ticks from the text of `/proc/<pid>/stat` (fields 14, 15).
pub fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let close = stat.rfind(')')?;
    // After the name: field 3 (state) is index 0, so utime (14) is index 11.
    let mut rest = stat.get(close + 1..)?.split_whitespace().skip(11);
    let user: u64 = rest.next()?.parse().ok()?;
    let system: u64 = rest.next()?.parse().ok()?;
    Some(user + system)
}

/// CPU time process `pid` has used so far.
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(io(format!("reading {path}")))?;
    let ticks =
        stat_cpu_ticks(&text).ok_or_else(|| Error::Metrics(format!("no CPU times in {path}")))?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second)
        .ok()
        .filter(|&t| t > 0)
        .unwrap_or(100);
    Ok(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// Resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(io(format!("reading {path}")))?;
    vm_rss_kib(&text).ok_or_else(|| Error::Metrics(format!("no VmRSS line in {path}")))
}

/// The pid of our child process running `binary` (the server started by the operator).
pub fn child_pid(binary: &Path) -> Result<u32> {
    let me = std::process::id();
    // The kernel truncates command names to 15 bytes.
    let wanted: String = binary
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(15).collect())
        .unwrap_or_default();
    let entries = std::fs::read_dir("/proc").map_err(io("listing /proc"))?;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if stat_name_and_parent(&stat) == Some((wanted.as_str(), me)) {
            return Ok(pid);
        }
    }
    Err(Error::ServerStart(format!(
        "no child process named {wanted:?} of pid {me} in /proc"
    )))
}

/// Raises the soft RLIMIT_NOFILE to at least `wanted` (within the hard limit; children such
/// as the server inherit it). Returns the soft limit now in force.
pub fn raise_open_files(wanted: u64) -> Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write/read the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io("getrlimit(RLIMIT_NOFILE)")(
            std::io::Error::last_os_error(),
        ));
    }
    if limit.rlim_cur >= wanted {
        return Ok(limit.rlim_cur);
    }
    limit.rlim_cur = wanted.min(limit.rlim_max);
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io("setrlimit(RLIMIT_NOFILE)")(
            std::io::Error::last_os_error(),
        ));
    }
    Ok(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_table() {
        let cases = [
            (
                "Name:\tmssd\nVmPeak:\t  9000 kB\nVmRSS:\t   51234 kB\nThreads: 4\n",
                Some(51234),
            ),
            ("VmRSS: 1 kB", Some(1)),
            ("VmRSS:\t12 MB\n", None),
            ("VmRSS:\tlots kB\n", None),
            ("VmRSS:\n", None),
            ("VmHWM:\t5 kB\n", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(vm_rss_kib(text), expected, "{text:?}");
        }
    }

    #[test]
    fn stat_table() {
        let cases = [
            ("1234 (mssd) S 77 1234 1234 0", Some(("mssd", 77))),
            ("9 (a (b) c) R 1 9 9", Some(("a (b) c", 1))),
            ("9 (x y) S 42", Some(("x y", 42))),
            ("9 (mssd) S", None),
            ("9 (mssd) S ppid", None),
            ("9 mssd S 1", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(stat_name_and_parent(text), expected, "{text:?}");
        }
    }

    #[test]
    fn cpu_ticks_table() {
        let cases = [
            (
                "7 (mssd) S 1 7 7 0 -1 4194560 100 0 0 0 250 40 0 0 20",
                Some(290),
            ),
            ("7 (a b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4", Some(7)),
            ("7 (mssd) S 1 7 7 0 -1 0 0 0 0 0 3", None),
            ("7 (mssd) S 1 7 7 0 -1 0 0 0 0 0 x 4", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(stat_cpu_ticks(text), expected, "{text:?}");
        }
    }

    #[test]
    fn own_process_is_readable() {
        assert!(cpu_time(std::process::id()).is_ok());
        let rss = rss_kib(std::process::id()).unwrap();
        assert!(rss > 100, "{rss} KiB");
        assert!(raise_open_files(64).unwrap() >= 64);
    }
}
