//! Serving one accepted connection (plain or TLS) with hyper: HTTP/1.1, and HTTP/2 when
//! ALPN chose it. The routers: the plain listener answers monitoring only; the HTTPS one
//! everything.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::security::{self, Peer};
use crate::state::WebState;

/// A request has this long from its first byte to its response.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Headers must arrive within this (slowloris).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Request heads larger than this get 431.
const MAX_HEAD: usize = 16 * 1024;

#[derive(Clone)]
pub struct Routers {
    /// The plain loopback listener: `/healthz`, `/metrics`, `/annuaire/search`.
    pub http: Router,
    /// The HTTPS listener: the same, the API and the web mailbox.
    pub https: Router,
}

pub fn routers(state: Arc<WebState>) -> Routers {
    let ops = crate::ops::routes();
    let https = Router::new()
        .merge(ops.clone())
        .merge(crate::api::routes())
        .merge(crate::pages::routes())
        .merge(crate::test_idp::routes())
        .merge(crate::autoconfig::routes())
        .layer(axum::middleware::from_fn(security::strict_transport));
    Routers {
        http: layered(ops, state.clone()),
        https: layered(https, state),
    }
}

fn layered(router: Router<Arc<WebState>>, state: Arc<WebState>) -> Router {
    let max_body = state.settings.max_body;
    router
        // A Content-Length over the limit is refused (413) before the body is read; a
        // chunked body is cut at the limit.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::rate_limit,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                // The path only: never the query, which may carry sign-in codes.
                tracing::debug_span!("http", method = %request.method(), path = %request.uri().path())
            }),
        )
        .with_state(state)
}

/// Serves `io` until the client closes it or the connection idles out.
pub async fn serve_connection<I>(io: I, peer: SocketAddr, router: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = router.map_request(move |mut request: axum::http::Request<_>| {
        request.extensions_mut().insert(Peer(peer));
        request
    });
    let service = hyper_util::service::TowerToHyperService::new(service);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(100)
        .max_header_list_size(MAX_HEAD as u32);
    if let Err(e) = builder.serve_connection(TokioIo::new(io), service).await {
        tracing::debug!(%peer, error = %e, "http connection ended with an error");
    }
}
