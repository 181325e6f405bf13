//! Pages of a folder, newest first. The folder is read on every request (ownership, its
//! state); the page itself is kept while that state is unchanged, its JSON made once.

use std::sync::Arc;

use mssd_auth::Authenticated;
use mssd_store::MessageMeta;

use super::model::{CachedPage, FolderView, MessagePage};
use super::{MAX_PER_PAGE, owned_folder, summaries};
use crate::error::Result;
use crate::state::WebState;

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
    if let Some(cached) = state.pages.get(&key, stamp, &folder.name) {
        return Ok(cached);
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
    state.pages.put(key, stamp, cached.clone());
    Ok(cached)
}
