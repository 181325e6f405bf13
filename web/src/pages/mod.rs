//! The citizens' web mailbox: server-rendered HTML in French that works without
//! JavaScript. Every page needs a web session (cookie), every form a CSRF token.

mod account;
mod documents;
pub mod layout;
mod messages;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::error::Error;
use crate::sessions::{COOKIE, WebSession, cookie, same_secret};
use crate::state::WebState;
use layout::Reader;

pub fn routes() -> Router<Arc<WebState>> {
    Router::new()
        .route("/", get(account::home))
        .route("/connexion", get(account::sign_in))
        .route(crate::sign_in::CALLBACK_PATH, get(account::callback))
        .route("/deconnexion", post(account::sign_out))
        .route("/static/mssd.css", get(stylesheet))
        .route("/boite", get(messages::inbox))
        .route("/message/{folder}/{uid}", get(messages::show))
        .route("/message/{folder}/{uid}/corps", get(messages::body))
        .route(
            "/message/{folder}/{uid}/piece/{index}",
            get(messages::attachment),
        )
        .route("/message/{folder}/{uid}/repondre", post(messages::reply))
        .route("/message/{folder}/{uid}/corbeille", post(messages::trash))
        .route("/documents", get(documents::list))
        .route("/document/{id}", get(documents::show))
        .route("/document/{id}/fichier", get(documents::file))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        layout::STYLESHEET,
    )
        .into_response()
}

/// A page's error: the same status as the API would give, as a page.
pub(crate) struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/").into_response();
        }
        let api = self.0.to_api();
        tracing::debug!(error = %self.0, "page refused");
        let body = format!(
            r#"<h1>{}</h1><p class="error" role="alert">{}</p><p><a href="/boite">Retour à la messagerie</a></p>"#,
            match status {
                StatusCode::FORBIDDEN => "Accès refusé",
                StatusCode::NOT_FOUND => "Introuvable",
                StatusCode::TOO_MANY_REQUESTS => "Trop de requêtes",
                s if s.is_client_error() => "Demande refusée",
                _ => "Service indisponible",
            },
            crate::mailbox::sanitize::escape(&api.message)
        );
        (status, Html(layout::document("Erreur", None, &body))).into_response()
    }
}

pub(crate) type PageResult = std::result::Result<Response, PageError>;

/// The reader's web session, from the cookie; without one, back to the home page.
pub(crate) struct SignedIn(pub WebSession);

impl SignedIn {
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            address: self.0.user.mailbox.address.as_str(),
            csrf: &self.0.csrf,
        }
    }

    /// A form's CSRF token must be the session's.
    pub fn check_csrf(&self, sent: &str) -> std::result::Result<(), PageError> {
        if same_secret(sent, &self.0.csrf) {
            Ok(())
        } else {
            tracing::info!("web form refused: CSRF token missing or wrong");
            Err(PageError(Error::Forbidden))
        }
    }
}

impl FromRequestParts<Arc<WebState>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<WebState>,
    ) -> Result<Self, Self::Rejection> {
        let session = cookie(&parts.headers, COOKIE).and_then(|c| state.sessions.get(c));
        let Some(session) = session else {
            return Err(Redirect::to("/").into_response());
        };
        // A mailbox suspended or closed since sign-in stops here.
        match state.store.mailbox(&session.user.mailbox.address).await {
            Ok(Some(m)) if m.status == mssd_store::MailboxStatus::Active => Ok(SignedIn(session)),
            Ok(_) => Err(Redirect::to("/").into_response()),
            Err(e) => Err(PageError(Error::Store(e)).into_response()),
        }
    }
}

/// Form bodies that carry only the CSRF token.
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}
