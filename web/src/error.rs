//! One error type for the web crate. What a client is told is generic and stable
//! (`{code, message}`); what went wrong in detail goes to the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("authentication required")]
    Unauthenticated,
    #[error("authentication refused: {0}")]
    TokenRefused(String),
    #[error("not yours")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("the submission was refused: {code} {message}")]
    Refused { code: u16, message: String },
    #[error("too many requests")]
    TooMany,
    #[error("document unreadable: {0}")]
    Document(String),
    #[error("store: {0}")]
    Store(#[from] mssd_store::Error),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// The body of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// Stable, machine-readable: `unauthenticated`, `forbidden`, `not_found`,
    /// `bad_request`, `refused`, `too_many_requests`, `unavailable`.
    pub code: String,
    /// For people, in French.
    pub message: String,
    /// For `refused`: the SMTP reply the submission got (code and enhanced status).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<String>,
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Unauthenticated | Error::TokenRefused(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Refused { code, .. } if *code < 500 => StatusCode::SERVICE_UNAVAILABLE,
            Error::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooMany => StatusCode::TOO_MANY_REQUESTS,
            Error::Document(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Store(_) | Error::Internal(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// What the client may read: nothing about other mailboxes, no internal detail.
    pub fn to_api(&self) -> ApiError {
        let (code, message, smtp) = match self {
            Error::Unauthenticated => (
                "unauthenticated",
                "Connectez-vous pour accéder à votre messagerie.".to_string(),
                None,
            ),
            Error::TokenRefused(_) => (
                "unauthenticated",
                "Votre session n'est pas (ou plus) valide : reconnectez-vous.".to_string(),
                None,
            ),
            Error::Forbidden => (
                "forbidden",
                "Cette ressource n'appartient pas à votre messagerie.".to_string(),
                None,
            ),
            Error::NotFound(what) => ("not_found", format!("Introuvable : {what}."), None),
            Error::BadRequest(why) => ("bad_request", why.clone(), None),
            Error::Refused { code, message } => (
                "refused",
                format!("L'envoi a été refusé : {message}"),
                Some(format!("{code} {message}")),
            ),
            Error::TooMany => (
                "too_many_requests",
                "Trop de requêtes : réessayez dans un instant.".to_string(),
                None,
            ),
            Error::Document(_) => (
                "unreadable",
                "Ce document ne peut pas être affiché.".to_string(),
                None,
            ),
            Error::Store(_) | Error::Internal(_) => (
                "unavailable",
                "Service momentanément indisponible.".to_string(),
                None,
            ),
        };
        ApiError {
            code: code.to_string(),
            message,
            smtp,
        }
    }

    fn log(&self) {
        match self {
            Error::Store(_) | Error::Internal(_) => {
                tracing::error!(error = %self, "web request failed")
            }
            Error::Document(_) => tracing::warn!(error = %self, "document not shown"),
            _ => tracing::debug!(error = %self, "web request refused"),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let mut response = (status, Json(self.to_api())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"mssd\""),
            );
        }
        response
    }
}
