//! The TEST identity provider for citizens, on in the embedded default
//! (`[citizen.oidc] test_provider = true`): an authorization endpoint whose page is clearly
//! marked TEST and lets one type the INS of a test citizen, and a token endpoint that checks
//! the PKCE verifier and returns a short-lived token signed with the test key. Never for
//! production: anyone reaching it signs in as anyone.

pub mod provider;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::mailbox::sanitize::escape;
use crate::oauth::percent_encode;
use crate::sign_in::{CALLBACK_PATH, Provider};
use crate::state::WebState;
pub use provider::{AUTHORIZE_PATH, CLIENT_ID, Minter, TOKEN_PATH, TestProvider};

pub fn routes() -> Router<Arc<WebState>> {
    Router::new()
        .route(AUTHORIZE_PATH, get(authorize_page).post(authorize))
        .route(TOKEN_PATH, post(token))
}

fn provider(state: &WebState) -> Result<&TestProvider> {
    match state.sign_in.as_ref().map(|s| &s.provider) {
        Some(Provider::Test(test)) => Ok(test),
        _ => Err(Error::NotFound("page")),
    }
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// Only our own callback, on the host the browser asked: no open redirect.
fn allowed_redirect(redirect_uri: &str, headers: &HeaderMap, uri: &Uri) -> bool {
    let host = crate::security::request_host(headers, uri);
    redirect_uri == format!("https://{host}{CALLBACK_PATH}")
}

async fn authorize_page(
    State(state): State<Arc<WebState>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<AuthorizeQuery>,
) -> Result<Response> {
    let test = provider(&state)?;
    let redirect_uri = q.redirect_uri.unwrap_or_default();
    let challenge = q.code_challenge.unwrap_or_default();
    if q.response_type.as_deref() != Some("code")
        || q.client_id.as_deref() != Some(CLIENT_ID)
        || q.code_challenge_method.as_deref() != Some("S256")
        || challenge.len() < 43
        || !allowed_redirect(&redirect_uri, &headers, &uri)
    {
        return Err(Error::BadRequest(
            "Requête d'autorisation invalide (code + PKCE S256 vers le retour de ce serveur)."
                .into(),
        ));
    }
    let hint = test.hint.clone().unwrap_or_default();
    let body = format!(
        r#"<div class="test-banner" role="note"><strong>Fournisseur d'identité de TEST</strong> — ne jamais utiliser en production : n'importe qui peut s'y connecter sous n'importe quelle identité.</div>
<h1>Connexion de test</h1>
<p>Saisissez le matricule INS d'un citoyen de test. La messagerie vérifiera qu'une boîte existe pour lui.</p>
<form method="post" action="{AUTHORIZE_PATH}" class="card">
<input type="hidden" name="form_token" value="{}">
<input type="hidden" name="redirect_uri" value="{}">
<input type="hidden" name="state" value="{}">
<input type="hidden" name="code_challenge" value="{}">
<label for="ins">Matricule INS (15 chiffres)</label>
<input id="ins" name="ins" type="text" inputmode="numeric" autocomplete="off" required pattern="[0-9]{{13}}[0-9]{{2}}" value="{}">
<button type="submit" id="test-sign-in">Se connecter (TEST)</button>
</form>"#,
        escape(&test.issue_form_token()),
        escape(&redirect_uri),
        escape(&q.state.unwrap_or_default()),
        escape(&challenge),
        escape(&hint),
    );
    Ok(Html(crate::pages::layout::document(
        "Connexion de test",
        None,
        &body,
    ))
    .into_response())
}

#[derive(Deserialize)]
struct AuthorizeForm {
    form_token: String,
    ins: String,
    redirect_uri: String,
    state: String,
    code_challenge: String,
}

async fn authorize(
    State(state): State<Arc<WebState>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<AuthorizeForm>,
) -> Result<Response> {
    let test = provider(&state)?;
    if !test.take_form_token(&form.form_token) {
        return Err(Error::BadRequest("Formulaire expiré : recommencez.".into()));
    }
    let ins = form.ins.trim().to_string();
    if ins.len() != 15 || !ins.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::BadRequest("Un matricule INS a 15 chiffres.".into()));
    }
    if !allowed_redirect(&form.redirect_uri, &headers, &uri) || form.code_challenge.len() < 43 {
        return Err(Error::BadRequest("Requête d'autorisation invalide.".into()));
    }
    let code = test.issue_code(ins, form.code_challenge, form.redirect_uri.clone())?;
    let location = format!(
        "{}?code={}&state={}",
        form.redirect_uri,
        percent_encode(&code),
        percent_encode(&form.state)
    );
    Ok(Redirect::to(&location).into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    code_verifier: String,
    redirect_uri: String,
}

/// The token endpoint, for apps that sign in against the TEST provider themselves.
async fn token(State(state): State<Arc<WebState>>, Form(form): Form<TokenForm>) -> Response {
    let Ok(test) = provider(&state) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let error = |e: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": e })),
        )
            .into_response()
    };
    if form.grant_type != "authorization_code" {
        return error("unsupported_grant_type");
    }
    match test.exchange(&form.code, &form.code_verifier, &form.redirect_uri) {
        Ok(token) => Json(serde_json::json!({
            "access_token": token, "id_token": token, "token_type": "Bearer", "expires_in": 600,
        }))
        .into_response(),
        Err(_) => error("invalid_grant"),
    }
}
