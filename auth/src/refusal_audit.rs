//! Rate limit of the audit lines for refusals before authentication.
//!
//! The audit trail is append-only and kept for years: an unauthenticated client repeating a
//! refused command could add thousands of rows a second (about 60 GB a day). Per source
//! (an IPv4 address or an IPv6 /64) and kind of line, the first `LINES_PER_WINDOW` lines of
//! each `WINDOW` are written; the others are counted, and the next line written for that
//! source and kind says how many were left out (`suppressed_before`). The first line of each
//! kind from a source is always written.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mssd_core::client_source;

pub const WINDOW: Duration = Duration::from_secs(60);
pub const LINES_PER_WINDOW: u32 = 10;
/// Sources remembered; past it the table starts afresh (a new first line for each).
const MAX_SOURCES: usize = 100_000;

#[derive(Debug)]
struct Window {
    started: Instant,
    written: u32,
    /// Lines left out since the last one written.
    suppressed: u64,
}

/// Shared by every listener through the authenticator.
#[derive(Debug, Default)]
pub struct RefusalAudit {
    windows: Mutex<HashMap<(IpAddr, String), Window>>,
}

/// What to do with one refusal's audit line.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Write it; `suppressed_before` lines of this kind from this source were left out since
    /// the previous one written.
    Write { suppressed_before: u64 },
    /// Leave it out (counted).
    Suppress,
}

impl RefusalAudit {
    pub fn admit(&self, source: IpAddr, kind: &str, now: Instant) -> Admission {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (client_source(source), kind.to_owned());
        if !windows.contains_key(&key) && windows.len() >= MAX_SOURCES {
            windows.retain(|_, w| now.saturating_duration_since(w.started) < WINDOW);
            if windows.len() >= MAX_SOURCES {
                windows.clear();
            }
        }
        let window = windows.entry(key).or_insert(Window {
            started: now,
            written: 0,
            suppressed: 0,
        });
        if now.saturating_duration_since(window.started) >= WINDOW {
            window.started = now;
            window.written = 0;
        }
        if window.written >= LINES_PER_WINDOW {
            window.suppressed += 1;
            return Admission::Suppress;
        }
        window.written += 1;
        Admission::Write {
            suppressed_before: std::mem::take(&mut window.suppressed),
        }
    }

    /// `admit`, then the detail to write (with `suppressed_before` when lines were left
    /// out), or None to leave the line out.
    pub fn gate(
        &self,
        source: IpAddr,
        kind: &str,
        mut detail: serde_json::Value,
    ) -> Option<serde_json::Value> {
        match self.admit(source, kind, Instant::now()) {
            Admission::Suppress => None,
            Admission::Write { suppressed_before } => {
                if suppressed_before > 0
                    && let Some(map) = detail.as_object_mut()
                {
                    map.insert("suppressed_before".into(), suppressed_before.into());
                }
                Some(detail)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lines_written_then_counted_then_reported() {
        let audit = RefusalAudit::default();
        let start = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let b_same_64: IpAddr = "2001:db8::ffff".parse().unwrap();
        let mut written = 0;
        for i in 0..1_000 {
            let at = start + Duration::from_millis(i);
            if let Admission::Write { .. } = audit.admit(a, "smtp.refused", at) {
                written += 1;
            }
        }
        assert_eq!(written, LINES_PER_WINDOW);
        // Another kind from the same source, another source: their first lines are written.
        assert_eq!(
            audit.admit(a, "auth.failure", start),
            Admission::Write {
                suppressed_before: 0
            }
        );
        for _ in 0..LINES_PER_WINDOW {
            audit.admit(b, "smtp.refused", start);
        }
        // The same /64 shares the window.
        assert_eq!(
            audit.admit(b_same_64, "smtp.refused", start),
            Admission::Suppress
        );
        // Next window: written, with the count of what was left out.
        assert_eq!(
            audit.admit(a, "smtp.refused", start + WINDOW + Duration::from_secs(1)),
            Admission::Write {
                suppressed_before: 1_000 - u64::from(LINES_PER_WINDOW)
            }
        );
    }
}
