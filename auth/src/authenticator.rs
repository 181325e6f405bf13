//! The authenticator shared by SMTP submission and IMAP: which mechanisms to offer, and
//! the decision on each attempt, throttled and audited.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use mssd_core::MailboxKind;
use mssd_store::Store;
use serde_json::json;

use crate::audit::{AttemptRecord, record_attempt};
use crate::config::AuthConfig;
use crate::outcome::{AuthContext, AuthFailure, Authenticated, FailureReason};
use crate::password_verifier::{Argon2Verifier, PasswordVerifier};
use crate::refusal_audit::RefusalAudit;
use crate::sasl::{Credentials, Mechanism};
use crate::throttle::{Attempt, Throttle};
use crate::token::TokenValidator;

/// Decides authentication attempts. One per server, shared by every session.
pub struct Authenticator {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) password_kinds: Vec<MailboxKind>,
    pub(crate) tokens: Option<TokenValidator>,
    /// The citizens' issuer, its INS claim and the citizen domain.
    pub(crate) citizen_tokens: Option<(TokenValidator, String, String)>,
    bearer_scope: String,
    throttle: Mutex<Throttle>,
    pub(crate) verifier: Arc<dyn PasswordVerifier>,
    /// Password verifications running at once (argon2 takes 19 MiB and a core each): the
    /// others wait their turn, so a burst of guesses cannot exhaust memory.
    pub(crate) verifications: tokio::sync::Semaphore,
    /// Successful verifications remembered a short time (only with a verifier that checks
    /// the local hash: an external one, LDAP, is asked every time).
    pub(crate) password_cache: crate::password_cache::PasswordCache,
    /// Shared by every listener: audit lines of refusals before authentication.
    refusals: RefusalAudit,
}

impl Authenticator {
    /// Passwords are checked with argon2 ([`Argon2Verifier`]) unless
    /// [`Authenticator::with_password_verifier`] says otherwise.
    pub fn new(store: Arc<dyn Store>, config: AuthConfig) -> Authenticator {
        let validator = |issuer, audience, jwks, source: Option<crate::KeySource>| {
            let validator = TokenValidator::new(issuer, audience, jwks);
            match source {
                Some(source) => validator.with_key_source(source),
                None => validator,
            }
        };
        let (tokens, bearer_scope) = match config.oidc {
            Some(oidc) => (
                Some(validator(
                    oidc.issuer,
                    oidc.audience,
                    oidc.jwks,
                    oidc.key_source,
                )),
                oidc.scope,
            ),
            None => (None, crate::config::DEFAULT_BEARER_SCOPE.to_owned()),
        };
        let citizen_tokens = config.citizen_oidc.map(|c| {
            (
                validator(c.issuer, c.audience, c.jwks, c.key_source),
                c.ins_claim,
                c.domain,
            )
        });
        Authenticator {
            store,
            password_kinds: config.password_kinds,
            tokens,
            citizen_tokens,
            bearer_scope,
            throttle: Mutex::new(Throttle::new(config.throttle)),
            verifier: Arc::new(Argon2Verifier::new()),
            verifications: tokio::sync::Semaphore::new(concurrent_verifications()),
            password_cache: crate::password_cache::PasswordCache::new(
                crate::password_cache::PASSWORD_CACHE_TTL,
            ),
            refusals: RefusalAudit::default(),
        }
    }

    /// Replaces the password check (an LDAP bind, for example).
    pub fn with_password_verifier(mut self, verifier: Arc<dyn PasswordVerifier>) -> Self {
        self.verifier = verifier;
        self
    }

    /// The rate limit of audit lines for refusals before authentication, for the listeners'
    /// own refusals (SMTP commands, TLS handshakes, certificates).
    pub fn refusal_audit(&self) -> &RefusalAudit {
        &self.refusals
    }

    /// The token validator, so a JWKS reloader can call `replace_jwks` or `refresh_now`.
    pub fn token_validator(&self) -> Option<&TokenValidator> {
        self.tokens.as_ref()
    }

    /// The citizens' token validator, likewise.
    pub fn citizen_token_validator(&self) -> Option<&TokenValidator> {
        self.citizen_tokens
            .as_ref()
            .map(|(validator, ..)| validator)
    }

    /// The mechanisms to advertise: none without TLS; EXTERNAL only with a client
    /// certificate; XOAUTH2 and OAUTHBEARER only with an OIDC issuer; PLAIN and LOGIN
    /// unless passwords are disabled for every kind.
    pub fn mechanisms(&self, tls_active: bool, client_certificate: bool) -> Vec<Mechanism> {
        if !tls_active {
            return Vec::new();
        }
        let mut offered = Vec::new();
        if client_certificate {
            offered.push(Mechanism::External);
        }
        if self.tokens.is_some() || self.citizen_tokens.is_some() {
            offered.extend([Mechanism::Xoauth2, Mechanism::OauthBearer]);
        }
        if !self.password_kinds.is_empty() {
            offered.extend([Mechanism::Plain, Mechanism::Login]);
        }
        offered
    }

