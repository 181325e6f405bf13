//! Bearer tokens on the API: the citizen's token (or a professional's Pro Santé Connect
//! token), checked by the same authenticator as SMTP and IMAP. A checked token is kept a
//! minute so that an app listing its mailbox does not cost a signature check and an audit
//! line per request; a suspended mailbox is refused within that minute.

use std::net::SocketAddr;

use mssd_auth::{AuthContext, Authenticated, Credentials, Mechanism};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::state::WebState;

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
