//! Resolution of the `[limits]` and `[imap]` tables (the rest is in resolve.rs).

use std::time::Duration;

use super::Limits;
use crate::error::{Error, Result};

/// Listener caps default to shares of max_connections: IMAP ports half each, submission
/// ports a quarter each, HTTP 64; the MTA port may use them all, and the last eighth is
/// kept for it alone.
pub(super) fn resolve_limits(
    raw: super::raw::RawLimits,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Limits> {
    let max_connections = raw.max_connections.unwrap_or(4096);
    let max_connections_per_ip = raw.max_connections_per_ip.unwrap_or(64);
    if max_connections == 0 || max_connections_per_ip == 0 {
        return Err(bad("limits", "connection limits must be at least 1".into()));
    }
    let mta_reserve = raw.mta_reserve.unwrap_or(max_connections / 8);
    if mta_reserve >= max_connections {
        return Err(bad(
            "limits.mta_reserve",
            "must be less than limits.max_connections".into(),
        ));
    }
    let mut per_listener = std::collections::HashMap::from([
        ("smtp", max_connections),
        ("submission", (max_connections / 4).max(1)),
        ("submissions", (max_connections / 4).max(1)),
        ("imap", (max_connections / 2).max(1)),
        ("imaps", (max_connections / 2).max(1)),
        ("http", 64),
        ("https", (max_connections / 2).max(1)),
    ]);
    for (name, cap) in raw.listeners.unwrap_or_default() {
        let key = format!("limits.listeners.{name}");
        let Some(slot) = per_listener.iter_mut().find(|(n, _)| **n == name) else {
            return Err(bad(
                &key,
                "not a listener: smtp, submission, submissions, imap, imaps, http or https".into(),
            ));
        };
        if cap == 0 {
            return Err(bad(&key, "must be at least 1".into()));
        }
        *slot.1 = cap;
    }
    Ok(Limits {
        max_connections,
        max_connections_per_ip,
        mta_reserve,
        per_listener,
    })
}

pub(super) fn imap_settings(
    raw: &super::raw::RawImap,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<super::ImapSettings> {
    let max_literal_size = match &raw.max_literal_size {
        Some(text) => super::parse_size(text).map_err(|m| bad("imap.max_literal_size", m))?,
        None => 50 << 20,
    };
    if !(64 << 10..=1 << 30).contains(&max_literal_size) {
        return Err(bad(
            "imap.max_literal_size",
            "must be between 64K and 1G".into(),
        ));
    }
    let idle_timeout = match &raw.idle_timeout {
        Some(text) => super::parse_duration(text).map_err(|m| bad("imap.idle_timeout", m))?,
        None => Duration::from_secs(30 * 60),
    };
    if idle_timeout < Duration::from_secs(60) {
        return Err(bad(
            "imap.idle_timeout",
            "must be at least 1m (RFC 9051 asks for at least 30m)".into(),
        ));
    }
    let max_connections_per_user = raw.max_connections_per_user.unwrap_or(50);
    if max_connections_per_user == 0 {
        return Err(bad(
            "imap.max_connections_per_user",
            "must be at least 1".into(),
        ));
    }
    let login_timeout = match &raw.login_timeout {
        Some(text) => super::parse_duration(text).map_err(|m| bad("imap.login_timeout", m))?,
        None => Duration::from_secs(60),
    };
    if !(Duration::from_secs(1)..=Duration::from_secs(600)).contains(&login_timeout) {
        return Err(bad(
            "imap.login_timeout",
            "must be between 1s and 10m".into(),
        ));
    }
    let max_literals_in_flight = match &raw.max_literals_in_flight {
        Some(text) => super::parse_size(text).map_err(|m| bad("imap.max_literals_in_flight", m))?,
        None => 512 << 20,
    };
    if max_literals_in_flight < max_literal_size {
        return Err(bad(
            "imap.max_literals_in_flight",
            "must be at least imap.max_literal_size".into(),
        ));
    }
    Ok(super::ImapSettings {
        max_literal_size: u32::try_from(max_literal_size).unwrap_or(u32::MAX),
        idle_timeout,
        max_connections_per_user,
        login_timeout,
        max_literals_in_flight,
    })
}
