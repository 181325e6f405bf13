//! The mailbox JSON API, `/api/v1`: bearer tokens (a citizen's, or a professional's Pro
//! Santé Connect token for their own mailbox), errors as `{code, message}`, and the
//! OpenAPI 3 document generated from the handlers' annotations at `/api/v1/openapi.json`.

mod documents;
mod messages;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mssd_auth::Authenticated;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::{ApiError, Error};
use crate::mailbox::documents::{Content, Opened};
use crate::security::Peer;
use crate::state::WebState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mssd mailbox API",
        description = "A health mailbox (a citizen's, or a professional's own): folders, messages, attachments, health documents (CDA R2 in IHE_XDM.zip), replies. Authenticate with `Authorization: Bearer <token>`.",
        version = "1"
    ),
    paths(
        me,
        messages::folders,
        messages::list,
        messages::show,
        messages::attachment,
        messages::mark_read,
        messages::trash,
        messages::reply,
        documents::list,
        documents::show,
        documents::content,
        documents::cda,
        documents::html,
    ),
    components(schemas(ApiError, Me, Binary)),
    modifiers(&BearerScheme),
    tags((name = "mailbox", description = "Folders and messages"), (name = "documents", description = "Health documents"))
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Bytes (a PDF, a CDA document, an attachment).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(#[allow(dead_code)] Vec<u8>);

pub fn routes() -> Router<Arc<WebState>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
        .route("/api/v1/folders", get(messages::folders))
        .route("/api/v1/folders/{folder}/messages", get(messages::list))
        .route(
            "/api/v1/folders/{folder}/messages/{uid}",
            get(messages::show),
        )
        .route(
            "/api/v1/folders/{folder}/messages/{uid}/attachments/{index}",
            get(messages::attachment),
        )
        .route(
            "/api/v1/folders/{folder}/messages/{uid}/read",
            post(messages::mark_read),
        )
        .route(
            "/api/v1/folders/{folder}/messages/{uid}/trash",
            post(messages::trash),
        )
        .route(
            "/api/v1/folders/{folder}/messages/{uid}/reply",
            post(messages::reply),
        )
        .route("/api/v1/documents", get(documents::list))
        .route("/api/v1/documents/{id}", get(documents::show))
        .route("/api/v1/documents/{id}/content", get(documents::content))
        .route("/api/v1/documents/{id}/cda", get(documents::cda))
        .route("/api/v1/documents/{id}/html", get(documents::html))
}

async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

/// The authenticated caller of an API request.
pub struct Caller(pub Authenticated, pub Peer);

impl FromRequestParts<Arc<WebState>> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<WebState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<Peer>()
            .copied()
            .ok_or_else(|| Error::Internal("no peer address".into()))?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| {
                let (scheme, token) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(Error::Unauthenticated)?;
        let user = crate::bearer::authenticate(state, token, peer.0).await?;
        Ok(Caller(user, peer))
    }
}

/// Who the token names.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub address: String,
    /// `PER`, `ORG`, `APP`, `CAB` or `CITIZEN`.
    pub kind: String,
    pub display_name: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me", operation_id = "getMe", tag = "mailbox",
    responses((status = 200, body = Me), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
async fn me(Caller(user, _): Caller) -> Json<Me> {
    Json(Me {
        address: user.mailbox.address.to_string(),
        kind: user.mailbox.kind.as_str().to_string(),
        display_name: user.mailbox.display_name.clone(),
    })
}

/// A file response: never sniffed, inline only for PDFs.
pub(crate) fn download(
    name: &str,
    content_type: &str,
    data: impl Into<axum::body::Bytes>,
    inline: bool,
) -> Response {
    let safe_name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{safe_name}\"",
        if inline { "inline" } else { "attachment" }
    );
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = data.into().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if inline {
        // The browser's PDF viewer runs under the document's CSP: keep it to framing.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'self'; script-src 'none'"),
        );
    }
    response
}

/// The file of a document: the PDF of an N1 document, the CDA XML of an N3 one.
pub(crate) fn document_file(opened: Opened) -> Response {
    match opened.content {
        Content::Embedded { media_type, bytes } => {
            let inline = media_type == "application/pdf";
            let name = if inline {
                "document.pdf"
            } else {
                "document.bin"
            };
            download(name, &media_type, bytes, inline)
        }
        Content::Structured { .. } => download("document-cda.xml", "text/xml", opened.xml, false),
    }
}
