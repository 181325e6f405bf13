//! `\Recent` (RFC 3501 2.3.2): a message is recent for the first session that selects its
//! folder, or is told of the message, after it arrived. Per folder, the highest UID some
//! session has claimed; a SELECT (or a read-write session seeing new mail) claims up to the
//! folder's last UID and gets as recent what lay above the previous claim.
//!
//! The claims live in the server's memory: after a restart every message counts as recent
//! once more, which RFC 3501 prefers to losing the flag ("if it is not possible to determine
//! whether or not this session is the first session to be notified about a message, then that
//! message SHOULD be considered recent").

use std::collections::HashMap;
use std::sync::Mutex;

use mssd_store::FolderId;

#[derive(Debug, Default)]
pub struct RecentClaims {
    claimed: Mutex<HashMap<FolderId, u32>>,
}

impl RecentClaims {
    /// Claims every UID up to `up_to`; returns the previous claim: UIDs above it and up to
    /// `up_to` are recent for the caller alone.
    pub fn claim(&self, folder: FolderId, up_to: u32) -> u32 {
        let mut claimed = self
            .claimed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = claimed.entry(folder).or_insert(0);
        let previous = *entry;
        *entry = previous.max(up_to);
        previous
    }

    /// The current claim, without claiming (EXAMINE, STATUS).
    pub fn peek(&self, folder: FolderId) -> u32 {
        let claimed = self
            .claimed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        claimed.get(&folder).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_claim_wins() {
        let claims = RecentClaims::default();
        let folder = FolderId(7);
        assert_eq!(claims.peek(folder), 0);
        assert_eq!(claims.claim(folder, 10), 0, "first session: 1..=10 recent");
        assert_eq!(claims.claim(folder, 10), 10, "second session: nothing");
        assert_eq!(
            claims.claim(folder, 12),
            10,
            "new mail 11..=12 to whoever sees it first"
        );
        assert_eq!(claims.claim(folder, 5), 12, "never goes back");
        assert_eq!(claims.peek(FolderId(8)), 0);
    }
}
