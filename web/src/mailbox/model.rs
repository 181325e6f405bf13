//! What mailbox operations return and the caches keep: plain data, no I/O, no state.

use std::sync::OnceLock;

use axum::body::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

/// A folder of the user's mailbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FolderView {
    pub id: i64,
    pub name: String,
    /// RFC 6154 role: `\Sent`, `\Trash`…; none for INBOX.
    pub special_use: Option<String>,
    pub messages: u32,
    pub unseen: u32,
}

impl From<&mssd_store::Folder> for FolderView {
    fn from(f: &mssd_store::Folder) -> Self {
        FolderView {
            id: f.id.0,
            name: f.name.clone(),
            special_use: f.special_use.clone(),
            messages: f.messages,
            unseen: f.unseen,
        }
    }
}

/// One page of a folder, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessagePage {
    pub folder: FolderView,
    /// Counted from 1.
    pub page: usize,
    pub per_page: usize,
    pub total: usize,
    pub messages: Vec<MessageSummary>,
}

/// A message in a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageSummary {
    pub uid: u32,
    /// The From field as displayed: name, else address.
    pub from: String,
    pub from_address: Option<String>,
    pub subject: String,
    /// RFC 3339, from the Date field, else the arrival time.
    pub date: String,
    pub size: u64,
    pub seen: bool,
    pub flagged: bool,
}

/// The header fields of a message a listing shows; they never change.
#[derive(Debug, Clone)]
pub struct SummaryFields {
    pub from: String,
    pub from_address: Option<String>,
    pub subject: String,
    pub date: Option<String>,
}

/// What an opened document shows.
#[derive(Clone)]
pub enum Content {
    /// Level 1: the embedded document (a PDF, in MSSanté).
    Embedded { media_type: String, bytes: Bytes },
    /// Level 3: the sections, rendered.
    Structured { html: String },
}

/// A page of a folder, kept while the folder does not change; its JSON made once.
pub struct CachedPage {
    pub page: MessagePage,
    pub(crate) json: OnceLock<Bytes>,
}

impl CachedPage {
    pub fn json(&self) -> Bytes {
        self.json
            .get_or_init(|| serde_json::to_vec(&self.page).unwrap_or_default().into())
            .clone()
    }
}
