//! Concurrent sessions per mailbox: one client stuck in a reconnect loop cannot take every
//! connection slot of the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mssd_store::MailboxId;

#[derive(Clone)]
pub struct UserConnections {
    max: usize,
    open: Arc<Mutex<HashMap<MailboxId, usize>>>,
}

/// Held by an authenticated session; frees its slot when dropped.
pub struct UserSlot {
    mailbox: MailboxId,
    open: Arc<Mutex<HashMap<MailboxId, usize>>>,
}

impl UserConnections {
    pub fn new(max: usize) -> UserConnections {
        UserConnections {
            max,
            open: Arc::default(),
        }
    }

    /// A slot for `mailbox`, or None when it already has `max` sessions.
    pub fn acquire(&self, mailbox: MailboxId) -> Option<UserSlot> {
        let mut open = lock(&self.open);
        let count = open.entry(mailbox).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(UserSlot {
            mailbox,
            open: Arc::clone(&self.open),
        })
    }

    pub fn open(&self, mailbox: MailboxId) -> usize {
        lock(&self.open).get(&mailbox).copied().unwrap_or(0)
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        if let Some(count) = open.get_mut(&self.mailbox) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.mailbox);
            }
        }
    }
}

fn lock(map: &Mutex<HashMap<MailboxId, usize>>) -> MutexGuard<'_, HashMap<MailboxId, usize>> {
    // Counters only: a panic elsewhere cannot leave them inconsistent enough to matter.
    map.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_per_mailbox_and_freed_on_drop() {
        let users = UserConnections::new(2);
        let a = MailboxId(1);
        let first = users.acquire(a).unwrap();
        let _second = users.acquire(a).unwrap();
        assert!(users.acquire(a).is_none());
        assert!(users.acquire(MailboxId(2)).is_some());
        drop(first);
        assert_eq!(users.open(a), 1);
        assert!(users.acquire(a).is_some());
    }
}
