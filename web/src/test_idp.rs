//! The TEST identity provider for citizens, on in the embedded default
//! (`[citizen.oidc] test_provider = true`): an authorization endpoint whose page is clearly
//! marked TEST and lets one type the INS of a test citizen, and a token endpoint that checks
//! the PKCE verifier and returns a short-lived token signed with the test key. Never for
//! production: anyone reaching it signs in as anyone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::mailbox::sanitize::escape;
use crate::sign_in::{CALLBACK_PATH, Provider, challenge_of, percent_encode};
use crate::state::WebState;

pub const AUTHORIZE_PATH: &str = "/test-idp/authorize";
pub const TOKEN_PATH: &str = "/test-idp/token";
pub const CLIENT_ID: &str = "mssd-web";
const CODE_LIFETIME: Duration = Duration::from_secs(120);
const MAX_CODES: usize = 10_000;

/// Mints a token for an INS (the server's test key signs it).
pub type Minter = Arc<dyn Fn(&str) -> std::result::Result<String, String> + Send + Sync>;

struct Code {
    ins: String,
    challenge: String,
    redirect_uri: String,
    at: Instant,
}

pub struct TestProvider {
    minter: Minter,
    /// Prefilled on the sign-in page: the embedded default's test citizen.
    hint: Option<String>,
    codes: Mutex<HashMap<String, Code>>,
    /// Form tokens of the sign-in page (it is a form like any other: no CSRF-less POST).
    forms: Mutex<HashMap<String, Instant>>,
}

impl TestProvider {
    pub fn new(minter: Minter, hint: Option<String>) -> TestProvider {
        TestProvider {
            minter,
            hint,
            codes: Mutex::new(HashMap::new()),
            forms: Mutex::new(HashMap::new()),
        }
    }

    fn issue_form_token(&self) -> String {
        let token = crate::sessions::random_token();
        if let Ok(mut forms) = self.forms.lock() {
            if forms.len() >= MAX_CODES {
                forms.retain(|_, at| at.elapsed() < CODE_LIFETIME * 5);
            }
            if forms.len() < MAX_CODES {
                forms.insert(token.clone(), Instant::now());
            }
        }
        token
    }

    fn take_form_token(&self, token: &str) -> bool {
        self.forms
            .lock()
            .ok()
            .and_then(|mut f| f.remove(token))
            .is_some_and(|at| at.elapsed() < CODE_LIFETIME * 5)
    }

    fn issue_code(&self, ins: String, challenge: String, redirect_uri: String) -> Result<String> {
        let mut codes = self
            .codes
            .lock()
            .map_err(|_| Error::Internal("test provider poisoned".into()))?;
        if codes.len() >= MAX_CODES {
            codes.retain(|_, c| c.at.elapsed() < CODE_LIFETIME);
            if codes.len() >= MAX_CODES {
                return Err(Error::TooMany);
            }
        }
        let code = crate::sessions::random_token();
        codes.insert(
            code.clone(),
            Code {
                ins,
                challenge,
                redirect_uri,
                at: Instant::now(),
            },
        );
        Ok(code)
    }

    /// RFC 6749 §4.1.3 + RFC 7636 §4.6: a code once, within its lifetime, for the same
    /// redirect URI, with the verifier whose S256 is the challenge.
    pub fn exchange(&self, code: &str, verifier: &str, redirect_uri: &str) -> Result<String> {
        let issued = self
            .codes
            .lock()
            .map_err(|_| Error::Internal("test provider poisoned".into()))?
            .remove(code)
            .ok_or_else(|| Error::TokenRefused("unknown or used code".into()))?;
        if issued.at.elapsed() > CODE_LIFETIME {
            return Err(Error::TokenRefused("code expired".into()));
        }
        if issued.redirect_uri != redirect_uri {
            return Err(Error::TokenRefused("redirect_uri differs".into()));
        }
        if !crate::sessions::same_secret(&challenge_of(verifier), &issued.challenge) {
            return Err(Error::TokenRefused("PKCE verifier does not match".into()));
        }
        (self.minter)(&issued.ins).map_err(Error::Internal)
    }
}

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
