//! Web sessions: a random identifier in an `HttpOnly; Secure; SameSite=Strict` cookie, the
//! session itself (who, its CSRF token, its deadlines) kept here in memory, bounded. The
//! cookie carries nothing but the identifier; a restart signs everyone out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mssd_auth::Authenticated;
use sha2::{Digest, Sha256};

pub const COOKIE: &str = "mssd_session";
/// At most this many sessions; when full, expired ones go first, then sign-in is refused.
const MAX_SESSIONS: usize = 100_000;

#[derive(Clone)]
pub(crate) struct WebSession {
    pub user: Authenticated,
    /// Sent in every form; a POST without it is refused.
    pub csrf: String,
    started: Instant,
    last_seen: Instant,
}

pub(crate) struct Sessions {
    idle: Duration,
    max: Duration,
    /// Keyed by the SHA-256 of the cookie value: a memory dump does not give cookies away.
    live: Mutex<HashMap<[u8; 32], WebSession>>,
}

/// 32 random bytes, URL-safe base64.
pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn key(cookie: &str) -> [u8; 32] {
    Sha256::digest(cookie.as_bytes()).into()
}

impl Sessions {
    pub fn new(idle_secs: u64, max_secs: u64) -> Sessions {
        Sessions {
            idle: Duration::from_secs(idle_secs.max(60)),
            max: Duration::from_secs(max_secs.max(60)),
            live: Mutex::new(HashMap::new()),
        }
    }

    /// A new session for `user`; returns the cookie value, or None when full.
    pub fn open(&self, user: Authenticated) -> Option<String> {
        let mut live = self.live.lock().ok()?;
        if live.len() >= MAX_SESSIONS {
            let now = Instant::now();
            live.retain(|_, s| !self.expired(s, now));
            if live.len() >= MAX_SESSIONS {
                return None;
            }
        }
        let cookie = random_token();
        let now = Instant::now();
        live.insert(
            key(&cookie),
            WebSession {
                user,
                csrf: random_token(),
                started: now,
                last_seen: now,
            },
        );
        Some(cookie)
    }

    /// The live session of this cookie value, its idle deadline pushed back.
    pub fn get(&self, cookie: &str) -> Option<WebSession> {
        let mut live = self.live.lock().ok()?;
        let k = key(cookie);
        let now = Instant::now();
        let session = live.get_mut(&k)?;
        if self.expired(session, now) {
            live.remove(&k);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    pub fn close(&self, cookie: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&key(cookie));
        }
    }

    fn expired(&self, s: &WebSession, now: Instant) -> bool {
        now.duration_since(s.last_seen) > self.idle || now.duration_since(s.started) > self.max
    }
}

/// Constant-time comparison of two secrets.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name` in the request's Cookie fields.
pub(crate) fn cookie<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find_map(|h| cookie_value(h, name))
}

/// The value of cookie `name` in a Cookie header.
fn cookie_value<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = "a=1; mssd_session=xyz; mssd_session_old=no";
        assert_eq!(cookie_value(h, COOKIE), Some("xyz"));
        assert_eq!(cookie_value(h, "mssd"), None);
        assert_eq!(cookie_value("", COOKIE), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
