//! The authenticator shared by SMTP submission, IMAP and the web: passwords (argon2 or an
//! LDAP bind), certificates, and the tokens of Pro Santé Connect (`[auth.oidc]`) and of the
//! citizens' provider (`[citizen.oidc]`), whose keys come from a file or a URL (`jwks_setup`).

use std::sync::Arc;

use mssd_auth::{AuthConfig, Authenticator, CitizenOidcSettings, Jwks, OidcSettings};
use mssd_store::Store;

use crate::config::{CitizenOidcConfig, Config};
use crate::error::{Error, Result};
use crate::jwks_setup::{self, Refresh};
use crate::jwks_source::Issuer;

/// Builds the authenticator, fetching JWKS URLs (see `jwks_setup` for what happens when an
/// issuer cannot be reached), and starts their refresh loops.
pub async fn authenticator(config: &Config, store: Arc<dyn Store>) -> Result<Arc<Authenticator>> {
    let mut refreshes = Vec::new();
    let oidc = match &config.oidc {
        None => None,
        Some(oidc) => {
            let keys = jwks_setup::load(
                config,
                &store,
                Issuer::Professional,
                &oidc.jwks,
                oidc.jwks_refresh,
            )
            .await?;
            refreshes.extend(keys.refresh);
            let mut settings =
                OidcSettings::new(oidc.issuer.clone(), oidc.audience.clone(), keys.jwks);
            settings.key_source = keys.source;
            Some(settings)
        }
    };
    let citizen_oidc = citizen_oidc(config, &store, &mut refreshes).await?;
    let auth = AuthConfig {
        oidc,
        citizen_oidc,
        password_kinds: config.password_kinds.clone(),
        throttle: Default::default(),
    };
    let authenticator = Authenticator::new(store, auth);
    let authenticator = Arc::new(match crate::annuaire_setup::password_verifier(config)? {
        Some(ldap) => authenticator.with_password_verifier(ldap),
        None => authenticator,
    });
    jwks_setup::spawn_refreshes(&authenticator, refreshes);
    Ok(authenticator)
}

/// How citizens log in: a configured issuer, or the TEST provider of the data dir.
async fn citizen_oidc(
    config: &Config,
    store: &Arc<dyn Store>,
    refreshes: &mut Vec<Refresh>,
) -> Result<Option<CitizenOidcSettings>> {
    let (Some(oidc), Some(domain)) = (&config.citizen_oidc, &config.citizen_domain) else {
        return Ok(None);
    };
    let settings = match oidc {
        CitizenOidcConfig::TestProvider => {
            let key = crate::citizen_idp::key(&config.data_dir)?;
            let jwks = Jwks::from_json(crate::citizen_idp::jwks_json(&key).as_bytes())
                .map_err(|e| Error::Usage(format!("the test identity provider's JWKS: {e}")))?;
            CitizenOidcSettings {
                issuer: crate::citizen_idp::TEST_ISSUER.into(),
                audience: crate::citizen_idp::TEST_AUDIENCE.into(),
                jwks,
                ins_claim: crate::citizen_idp::TEST_INS_CLAIM.into(),
                domain: domain.clone(),
                key_source: None,
            }
        }
        CitizenOidcConfig::Issuer {
            issuer,
            jwks,
            jwks_refresh,
            audience,
            ins_claim,
        } => {
            let keys =
                jwks_setup::load(config, store, Issuer::Citizen, jwks, *jwks_refresh).await?;
            refreshes.extend(keys.refresh);
            CitizenOidcSettings {
                issuer: issuer.clone(),
                audience: audience.clone(),
                jwks: keys.jwks,
                ins_claim: ins_claim.clone(),
                domain: domain.clone(),
                key_source: keys.source,
            }
        }
    };
    Ok(Some(settings))
}