    /// Decides one attempt. Every attempt is throttled, written to the audit trail and
    /// logged (without password, token or INS).
    pub async fn authenticate(
        &self,
        credentials: Credentials,
        ctx: &AuthContext,
    ) -> Result<Authenticated, AuthFailure> {
        let mechanism = credentials.mechanism();
        let account = account_tried(&credentials);
        let outcome = self.throttled(credentials, ctx, account.as_deref()).await;
        let outcome = match outcome {
            Ok((authenticated, attempt)) => {
                self.throttle().finish(attempt, false, Instant::now());
                Ok(authenticated)
            }
            Err((failure, attempt)) => {
                if let Some(attempt) = attempt {
                    let failed = failure.reason.counts_as_failure();
                    self.throttle().finish(attempt, failed, Instant::now());
                }
                Err(failure)
            }
        };
        let record = AttemptRecord {
            mechanism,
            ctx,
            account: account.as_deref(),
        };
        let outcome = record_attempt(self.store.as_ref(), &self.refusals, &record, outcome).await;
        outcome.map_err(|mut failure| {
            if mechanism.is_bearer() {
                failure.bearer_challenge = Some(self.bearer_error_json());
            }
            failure
        })
    }

    /// `decide`, within an attempt reserved in the throttle before anything is verified.
    async fn throttled(
        &self,
        credentials: Credentials,
        ctx: &AuthContext,
        account: Option<&str>,
    ) -> Result<(Authenticated, Attempt), (AuthFailure, Option<Attempt>)> {
        if !ctx.tls {
            let failure = AuthFailure::new(
                FailureReason::TlsRequired,
                "authentication attempted without TLS",
            );
            return Err((failure, None));
        }
        let begun = self
            .throttle()
            .begin(ctx.peer.ip(), account, Instant::now());
        let attempt = match begun {
            Ok(attempt) => attempt,
            Err(retry_after) => {
                let failure = AuthFailure::new(
                    FailureReason::Throttled { retry_after },
                    format!(
                        "too many failures (or attempts under way) from this IP, or from it \
                         for this account; retry in {} s",
                        retry_after.as_secs().max(1)
                    ),
                );
                return Err((failure, None));
            }
        };
        match self.decide(credentials, ctx).await {
            Ok(authenticated) => Ok((authenticated, attempt)),
            Err(failure) => Err((failure, Some(attempt))),
        }
    }

    async fn decide(
        &self,
        credentials: Credentials,
        ctx: &AuthContext,
    ) -> Result<Authenticated, AuthFailure> {
        let mechanism = credentials.mechanism();
        if !self
            .mechanisms(ctx.tls, ctx.client_certificate.is_some())
            .contains(&mechanism)
        {
            return Err(AuthFailure::new(
                FailureReason::MechanismNotAllowed,
                format!("{mechanism} is not offered on this connection"),
            ));
        }
        match credentials {
            Credentials::Password {
                mechanism,
                authzid,
                username,
                password,
            } => {
                self.authenticate_password(mechanism, authzid.as_deref(), &username, &password)
                    .await
            }
            Credentials::External { authzid } => {
                self.authenticate_certificate(authzid.as_deref(), ctx).await
            }
            Credentials::Bearer {
                mechanism,
                authzid_or_user,
                token,
            } => {
                self.authenticate_token(mechanism, authzid_or_user.as_deref(), &token)
                    .await
            }
        }
    }

    /// RFC 7628 3.2.2 error result.
    fn bearer_error_json(&self) -> String {
        json!({"status": "invalid_token", "schemes": "bearer", "scope": self.bearer_scope})
            .to_string()
    }

    fn throttle(&self) -> MutexGuard<'_, Throttle> {
        // The throttle holds counters only; a panic elsewhere cannot leave it unusable.
        self.throttle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One verification per two cores, at least 1 and at most 4: each takes 19 MiB and a core for
/// tens of milliseconds, and the sessions need the other cores meanwhile. A login storm of
/// distinct accounts is then serialised on a small machine (its memory stays flat), while
/// identical logins share one verification and known ones hit the cache.
fn concurrent_verifications() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get() / 2)
        .clamp(1, 4)
}

/// The account an attempt names before anything is checked: the throttle key and the audit
/// subject. EXTERNAL without authzid and OAUTHBEARER without `a=` name none yet.
fn account_tried(credentials: &Credentials) -> Option<String> {
    match credentials {
        Credentials::Password { username, .. } => Some(username.clone()),
        Credentials::External { authzid } => authzid.clone(),
        Credentials::Bearer {
            authzid_or_user, ..
        } => authzid_or_user.clone(),
    }
}
