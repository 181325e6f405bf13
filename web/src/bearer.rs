//! Bearer tokens on the API: the citizen's token (or a professional's Pro Santé Connect
//! token), checked by the same authenticator as SMTP and IMAP. A checked token is kept a
//! minute so that an app listing its mailbox does not cost a signature check and an audit
//! line per request; a suspended mailbox is refused within that minute.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mssd_auth::{AuthContext, Authenticated, Credentials, Mechanism};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::state::WebState;

const KEEP: Duration = Duration::from_secs(60);
/// Past this many cached tokens, expired ones are dropped, then all if still full.
const MAX_CACHED: usize = 50_000;

#[derive(Default)]
pub(crate) struct BearerCache {
    checked: Mutex<HashMap<[u8; 32], (Authenticated, Instant)>>,
}

impl BearerCache {
    fn get(&self, key: &[u8; 32]) -> Option<Authenticated> {
        let checked = self.checked.lock().ok()?;
        let (user, until) = checked.get(key)?;
        (Instant::now() < *until).then(|| user.clone())
    }

    fn put(&self, key: [u8; 32], user: Authenticated) {
        let Ok(mut checked) = self.checked.lock() else {
            return;
        };
        if checked.len() >= MAX_CACHED {
            let now = Instant::now();
            checked.retain(|_, (_, until)| *until > now);
            if checked.len() >= MAX_CACHED {
                checked.clear();
            }
        }
        checked.insert(key, (user, Instant::now() + KEEP));
    }
}

/// The user a bearer token names, or why not.
pub(crate) async fn authenticate(
    state: &WebState,
    token: &str,
    peer: SocketAddr,
) -> Result<Authenticated> {
    let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    if let Some(user) = state.bearer.get(&key) {
        return Ok(user);
    }
    let ctx = AuthContext {
        protocol: "https",
        peer,
        tls: true,
        client_certificate: None,
    };
    let credentials = Credentials::Bearer {
        mechanism: Mechanism::OauthBearer,
        authzid_or_user: None,
        token: token.to_string(),
    };
    match state.authenticator().authenticate(credentials, &ctx).await {
        Ok(user) => {
            state.bearer.put(key, user.clone());
            Ok(user)
        }
        Err(failure) => match failure.reason {
            mssd_auth::FailureReason::Throttled { .. } => Err(Error::TooMany),
            mssd_auth::FailureReason::TemporaryFailure => {
                Err(Error::Internal("authentication unavailable".into()))
            }
            _ => Err(Error::TokenRefused(failure.reason.as_str().into())),
        },
    }
}
