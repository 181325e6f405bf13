//! Operators' endpoints, on both listeners: `/healthz` (the store answers), `/metrics`
//! (Prometheus text), `/annuaire/search` (the national directory, for clients and hospital
//! software; red-listed entries are never returned).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::state::WebState;

const TEXT: &str = "text/plain; charset=utf-8";

pub fn routes() -> Router<Arc<WebState>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/annuaire/search", get(search))
        .fallback(not_found)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, TEXT)],
        "not found\n",
    )
        .into_response()
}

async fn healthz(State(state): State<Arc<WebState>>) -> Response {
    match state.monitor.healthy().await {
        Ok(()) => (StatusCode::OK, [(header::CONTENT_TYPE, TEXT)], "ok\n").into_response(),
        Err(why) => {
            tracing::error!(error = %why, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, TEXT)],
                "store unavailable\n",
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<Arc<WebState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.monitor.metrics().await,
    )
        .into_response()
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    limit: Option<String>,
}

/// `GET /annuaire/search?q=…&limit=…` (limit 1–50, 20 by default).
async fn search(State(state): State<Arc<WebState>>, Query(query): Query<SearchQuery>) -> Response {
    let query = Some(query);
    let Some(q) = query
        .as_ref()
        .and_then(|q| q.q.as_deref())
        .map(str::trim)
        .filter(|q| !q.is_empty())
    else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, TEXT)],
            "give q=<name, RPPS, idNat, address or structure>\n",
        )
            .into_response();
    };
    let limit = query
        .as_ref()
        .and_then(|q| q.limit.as_deref())
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 50);
    let directory = state.directory.get();
    let hits = directory.lookup(q, limit);
    let body = serde_json::to_string(&hits).unwrap_or_else(|_| "[]".into());
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
