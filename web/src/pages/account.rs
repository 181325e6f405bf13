//! Home, sign-in (OpenID Connect code + PKCE), the provider's return, sign-out.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::layout::{self, document};
use super::{CsrfForm, PageError, PageResult, SignedIn};
use crate::error::Error;
use crate::security::Peer;
use crate::sessions::{COOKIE, cookie, same_secret};
use crate::sign_in::{CALLBACK_PATH, PENDING_COOKIE};
use crate::state::WebState;

pub async fn home(State(state): State<Arc<WebState>>, headers: HeaderMap) -> Response {
    let signed_in = cookie(&headers, COOKIE)
        .and_then(|c| state.sessions.get(c))
        .is_some();
    if signed_in {
        return Redirect::to("/boite").into_response();
    }
    let action = match &state.sign_in {
        Some(s) if s.is_test() => r#"<div class="test-banner" role="note"><strong>Serveur de TEST.</strong> La connexion passe par un fournisseur d'identité de test, jamais utilisable en production.</div>
<p><a class="button" id="sign-in" href="/connexion">Se connecter avec le fournisseur de TEST</a></p>"#.to_string(),
        Some(_) => r#"<p><a class="button" id="sign-in" href="/connexion">Se connecter</a></p>"#.to_string(),
        None => r#"<p class="notice">La connexion des citoyens n'est pas configurée sur ce serveur ([citizen.oidc]).</p>"#.to_string(),
    };
    let body = format!(
        "<h1>Votre messagerie de santé</h1>\n<p>Lisez les messages et les documents que vous envoient les professionnels de santé qui vous suivent, et répondez-leur.</p>\n{action}"
    );
    Html(document("Accueil", None, &body)).into_response()
}

fn redirect_uri(state: &WebState, headers: &HeaderMap, uri: &Uri) -> String {
    match &state.settings.public_url {
        Some(base) => format!("{}{CALLBACK_PATH}", base.trim_end_matches('/')),
        None => format!(
            "https://{}{CALLBACK_PATH}",
            crate::security::request_host(headers, uri)
        ),
    }
}

pub async fn sign_in(
    State(state): State<Arc<WebState>>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let sign_in = state.sign_in.as_ref().ok_or(Error::NotFound("connexion"))?;
    let started = sign_in.start(&redirect_uri(&state, &headers, &uri))?;
    let mut response = Redirect::to(&started.location).into_response();
    // Lax, not Strict: the provider sends the browser back with a top-level navigation from
    // its own site, which must carry this cookie. It only holds the opaque state.
    let cookie = format!(
        "{PENDING_COOKIE}={}; Path={CALLBACK_PATH}; Max-Age=600; HttpOnly; Secure; SameSite=Lax",
        started.state
    );
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| Error::Internal(e.to_string()))?,
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(state): State<Arc<WebState>>,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<Callback>,
) -> PageResult {
    let sign_in = state.sign_in.as_ref().ok_or(Error::NotFound("connexion"))?;
    if let Some(error) = q.error {
        tracing::info!(%error, "sign-in: the provider refused");
        return Err(
            Error::BadRequest("Le fournisseur d'identité a refusé la connexion.".into()).into(),
        );
    }
    let (Some(code), Some(returned)) = (q.code, q.state) else {
        return Err(Error::BadRequest("Retour de connexion incomplet.".into()).into());
    };
    let remembered = cookie(&headers, PENDING_COOKIE).unwrap_or("");
    if !same_secret(remembered, &returned) {
        tracing::info!("sign-in refused: state differs from this browser's");
        return Err(Error::BadRequest(
            "Connexion commencée dans un autre navigateur : recommencez.".into(),
        )
        .into());
    }
    let tokens = sign_in
        .finish(&returned, &code, &redirect_uri(&state, &headers, &uri))
        .await?;
    let mut refused = None;
    let mut user = None;
    for token in &tokens {
        match crate::bearer::authenticate(&state, token, peer.0).await {
            Ok(u) => {
                user = Some(u);
                break;
            }
            Err(e) => refused = Some(e),
        }
    }
    let Some(user) = user else {
        let e = refused.unwrap_or(Error::Unauthenticated);
        tracing::info!(error = %e, "sign-in refused");
        let body = r#"<h1>Connexion impossible</h1><p class="error" role="alert">Aucune messagerie de santé n'est ouverte pour cette identité, ou elle est suspendue.</p><p><a href="/">Retour à l'accueil</a></p>"#;
        return Ok((
            axum::http::StatusCode::FORBIDDEN,
            Html(document("Connexion impossible", None, body)),
        )
            .into_response());
    };
    let cookie = state.sessions.open(user).ok_or(Error::TooMany)?;
    // A page, not a redirect: the session cookie is SameSite=Strict, and a redirect chain
    // that began on the provider's site would not send it; the refresh is our own page's.
    let body = r#"<h1>Connexion réussie</h1><p><a href="/boite" id="continue">Accéder à ma messagerie</a></p>"#;
    let mut response = Html(document("Connexion réussie", None, body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::REFRESH, HeaderValue::from_static("0; url=/boite"));
    let session = format!("{COOKIE}={cookie}; Path=/; HttpOnly; Secure; SameSite=Strict");
    let clear = format!(
        "{PENDING_COOKIE}=; Path={CALLBACK_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Lax"
    );
    for c in [session, clear] {
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_str(&c).map_err(|e| PageError(Error::Internal(e.to_string())))?,
        );
    }
    Ok(response)
}

pub async fn sign_out(
    State(state): State<Arc<WebState>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    signed_in.check_csrf(&form.csrf)?;
    if let Some(session) = cookie(&headers, COOKIE) {
        state.sessions.close(session);
    }
    let body = r#"<h1>Vous êtes déconnecté</h1><p><a href="/">Retour à l'accueil</a></p>"#;
    let mut response = Html(layout::document("Déconnexion", None, body)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "mssd_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
        ),
    );
    Ok(response)
}
