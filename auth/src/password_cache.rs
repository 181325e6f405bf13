//! Successful password verifications, remembered a short time, as Dovecot's auth cache
//! does: a mail client that reconnects every minute costs a store lookup, not an argon2 run.
//! The key is an HMAC (with a key drawn at start) of the address, the password and the
//! stored hash: nothing in memory gives a password back, and a changed hash (a new
//! password) or another address never matches. Failures are never remembered, so guessing
//! stays as slow as argon2 and the throttle make it; the mailbox's status is checked after
//! every login, cached or not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mssd_store::Mailbox;
use ring::hmac;

/// How long a verification is remembered.
pub const PASSWORD_CACHE_TTL: Duration = Duration::from_secs(300);
/// Past this many entries, expired ones go, then all.
const MAX_ENTRIES: usize = 100_000;

pub(crate) struct PasswordCache {
    key: hmac::Key,
    ttl: Duration,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
    /// Verifications under way: logins with the same address and password (a client opening
    /// many connections at once) wait for the first one's verdict instead of running argon2
    /// side by side (19 MiB each).
    in_flight: Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>,
}

impl PasswordCache {
    pub fn new(ttl: Duration) -> PasswordCache {
        let rng = ring::rand::SystemRandom::new();
        // Without OS randomness a fixed key would do no harm here beyond predictability
        // of an in-memory map: fall back to an empty one rather than fail start-up.
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .unwrap_or_else(|_| hmac::Key::new(hmac::HMAC_SHA256, &[]));
        PasswordCache {
            key,
            ttl,
            verified: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// The entry of (mailbox, password), if the mailbox has a local hash.
    fn digest(&self, mailbox: &Mailbox, password: &str) -> Option<[u8; 32]> {
        let hash = mailbox.password_hash.as_deref()?;
        let mut ctx = hmac::Context::with_key(&self.key);
        let address = mailbox.address.canonical();
        for part in [address.as_str(), password, hash] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        ctx.sign().as_ref().try_into().ok()
    }

    /// True when this password was verified for this mailbox and hash within the TTL.
    pub fn verified(&self, mailbox: &Mailbox, password: &str) -> bool {
        let Some(digest) = self.digest(mailbox, password) else {
            return false;
        };
        self.verified
            .lock()
            .ok()
            .and_then(|v| v.get(&digest).copied())
            .is_some_and(|at| at.elapsed() < self.ttl)
    }

    /// The lock shared by the logins verifying this (mailbox, password) now; `None` when the
    /// mailbox has no local hash (nothing to share).
    pub fn flight(&self, mailbox: &Mailbox, password: &str) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let digest = self.digest(mailbox, password)?;
        let mut flights = self.in_flight.lock().ok()?;
        // Entries nobody holds any more go (the map only ever holds logins under way).
        flights.retain(|_, lock| Arc::strong_count(lock) > 1);
        Some(Arc::clone(flights.entry(digest).or_default()))
    }

    pub fn remember(&self, mailbox: &Mailbox, password: &str) {
        let Some(digest) = self.digest(mailbox, password) else {
            return;
        };
        if let Ok(mut verified) = self.verified.lock() {
            if verified.len() >= MAX_ENTRIES {
                let ttl = self.ttl;
                verified.retain(|_, at| at.elapsed() < ttl);
                if verified.len() >= MAX_ENTRIES {
                    verified.clear();
                }
            }
            verified.insert(digest, Instant::now());
        }
    }
}
