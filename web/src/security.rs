//! Headers every response carries, and the per-IP rate limit in front of every route.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::state::WebState;

/// The client's address, put in each request's extensions by the connection server.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// The host the client asked for: the Host field (HTTP/1.1) or the `:authority` of an
/// HTTP/2 request, which hyper puts in the URI.
pub fn request_host(headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> String {
    uri.authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "localhost".into())
}

/// No inline script or style anywhere, nothing from elsewhere; frames only our own
/// (a message's sanitised HTML body, a PDF document); forms post only to us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'self'";

pub async fn rate_limit(
    State(state): State<Arc<WebState>>,
    request: Request,
    next: Next,
) -> Response {
    let admitted = request
        .extensions()
        .get::<Peer>()
        .is_none_or(|peer| state.rate.admit(peer.0.ip()));
    if !admitted {
        let mut response = Error::TooMany.into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    next.run(request).await
}

/// Security headers; a handler that set its own Content-Security-Policy (a sandboxed
/// message body) keeps it.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "SAMEORIGIN");
    set(h, header::CACHE_CONTROL, "no-store");
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    response
}

/// HTTPS only: browsers keep to HTTPS for a year.
pub async fn strict_transport(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}
