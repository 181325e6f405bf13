//! Settings of the authenticator (`[auth]`, `[auth.oidc]`, `[auth.throttle]`).

use mssd_core::MailboxKind;

use crate::throttle::ThrottleConfig;
use crate::token::{Jwks, KeySource};

/// The `scope` reported in the bearer error JSON when none is configured.
pub const DEFAULT_BEARER_SCOPE: &str = "openid";

/// Pro Santé Connect (or any OpenID Connect issuer) for XOAUTH2 / OAUTHBEARER.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// The exact `iss` of accepted tokens.
    pub issuer: String,
    /// Tokens must name it in `aud` (and in `azp` when they have one): mssd's client id at
    /// the issuer.
    pub audience: String,
    /// The issuer's signing keys at start (from the `jwks` file, or fetched).
    pub jwks: Jwks,
    /// The scope a client should request, sent back in the bearer error JSON.
    pub scope: String,
    /// Where fresh keys come from when the JWKS is a URL: a token naming an unknown key
    /// makes the validator fetch them (rate-limited).
    pub key_source: Option<KeySource>,
}

impl OidcSettings {
    pub fn new(issuer: String, audience: String, jwks: Jwks) -> OidcSettings {
        OidcSettings {
            issuer,
            audience,
            jwks,
            scope: DEFAULT_BEARER_SCOPE.to_owned(),
            key_source: None,
        }
    }
}

/// The citizens' identity provider (`[citizen.oidc]`): its tokens name a citizen by INS.
#[derive(Clone, Debug)]
pub struct CitizenOidcSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks: Jwks,
    /// The claim holding the matricule INS.
    pub ins_claim: String,
    /// Citizen mailboxes are `<INS>@<domain>`.
    pub domain: String,
    /// As [`OidcSettings::key_source`].
    pub key_source: Option<KeySource>,
}

/// Everything the authenticator is configured with.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// `None`: XOAUTH2 and OAUTHBEARER are not offered.
    pub oidc: Option<OidcSettings>,
    /// `None`: citizens cannot log in here.
    pub citizen_oidc: Option<CitizenOidcSettings>,
    /// Mailbox kinds that may log in with a password (PLAIN, LOGIN). Empty: PLAIN and
    /// LOGIN are not offered at all.
    pub password_kinds: Vec<MailboxKind>,
    pub throttle: ThrottleConfig,
}

impl Default for AuthConfig {
    /// Passwords for PER, ORG, APP and CAB mailboxes; not for CITIZEN mailboxes, whose
    /// owners authenticate with their own operator (Mon espace santé), never with a
    /// password kept here. No OIDC issuer.
    fn default() -> Self {
        AuthConfig {
            oidc: None,
            citizen_oidc: None,
            password_kinds: vec![
                MailboxKind::Per,
                MailboxKind::Org,
                MailboxKind::App,
                MailboxKind::Cab,
            ],
            throttle: ThrottleConfig::default(),
        }
    }
}
