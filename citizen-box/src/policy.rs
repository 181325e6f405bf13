//! What an operator of citizen mailboxes decides (`[citizen]`).

/// How citizen mailboxes come to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Provisioning {
    /// Only citizens added (`mssd citizen add|import`) receive mail; others get `550 5.1.1`.
    #[default]
    Registered,
    /// A professional's first message creates the mailbox.
    Auto,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CitizenPolicy {
    pub provisioning: Provisioning,
    /// Canonical addresses a citizen may write to first (a pharmacy's ORG mailbox, say).
    pub first_contact_allowed: Vec<String>,
    /// A new-message notification is queued for each delivery to a citizen mailbox.
    pub notify: bool,
}

impl CitizenPolicy {
    pub fn allows_first_contact(&self, canonical: &str) -> bool {
        self.first_contact_allowed.iter().any(|a| a == canonical)
    }
}
