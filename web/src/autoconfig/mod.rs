//! Mail client autoconfiguration on the HTTPS listener: Thunderbird
//! (`/.well-known/autoconfig/mail/config-v1.1.xml`, `/mail/config-v1.1.xml?emailaddress=`),
//! Outlook Autodiscover (POX, `POST /autodiscover/autodiscover.xml`) and an Apple
//! configuration profile (`/apple/mssd.mobileconfig?emailaddress=`). Addresses outside our
//! domains, and citizens' (who use the web mailbox), get 404. Requests are logged by path
//! only, never with the address.

mod documents;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub use crate::client_setup::ClientSetup;
pub use documents::{apple_profile, autodiscover, autodiscover_address, thunderbird};

use crate::state::WebState;

pub fn routes() -> Router<Arc<WebState>> {
    Router::new()
        .route(
            "/.well-known/autoconfig/mail/config-v1.1.xml",
            get(thunderbird_config),
        )
        .route("/mail/config-v1.1.xml", get(thunderbird_config))
        .route("/autodiscover/autodiscover.xml", post(outlook))
        .route("/Autodiscover/Autodiscover.xml", post(outlook))
        .route("/apple/mssd.mobileconfig", get(apple))
}

#[derive(Debug, Deserialize)]
struct ForAddress {
    emailaddress: Option<String>,
}

const XML: &str = "application/xml; charset=utf-8";

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "no configuration for this address\n",
    )
        .into_response()
}

/// The request's host without its port (HTTP/1.1 `Host`, or the HTTP/2 authority).
fn host<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))?;
    Some(host.rsplit_once(':').map_or(host, |(name, _)| name))
}

async fn thunderbird_config(
    State(state): State<Arc<WebState>>,
    Query(query): Query<ForAddress>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let Some(setup) = &state.settings.client_setup else {
        return not_found();
    };
    let domain = match query.emailaddress.as_deref() {
        Some(address) => setup.domain_of(address),
        // `https://<domain>/.well-known/…` or `https://autoconfig.<domain>/…`.
        None => host(&headers, &uri)
            .and_then(|h| setup.served(h))
            .or(setup.domains.first().map(String::as_str)),
    };
    match domain {
        Some(domain) => ([(header::CONTENT_TYPE, XML)], thunderbird(setup, domain)).into_response(),
        None => not_found(),
    }
}

async fn outlook(State(state): State<Arc<WebState>>, body: String) -> Response {
    let Some(setup) = &state.settings.client_setup else {
        return not_found();
    };
    let Some(address) = autodiscover_address(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "an Autodiscover request with an EMailAddress is expected\n",
        )
            .into_response();
    };
    if setup.domain_of(&address).is_none() {
        return not_found();
    }
    ([(header::CONTENT_TYPE, XML)], autodiscover(setup, &address)).into_response()
}

async fn apple(State(state): State<Arc<WebState>>, Query(query): Query<ForAddress>) -> Response {
    let Some(setup) = &state.settings.client_setup else {
        return not_found();
    };
    let Some(address) = query
        .emailaddress
        .filter(|a| a.len() <= 320 && setup.domain_of(a).is_some())
    else {
        return not_found();
    };
    (
        [
            (header::CONTENT_TYPE, "application/x-apple-aspen-config"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"mssd.mobileconfig\"",
            ),
        ],
        apple_profile(setup, &address),
    )
        .into_response()
}
