//! Health documents in the store: what a delivery indexes, what the index holds, and the
//! monthly usage counters. Plain data, no backend type.

use std::fmt;

/// What a document does to the ones before it (the XDM `action`, or an RPLC relation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentAction {
    /// A first transmission.
    New,
    /// Replaces the document `parent` (root^extension).
    Replace { parent: String },
    /// Withdraws the document of the same id.
    Delete,
}

impl DocumentAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentAction::New => "new",
            DocumentAction::Replace { .. } => "replace",
            DocumentAction::Delete => "delete",
        }
    }
}

/// One CDA document of a delivered message; indexed in each recipient mailbox.
#[derive(Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// `root^extension`.
    pub cda_id: String,
    pub set_id: Option<String>,
    pub version: Option<u32>,
    pub code: String,
    pub title: Option<String>,
    pub effective_time: Option<String>,
    /// The first author's id and structure (`root^extension`).
    pub author: Option<String>,
    pub author_org: Option<String>,
    /// Patient ids `root^extension`, in clear: health data, never logged.
    pub patient_ids: Vec<String>,
    pub restrictions: Vec<String>,
    pub action: DocumentAction,
}

impl fmt::Debug for NewDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewDocument")
            .field("cda_id", &self.cda_id)
            .field("code", &self.code)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// Where a document version stands. Exactly these three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentStatus {
    Current,
    Superseded,
    Withdrawn,
}

impl DocumentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Current => "current",
            DocumentStatus::Superseded => "superseded",
            DocumentStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "current" => Some(DocumentStatus::Current),
            "superseded" => Some(DocumentStatus::Superseded),
            "withdrawn" => Some(DocumentStatus::Withdrawn),
            _ => None,
        }
    }
}

/// One row of a mailbox's document index.
#[derive(Clone, PartialEq, Eq)]
pub struct IndexedDocument {
    pub row: i64,
    /// Where the message carrying it is now (it follows moves within the mailbox).
    pub folder: crate::FolderId,
    pub message_uid: u32,
    pub cda_id: String,
    pub set_id: Option<String>,
    pub version: Option<u32>,
    pub code: String,
    pub title: Option<String>,
    pub effective_time: Option<String>,
    pub author: Option<String>,
    pub author_org: Option<String>,
    pub patient_ids: Vec<String>,
    pub restrictions: Vec<String>,
    pub action: String,
    pub parent_id: Option<String>,
    pub status: DocumentStatus,
    /// ANS applicationErrorCondition: 900 not the latest version, 901 author not allowed.
    pub anomaly: Option<u32>,
    pub note: Option<String>,
    /// Unix seconds.
    pub indexed_at: i64,
}

impl fmt::Debug for IndexedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexedDocument")
            .field("cda_id", &self.cda_id)
            .field("status", &self.status)
            .field("anomaly", &self.anomaly)
            .finish_non_exhaustive()
    }
}

/// Which way a message went for a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// One message counted for one mailbox, committed with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCount {
    /// Canonical address.
    pub mailbox: String,
    pub direction: Direction,
    /// The message carried an XDM archive.
    pub xdm: bool,
    pub documents: u32,
    pub qualified_ins: u32,
}

/// A month's counters for one mailbox and direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorRow {
    pub month: String,
    pub mailbox: String,
    pub direction: Direction,
    pub messages: u64,
    pub xdm_messages: u64,
    pub documents: u64,
    pub qualified_ins: u64,
}
