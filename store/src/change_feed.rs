//! In-process notification of committed folder changes, for IMAP IDLE.
//!
//! One `watch` channel per watched folder carries its highest modseq. The store publishes after
//! commit only, so a woken session always reads what it was told about. Another backend (e.g.
//! PostgreSQL LISTEN/NOTIFY across nodes) can feed the same type by calling [`ChangeFeed::publish`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use crate::model::{FolderChange, FolderId};

type Senders = HashMap<FolderId, watch::Sender<u64>>;

/// Per-folder change notifications. Clones share the same channels.
#[derive(Clone, Default)]
pub struct ChangeFeed {
    senders: Arc<Mutex<Senders>>,
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("watched_folders", &self.watched_folders())
            .finish()
    }
}

impl ChangeFeed {
    pub fn new() -> ChangeFeed {
        ChangeFeed::default()
    }

    /// A receiver whose value is the folder's highest modseq as last published; `changed()`
    /// wakes on each publish.
    pub fn watch(&self, folder: FolderId, current: u64) -> watch::Receiver<u64> {
        let mut senders = self.lock();
        senders.retain(|_, sender| sender.receiver_count() > 0);
        match senders.get(&folder) {
            Some(sender) => {
                // Never move the value backwards: `current` may be older than a publish.
                sender.send_if_modified(|value| {
                    if current > *value {
                        *value = current;
                        true
                    } else {
                        false
                    }
                });
                sender.subscribe()
            }
            None => {
                let (sender, receiver) = watch::channel(current);
                senders.insert(folder, sender);
                receiver
            }
        }
    }

    /// Tells the folder's watchers about a committed change. Cheap when nobody watches the
    /// folder: one map lookup, no allocation.
    pub fn publish(&self, change: FolderChange) {
        let mut senders = self.lock();
        let Some(sender) = senders.get(&change.folder) else {
            return;
        };
        if sender.receiver_count() == 0 {
            senders.remove(&change.folder);
            return;
        }
        // Wake watchers even when the modseq did not move: a rename or delete keeps it and
        // still concerns them.
        sender.send_modify(|value| *value = (*value).max(change.highest_modseq));
    }

    /// The folders someone watches: what a feed fed from elsewhere (PostgreSQL LISTEN) publishes
    /// again after it may have missed notifications.
    pub fn watched(&self) -> Vec<FolderId> {
        self.lock()
            .iter()
            .filter(|(_, sender)| sender.receiver_count() > 0)
            .map(|(folder, _)| *folder)
            .collect()
    }

    /// How many folders have a live channel (for tests and metrics).
    pub fn watched_folders(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, Senders> {
        // The map holds no invariant a panic could break halfway; keep serving.
        self.senders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MailboxId;

    fn change(folder: i64, modseq: u64) -> FolderChange {
        FolderChange {
            mailbox: MailboxId(1),
            folder: FolderId(folder),
            highest_modseq: modseq,
        }
    }

    #[tokio::test]
    async fn watcher_wakes_on_publish_and_sees_the_modseq() {
        let feed = ChangeFeed::new();
        let mut rx = feed.watch(FolderId(7), 3);
        assert_eq!(*rx.borrow_and_update(), 3);
        feed.publish(change(7, 5));
        tokio::time::timeout(std::time::Duration::from_secs(1), rx.changed())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(*rx.borrow_and_update(), 5);
    }

    #[test]
    fn other_folders_and_unwatched_folders_cost_nothing() {
        let feed = ChangeFeed::new();
        feed.publish(change(1, 9));
        assert_eq!(feed.watched_folders(), 0);
        let mut rx = feed.watch(FolderId(2), 1);
        feed.publish(change(1, 9));
        assert!(!rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), 1);
        assert_eq!(feed.watched_folders(), 1);
    }

    #[test]
    fn entries_without_receivers_are_dropped() {
        let feed = ChangeFeed::new();
        let rx = feed.watch(FolderId(3), 1);
        let rx2 = feed.watch(FolderId(3), 1);
        assert_eq!(feed.watched_folders(), 1);
        drop(rx);
        feed.publish(change(3, 2));
        assert_eq!(feed.watched_folders(), 1);
        assert_eq!(*rx2.borrow(), 2);
        drop(rx2);
        feed.publish(change(3, 3));
        assert_eq!(feed.watched_folders(), 0);
        // watch() also sweeps dead entries of other folders.
        drop(feed.watch(FolderId(4), 1));
        let _live = feed.watch(FolderId(5), 1);
        assert_eq!(feed.watched_folders(), 1);
    }

    #[test]
    fn a_late_watcher_never_moves_the_value_backwards() {
        let feed = ChangeFeed::new();
        let _a = feed.watch(FolderId(1), 10);
        let b = feed.watch(FolderId(1), 4);
        assert_eq!(*b.borrow(), 10);
    }
}
