//! Signing in on the web: OpenID Connect, authorization code with PKCE (RFC 7636, S256),
//! against `[citizen.oidc]`, or against the embedded TEST provider ([`crate::test_idp`]).
//! The token obtained is checked by the same authenticator as everywhere else; then a web
//! session starts. Nothing but opaque values (state, code) ever travels in a URL.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::oauth::{challenge_of, percent_encode};
use crate::test_idp::provider::{AUTHORIZE_PATH, CLIENT_ID, TestProvider};

/// A sign-in must come back from the provider within this.
const PENDING_FOR: Duration = Duration::from_secs(600);
const MAX_PENDING: usize = 50_000;
pub const PENDING_COOKIE: &str = "mssd_signin";
pub const CALLBACK_PATH: &str = "/connexion/retour";

/// A real OpenID Connect provider (the citizens' one).
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scope: String,
}

pub enum Provider {
    Oidc {
        settings: ProviderSettings,
        http: reqwest::Client,
    },
    /// The embedded TEST provider: never in production.
    Test(TestProvider),
}

pub struct SignIn {
    pub provider: Provider,
    /// state → PKCE verifier, until the provider sends the browser back.
    pending: Mutex<HashMap<String, (String, Instant)>>,
}

/// Where to send the browser, and the state to remember in a cookie.
pub struct Started {
    pub location: String,
    pub state: String,
}

impl SignIn {
    pub fn new(provider: Provider) -> SignIn {
        SignIn {
            provider,
            pending: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_test(&self) -> bool {
        matches!(self.provider, Provider::Test(_))
    }

    /// Begins a sign-in: a fresh state and PKCE verifier, and the provider's URL.
    pub fn start(&self, redirect_uri: &str) -> Result<Started> {
        let state = crate::sessions::random_token();
        let verifier = crate::sessions::random_token();
        let challenge = challenge_of(&verifier);
        {
            let mut pending = self
                .pending
                .lock()
                .map_err(|_| Error::Internal("sign-in table poisoned".into()))?;
            if pending.len() >= MAX_PENDING {
                let now = Instant::now();
                pending.retain(|_, (_, at)| now.duration_since(*at) < PENDING_FOR);
                if pending.len() >= MAX_PENDING {
                    return Err(Error::TooMany);
                }
            }
            pending.insert(state.clone(), (verifier, Instant::now()));
        }
        let (endpoint, client_id, scope) = match &self.provider {
            Provider::Oidc { settings, .. } => (
                settings.authorization_endpoint.as_str(),
                settings.client_id.as_str(),
                settings.scope.as_str(),
            ),
            Provider::Test(_) => (AUTHORIZE_PATH, CLIENT_ID, "openid"),
        };
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        let location = format!(
            "{endpoint}{separator}response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&code_challenge={}&code_challenge_method=S256",
            percent_encode(client_id),
            percent_encode(redirect_uri),
            percent_encode(scope),
            percent_encode(&state),
            percent_encode(&challenge),
        );
        Ok(Started { location, state })
    }

    /// The provider sent the browser back: the state must be one we issued (and the one in
    /// the browser's cookie, checked by the caller); the code is exchanged for tokens.
    /// Returns the tokens to try, access token first.
    pub async fn finish(&self, state: &str, code: &str, redirect_uri: &str) -> Result<Vec<String>> {
        let verifier = {
            let mut pending = self
                .pending
                .lock()
                .map_err(|_| Error::Internal("sign-in table poisoned".into()))?;
            match pending.remove(state) {
                Some((verifier, at)) if at.elapsed() < PENDING_FOR => verifier,
                _ => {
                    return Err(Error::BadRequest(
                        "Connexion expirée ou inconnue : recommencez.".into(),
                    ));
                }
            }
        };
        match &self.provider {
            Provider::Test(test) => Ok(vec![test.exchange(code, &verifier, redirect_uri)?]),
            Provider::Oidc { settings, http } => {
                exchange(http, settings, code, &verifier, redirect_uri).await
            }
        }
    }
}

/// RFC 6749 §4.1.3 with the PKCE verifier.
async fn exchange(
    http: &reqwest::Client,
    settings: &ProviderSettings,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> Result<Vec<String>> {
    let mut form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&client_id={}&code_verifier={}",
        percent_encode(code),
        percent_encode(redirect_uri),
        percent_encode(&settings.client_id),
        percent_encode(verifier),
    );
    if let Some(secret) = &settings.client_secret {
        form.push_str(&format!("&client_secret={}", percent_encode(secret)));
    }
    let response = http
        .post(&settings.token_endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(form)
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| Error::Internal(format!("token endpoint: {e}")))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| Error::Internal(format!("token endpoint: {e}")))?;
    if !status.is_success() {
        return Err(Error::TokenRefused(format!(
            "token endpoint answered {status}"
        )));
    }
    let json: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| Error::TokenRefused("token endpoint answer is not JSON".into()))?;
    let tokens: Vec<String> = ["access_token", "id_token"]
        .iter()
        .filter_map(|k| json[k].as_str().map(str::to_string))
        .collect();
    if tokens.is_empty() {
        return Err(Error::TokenRefused("no token in the answer".into()));
    }
    Ok(tokens)
}
