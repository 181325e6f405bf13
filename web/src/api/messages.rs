//! Folders and messages.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Binary, Caller};
use crate::error::{ApiError, Error, Result};
use crate::mailbox::reply::Sent;
use crate::mailbox::view::MessageView;
use crate::mailbox::{self, FolderView, MessagePage};
use crate::state::WebState;

#[utoipa::path(get, path = "/api/v1/folders", operation_id = "listFolders", tag = "mailbox",
    responses((status = 200, body = Vec<FolderView>), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub async fn folders(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
) -> Result<Json<Vec<FolderView>>> {
    Ok(Json(mailbox::folders(&state, &user).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    page: Option<usize>,
    /// Messages per page, 1–100 (25 by default).
    per_page: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/folders/{folder}/messages", operation_id = "listMessages", tag = "mailbox",
    params(("folder" = i64, Path, description = "Folder id"), PageQuery),
    responses((status = 200, body = MessagePage), (status = 401, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path(folder): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response> {
    let page = mailbox::page(
        &state,
        &user,
        folder,
        q.page.unwrap_or(1),
        q.per_page.unwrap_or(25),
    )
    .await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        page.json(),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowQuery {
    /// Keep remote images in the HTML body (they are taken out by default).
    images: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/folders/{folder}/messages/{uid}", operation_id = "getMessage", tag = "mailbox",
    params(("folder" = i64, Path, description = "Folder id"), ("uid" = u32, Path, description = "Message UID"), ShowQuery),
    responses((status = 200, body = MessageView), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path((folder, uid)): Path<(i64, u32)>,
    Query(q): Query<ShowQuery>,
) -> Result<Json<MessageView>> {
    let (meta, bytes) = mailbox::message(&state, &user, folder, uid).await?;
    Ok(Json(mailbox::view::view(
        folder,
        &meta,
        &bytes,
        q.images.unwrap_or(false),
    )))
}

#[utoipa::path(get, path = "/api/v1/folders/{folder}/messages/{uid}/attachments/{index}", operation_id = "getAttachment", tag = "mailbox",
    params(("folder" = i64, Path, description = "Folder id"), ("uid" = u32, Path, description = "Message UID"), ("index" = usize, Path, description = "Attachment index, from 0")),
    responses((status = 200, body = Binary, content_type = "application/octet-stream"), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub async fn attachment(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path((folder, uid, index)): Path<(i64, u32, usize)>,
) -> Result<Response> {
    let bytes = mailbox::message_bytes(&state, &user, folder, uid).await?;
    let (name, content_type, data) =
        mailbox::view::attachment(&bytes, index).ok_or(Error::NotFound("pièce jointe"))?;
    Ok(super::download(&name, &content_type, data, false))
}

#[utoipa::path(post, path = "/api/v1/folders/{folder}/messages/{uid}/read", operation_id = "markRead", tag = "mailbox",
    params(("folder" = i64, Path, description = "Folder id"), ("uid" = u32, Path, description = "Message UID")),
    responses((status = 204, description = "Marked read"), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub async fn mark_read(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path((folder, uid)): Path<(i64, u32)>,
) -> Result<StatusCode> {
    mailbox::mark_read(&state, &user, folder, uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a message went.
#[derive(Debug, Serialize, ToSchema)]
pub struct Moved {
    pub folder: i64,
    pub uid: u32,
}

#[utoipa::path(post, path = "/api/v1/folders/{folder}/messages/{uid}/trash", operation_id = "moveToTrash", tag = "mailbox",
    params(("folder" = i64, Path, description = "Folder id"), ("uid" = u32, Path, description = "Message UID")),
    responses((status = 200, body = Moved), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
pub async fn trash(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path((folder, uid)): Path<(i64, u32)>,
) -> Result<Json<Moved>> {
    let (trash, new_uid) = mailbox::trash(&state, &user, folder, uid).await?;
    Ok(Json(Moved {
        folder: trash.0,
        uid: new_uid,
    }))
}

/// A reply to the message's sender (its Reply-To, else its From).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// Plain text, at most 64 KiB.
    pub text: String,
}

#[utoipa::path(post, path = "/api/v1/folders/{folder}/messages/{uid}/reply", operation_id = "reply", tag = "mailbox",
    params(("folder" = i64, Path, description = "Folder id"), ("uid" = u32, Path, description = "Message UID")),
    request_body = ReplyRequest,
    responses(
        (status = 202, body = Sent, description = "Accepted and stored (fsynced) for delivery"),
        (status = 400, body = ApiError),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError),
        (status = 413, description = "Request body too large"),
        (status = 422, body = ApiError, description = "Refused by the submission rules (the SMTP reply is in `smtp`)"),
        (status = 503, body = ApiError, description = "Temporarily refused; retry later")),
    security(("bearer" = [])))]
pub async fn reply(
    State(state): State<Arc<WebState>>,
    Caller(user, peer): Caller,
    Path((folder, uid)): Path<(i64, u32)>,
    Json(request): Json<ReplyRequest>,
) -> Result<Response> {
    let sent = mailbox::reply::reply(&state, &user, peer.0, folder, uid, &request.text).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}
