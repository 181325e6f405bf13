//! Health documents.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Binary, Caller};
use crate::error::{ApiError, Error, Result};
use crate::mailbox::documents::{self, Content, DocumentView};
use crate::state::WebState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Include superseded and withdrawn documents.
    all: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/documents", operation_id = "listDocuments", tag = "documents",
    params(ListQuery),
    responses((status = 200, body = Vec<DocumentView>), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<DocumentView>>> {
    Ok(Json(
        documents::list(&state, &user, q.all.unwrap_or(false)).await?,
    ))
}

/// One document and what it holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentDetail {
    #[serde(flatten)]
    pub document: DocumentView,
    /// `N1` (an embedded document, e.g. a PDF) or `N3` (structured sections).
    pub level: String,
    /// The embedded document's media type (N1).
    pub media_type: Option<String>,
    /// `content`: the PDF (N1) or the CDA XML (N3); `cda`: the CDA XML; `html`: the
    /// rendering of an N3 document's sections.
    pub links: DocumentLinks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentLinks {
    pub content: String,
    pub cda: String,
    pub html: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/documents/{id}", operation_id = "getDocument", tag = "documents",
    params(("id" = i64, Path, description = "Document number in this mailbox")),
    responses((status = 200, body = DocumentDetail), (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path(id): Path<i64>,
) -> Result<Json<DocumentDetail>> {
    let opened = documents::open(&state, &user, id).await?;
    let (level, media_type) = match &opened.content {
        Content::Embedded { media_type, .. } => ("N1", Some(media_type.clone())),
        Content::Structured { .. } => ("N3", None),
    };
    let base = format!("/api/v1/documents/{id}");
    Ok(Json(DocumentDetail {
        level: level.into(),
        media_type,
        links: DocumentLinks {
            content: format!("{base}/content"),
            cda: format!("{base}/cda"),
            html: (level == "N3").then(|| format!("{base}/html")),
        },
        document: opened.view,
    }))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/content", operation_id = "getDocumentContent", tag = "documents",
    params(("id" = i64, Path, description = "Document number in this mailbox")),
    responses(
        (status = 200, description = "The PDF of an N1 document, or the CDA XML of an N3 one", content((Binary = "application/pdf"), (Binary = "text/xml"))),
        (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub async fn content(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path(id): Path<i64>,
) -> Result<Response> {
    let opened = documents::open(&state, &user, id).await?;
    Ok(super::document_file(opened))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/cda", operation_id = "getDocumentCda", tag = "documents",
    params(("id" = i64, Path, description = "Document number in this mailbox")),
    responses((status = 200, body = Binary, content_type = "text/xml"), (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub async fn cda(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path(id): Path<i64>,
) -> Result<Response> {
    let opened = documents::open(&state, &user, id).await?;
    Ok(super::download(
        "document-cda.xml",
        "text/xml",
        opened.xml,
        false,
    ))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/html", operation_id = "getDocumentHtml", tag = "documents",
    params(("id" = i64, Path, description = "Document number in this mailbox")),
    responses((status = 200, body = String, content_type = "text/html"), (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
pub async fn html(
    State(state): State<Arc<WebState>>,
    Caller(user, _): Caller,
    Path(id): Path<i64>,
) -> Result<Response> {
    let opened = documents::open(&state, &user, id).await?;
    let Content::Structured { html } = opened.content else {
        return Err(Error::NotFound("rendu HTML (document N1 : voir content)"));
    };
    let page = format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Document</title></head><body>{html}</body></html>"
    );
    let mut response = page.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(response)
}
