//! The TEST provider's state: sign-in form tokens, authorization codes bound to their PKCE
//! challenge and redirect URI, and the exchange of a code for a token the server's test
//! key signs. No HTTP here (the routes are in the parent module).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::oauth::challenge_of;

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
    pub(super) hint: Option<String>,
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

    pub(super) fn issue_form_token(&self) -> String {
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

    pub(super) fn take_form_token(&self, token: &str) -> bool {
        self.forms
            .lock()
            .ok()
            .and_then(|mut f| f.remove(token))
            .is_some_and(|at| at.elapsed() < CODE_LIFETIME * 5)
    }

    pub(super) fn issue_code(
        &self,
        ins: String,
        challenge: String,
        redirect_uri: String,
    ) -> Result<String> {
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
