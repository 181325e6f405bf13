//! What the API and the pages read and do in a mailbox, with no HTTP in it: folders,
//! pages of messages, one message, its attachments, the health documents, a reply.
//! Every function takes the authenticated user and refuses what is not theirs.

pub mod documents;
pub mod model;
pub mod narrative;
mod pages;
pub mod reply;
pub mod sanitize;
pub mod summaries;
pub mod view;

use mssd_auth::Authenticated;
use mssd_store::{Folder, FolderId, MessageMeta};

use crate::error::{Error, Result};
use crate::state::WebState;
pub use model::{CachedPage, FolderView, MessagePage, MessageSummary};
pub use pages::page;

pub async fn folders(state: &WebState, user: &Authenticated) -> Result<Vec<FolderView>> {
    let folders = state.store.folders(user.mailbox.id).await?;
    Ok(folders.iter().map(FolderView::from).collect())
}

/// The folder `id` if it belongs to the user's mailbox. Another mailbox's folder is
/// `Forbidden`, exactly like one that does not exist: nothing tells them apart.
pub async fn owned_folder(state: &WebState, user: &Authenticated, id: i64) -> Result<Folder> {
    match state.store.folder(FolderId(id)).await? {
        Some(folder) if folder.mailbox == user.mailbox.id => Ok(folder),
        _ => Err(Error::Forbidden),
    }
}

/// The user's INBOX (where mail arrives).
pub async fn inbox(state: &WebState, user: &Authenticated) -> Result<Folder> {
    state
        .store
        .folders(user.mailbox.id)
        .await?
        .into_iter()
        .find(|f| f.name.eq_ignore_ascii_case("INBOX"))
        .ok_or(Error::NotFound("INBOX"))
}

/// The folder with `special_use` (e.g. `\Trash`).
pub async fn special_folder(
    state: &WebState,
    user: &Authenticated,
    special_use: &str,
) -> Result<Folder> {
    state
        .store
        .folders(user.mailbox.id)
        .await?
        .into_iter()
        .find(|f| f.special_use.as_deref() == Some(special_use))
        .ok_or(Error::NotFound("dossier"))
}

pub const MAX_PER_PAGE: usize = 100;

/// The bytes of one message of the user's.
pub async fn message_bytes(
    state: &WebState,
    user: &Authenticated,
    folder_id: i64,
    uid: u32,
) -> Result<Vec<u8>> {
    let folder = owned_folder(state, user, folder_id).await?;
    state
        .store
        .message_body(folder.id, uid)
        .await?
        .ok_or(Error::NotFound("message"))
}

/// The flags and dates and the bytes of one message of the user's.
pub async fn message(
    state: &WebState,
    user: &Authenticated,
    folder_id: i64,
    uid: u32,
) -> Result<(MessageMeta, Vec<u8>)> {
    let folder = owned_folder(state, user, folder_id).await?;
    let meta = state
        .store
        .message_meta(folder.id, uid)
        .await?
        .ok_or(Error::NotFound("message"))?;
    let bytes = state
        .store
        .message_body(folder.id, uid)
        .await?
        .ok_or(Error::NotFound("message"))?;
    Ok((meta, bytes))
}

/// Adds `\Seen`.
pub async fn mark_read(
    state: &WebState,
    user: &Authenticated,
    folder_id: i64,
    uid: u32,
) -> Result<()> {
    let folder = owned_folder(state, user, folder_id).await?;
    let outcome = state
        .store
        .store_flags(
            folder.id,
            vec![uid],
            mssd_store::FlagOp::Add,
            vec!["\\Seen".into()],
            None,
        )
        .await?;
    if outcome.updated.is_empty() {
        return Err(Error::NotFound("message"));
    }
    Ok(())
}

/// Moves the message to the Trash folder (RFC 6851 MOVE semantics: one transaction).
/// Returns the Trash folder and the message's UID there.
pub async fn trash(
    state: &WebState,
    user: &Authenticated,
    folder_id: i64,
    uid: u32,
) -> Result<(FolderId, u32)> {
    let folder = owned_folder(state, user, folder_id).await?;
    let trash = special_folder(state, user, "\\Trash").await?;
    if trash.id == folder.id {
        return Err(Error::BadRequest(
            "Ce message est déjà dans la corbeille.".into(),
        ));
    }
    let moved = state
        .store
        .move_messages(folder.id, vec![uid], trash.id)
        .await?;
    match moved.pairs.first() {
        Some((_, new)) => Ok((trash.id, *new)),
        None => Err(Error::NotFound("message")),
    }
}
