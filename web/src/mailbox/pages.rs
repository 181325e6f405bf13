//! Pages of a folder, newest first. The folder is read on every request (ownership, its
//! state); the page itself is kept while that state is unchanged, its JSON made once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use mssd_auth::Authenticated;
use mssd_store::MessageMeta;

use super::{FolderView, MAX_PER_PAGE, MessagePage, owned_folder, summaries};
use crate::error::Result;
use crate::state::WebState;

/// A page of a folder, kept while the folder does not change; its JSON made once.
pub struct CachedPage {
    pub page: MessagePage,
    json: OnceLock<axum::body::Bytes>,
}

impl CachedPage {
    pub fn json(&self) -> axum::body::Bytes {
        self.json
            .get_or_init(|| serde_json::to_vec(&self.page).unwrap_or_default().into())
            .clone()
    }
}

/// What identifies a folder's state: any delivery, expunge, move or flag change alters it
/// (UIDNEXT, the count, HIGHESTMODSEQ).
type Stamp = (u32, u32, u32, u64);

/// (folder, page, per page).
type PageKey = (i64, usize, usize);

/// Pages by (folder, page, per page), with the folder state they were made at.
#[derive(Default)]
pub(crate) struct PageCache {
    pages: Mutex<HashMap<PageKey, (Stamp, Arc<CachedPage>)>>,
}

const MAX_CACHED_PAGES: usize = 20_000;

pub async fn page(
    state: &WebState,
    user: &Authenticated,
    folder_id: i64,
    page: usize,
    per_page: usize,
) -> Result<Arc<CachedPage>> {
    // The folder is read on every request: ownership and its current state.
    let folder = owned_folder(state, user, folder_id).await?;
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    let page = page.max(1);
    let stamp = (
        folder.uid_next,
        folder.messages,
        folder.unseen,
        folder.highest_modseq,
    );
    let key = (folder.id.0, page, per_page);
    if let Ok(pages) = state.pages.pages.lock()
        && let Some((at, cached)) = pages.get(&key)
        && *at == stamp
        && cached.page.folder.name == folder.name
    {
        return Ok(cached.clone());
    }
    let mut metas = state.store.messages(folder.id).await?;
    metas.sort_unstable_by_key(|m| std::cmp::Reverse(m.uid));
    let total = metas.len();
    let chosen: Vec<MessageMeta> = metas
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    let messages = summaries::summarise(state, folder.id, &chosen).await?;
    let cached = Arc::new(CachedPage {
        page: MessagePage {
            folder: FolderView::from(&folder),
            page,
            per_page,
            total,
            messages,
        },
        json: Default::default(),
    });
    if let Ok(mut pages) = state.pages.pages.lock() {
        if pages.len() >= MAX_CACHED_PAGES {
            pages.clear();
        }
        pages.insert(key, (stamp, cached.clone()));
    }
    Ok(cached)
}
