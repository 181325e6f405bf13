//! The bounded caches the web side keeps in memory, plain maps with no I/O: checked
//! bearer tokens, the header fields of listed messages, pages of folders, opened
//! documents. Each is cleared whole when full: simple, and bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use mssd_auth::Authenticated;
use mssd_store::{FolderId, MessageMeta};

use crate::mailbox::model::{CachedPage, Content, SummaryFields};

const KEEP: Duration = Duration::from_secs(60);
/// Past this many cached tokens, expired ones are dropped, then all if still full.
const MAX_CACHED: usize = 50_000;

#[derive(Default)]
pub(crate) struct BearerCache {
    checked: Mutex<HashMap<[u8; 32], (Authenticated, Instant)>>,
}

impl BearerCache {
    pub fn get(&self, key: &[u8; 32]) -> Option<Authenticated> {
        let checked = self.checked.lock().ok()?;
        let (user, until) = checked.get(key)?;
        (Instant::now() < *until).then(|| user.clone())
    }

    pub fn put(&self, key: [u8; 32], user: Authenticated) {
        let Ok(mut checked) = self.checked.lock() else {
            return;
        };
        if checked.len() >= MAX_CACHED {
            let now = Instant::now();
            checked.retain(|_, (_, until)| *until > now);
            if checked.len() >= MAX_CACHED {
                checked.clear();
            }
        }
        checked.insert(key, (user, Instant::now() + KEEP));
    }
}

const MAX_CACHED_SUMMARIES: usize = 200_000;

/// (folder, UID, the first 8 bytes of the message's SHA-256).
type SummaryKey = (i64, u32, [u8; 8]);

#[derive(Default)]
pub(crate) struct SummaryCache {
    fields: Mutex<HashMap<SummaryKey, Arc<SummaryFields>>>,
}

impl SummaryCache {
    pub fn key(folder: FolderId, meta: &MessageMeta) -> SummaryKey {
        let mut digest = [0u8; 8];
        let _ = hex::decode_to_slice(meta.sha256.get(..16).unwrap_or(""), &mut digest);
        (folder.0, meta.uid, digest)
    }

    pub fn get(&self, key: &SummaryKey) -> Option<Arc<SummaryFields>> {
        self.fields.lock().ok()?.get(key).cloned()
    }

    pub fn put(&self, key: SummaryKey, fields: Arc<SummaryFields>) {
        if let Ok(mut cached) = self.fields.lock() {
            if cached.len() >= MAX_CACHED_SUMMARIES {
                cached.clear();
            }
            cached.insert(key, fields);
        }
    }
}

/// What identifies a folder's state: any delivery, expunge, move or flag change alters it
/// (UIDNEXT, the count, HIGHESTMODSEQ).
pub type Stamp = (u32, u32, u32, u64);

/// (folder, page, per page).
pub type PageKey = (i64, usize, usize);

/// Pages by (folder, page, per page), with the folder state they were made at.
#[derive(Default)]
pub(crate) struct PageCache {
    pages: Mutex<HashMap<PageKey, (Stamp, Arc<CachedPage>)>>,
}

const MAX_CACHED_PAGES: usize = 20_000;

impl PageCache {
    /// The page made at `stamp`, if the folder is still there (and still so named).
    pub fn get(&self, key: &PageKey, stamp: Stamp, name: &str) -> Option<Arc<CachedPage>> {
        let pages = self.pages.lock().ok()?;
        let (at, cached) = pages.get(key)?;
        (*at == stamp && cached.page.folder.name == name).then(|| cached.clone())
    }

    pub fn put(&self, key: PageKey, stamp: Stamp, page: Arc<CachedPage>) {
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() >= MAX_CACHED_PAGES {
                pages.clear();
            }
            pages.insert(key, (stamp, page));
        }
    }
}

/// Opened documents, by (mailbox, document number, where its message is): reading one
/// means unzipping its archive, parsing its CDA and decoding its PDF, and a stored message
/// never changes. Bounded in bytes. The index and the message are still read on every
/// request, so a document whose message is gone is no longer served.
#[derive(Default)]
pub(crate) struct DocumentCache {
    /// The documents and their total size.
    entries: Mutex<(HashMap<DocumentKey, OpenedFile>, usize)>,
}

/// The CDA XML and what it shows.
type OpenedFile = (Bytes, Content);

/// (mailbox, document number, folder and UID of its message).
type DocumentKey = (i64, i64, i64, u32);

const MAX_CACHED_BYTES: usize = 128 * 1024 * 1024;

impl DocumentCache {
    pub fn get(&self, key: DocumentKey) -> Option<OpenedFile> {
        self.entries.lock().ok()?.0.get(&key).cloned()
    }

    pub fn put(&self, key: DocumentKey, xml: Bytes, content: Content) {
        let size = xml.len()
            + match &content {
                Content::Embedded { bytes, .. } => bytes.len(),
                Content::Structured { html } => html.len(),
            };
        if size > MAX_CACHED_BYTES / 8 {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            let (map, total) = &mut *entries;
            if *total + size > MAX_CACHED_BYTES {
                map.clear();
                *total = 0;
            }
            if map.insert(key, (xml, content)).is_none() {
                *total += size;
            }
        }
    }
}
