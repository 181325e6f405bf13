//! Builds what the SMTP listeners share from the configuration: authentication (passwords,
//! certificates, Pro Santé Connect tokens), the liste blanche, and TLS with deferred client
//! certificate validation.

use std::sync::Arc;

use mssd_auth::{AuthConfig, Authenticator, Jwks, OidcSettings};
use mssd_certs::ClientAuth;
use mssd_smtp::outbound::{OutboundConfig, QueueRunner};
use mssd_smtp::{SmtpConfig, SmtpContext, UnknownRecipientPolicy};
use mssd_store::Store;
use mssd_trust_list::TrustListHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, UnknownRecipient};
use crate::error::{Error, Result};
use crate::tls_setup::LoadedTls;

pub fn authenticator(config: &Config, store: Arc<dyn Store>) -> Result<Arc<Authenticator>> {
    let oidc = match &config.oidc {
        None => None,
        Some(oidc) if oidc.jwks.contains("://") => {
            return Err(Error::Usage(format!(
                "auth.oidc.jwks: fetching a JWKS from a URL ({}) is not supported yet; download it and give the file",
                oidc.jwks
            )));
        }
        Some(oidc) => {
            let jwks = Jwks::load(std::path::Path::new(&oidc.jwks))
                .map_err(|e| Error::Usage(format!("auth.oidc.jwks: {e}")))?;
            Some(OidcSettings::new(
                oidc.issuer.clone(),
                oidc.audience.clone(),
                jwks,
            ))
        }
    };
    let citizen_oidc = citizen_oidc(config)?;
    let auth = AuthConfig {
        oidc,
        citizen_oidc,
        password_kinds: config.password_kinds.clone(),
        throttle: Default::default(),
    };
    let authenticator = Authenticator::new(store, auth);
    Ok(Arc::new(
        match crate::annuaire_setup::password_verifier(config)? {
            Some(ldap) => authenticator.with_password_verifier(ldap),
            None => authenticator,
        },
    ))
}

/// How citizens log in: a configured issuer, or the TEST provider of the data dir.
fn citizen_oidc(config: &Config) -> Result<Option<mssd_auth::CitizenOidcSettings>> {
    let (Some(oidc), Some(domain)) = (&config.citizen_oidc, &config.citizen_domain) else {
        return Ok(None);
    };
    let settings = match oidc {
        crate::config::CitizenOidcConfig::TestProvider => {
            let key = crate::citizen_idp::key(&config.data_dir)?;
            let jwks = Jwks::from_json(crate::citizen_idp::jwks_json(&key).as_bytes())
                .map_err(|e| Error::Usage(format!("the test identity provider's JWKS: {e}")))?;
            mssd_auth::CitizenOidcSettings {
                issuer: crate::citizen_idp::TEST_ISSUER.into(),
                audience: crate::citizen_idp::TEST_AUDIENCE.into(),
                jwks,
                ins_claim: crate::citizen_idp::TEST_INS_CLAIM.into(),
                domain: domain.clone(),
            }
        }
        crate::config::CitizenOidcConfig::Issuer {
            issuer,
            jwks,
            audience,
            ins_claim,
        } => mssd_auth::CitizenOidcSettings {
            issuer: issuer.clone(),
            audience: audience.clone(),
            jwks: Jwks::load(jwks).map_err(|e| Error::Usage(format!("citizen.oidc.jwks: {e}")))?,
            ins_claim: ins_claim.clone(),
            domain: domain.clone(),
        },
    };
    Ok(Some(settings))
}

pub fn context(
    config: &Config,
    store: Arc<dyn Store>,
    trust: TrustListHandle,
    auth: Arc<Authenticator>,
    tls: &LoadedTls,
    directory: mssd_annuaire::SharedDirectory,
) -> Result<Arc<SmtpContext>> {
    let mut smtp = SmtpConfig::new(
        config.hostname.clone(),
        config.domains.clone(),
        config.citizen_domain.clone(),
    );
    smtp.max_message_size = config.smtp.max_message_size;
    smtp.max_recipients = config.smtp.max_recipients;
    smtp.command_timeout = config.smtp.command_timeout;
    smtp.data_timeout = config.smtp.data_timeout;
    smtp.login_timeout = config.smtp.login_timeout;
    smtp.cda = Arc::new(config.cda.clone());
    smtp.citizen = Arc::new(config.citizen.clone());
    smtp.directory = Some(Arc::new(crate::annuaire_setup::DirectoryLookup(directory)));
    smtp.unknown_recipient = match config.annuaire.unknown_recipient {
        UnknownRecipient::Off => UnknownRecipientPolicy::Off,
        UnknownRecipient::Warn => UnknownRecipientPolicy::Warn,
        UnknownRecipient::Refuse => UnknownRecipientPolicy::Refuse,
    };
    let server_tls = mssd_certs::server_config(
        tls.chain.clone(),
        tls.key.clone_key(),
        tls.validator.clone(),
        ClientAuth::Deferred,
    )?;
    Ok(Arc::new(SmtpContext {
        config: smtp,
        store,
        trust,
        auth,
        tls: TlsAcceptor::from(server_tls),
        validator: tls.validator.clone(),
        counters: Default::default(),
        queue_notify: Default::default(),
    }))
}

/// The outbound queue runner: our certificate presented, peers validated with our anchors,
/// `[relay] routes` and the `[queue]` schedule.
pub fn queue_runner(
    config: &Config,
    smtp: Arc<SmtpContext>,
    tls: &LoadedTls,
) -> Result<Arc<QueueRunner>> {
    let client = mssd_certs::client_config(
        Some((tls.chain.clone(), tls.key.clone_key())),
        tls.validator.clone(),
    )?;
    let mut outbound = OutboundConfig::new(client);
    outbound.routes = config.relay_routes.clone();
    outbound.retry = config.queue.retry.clone();
    outbound.expiry = config.queue.expiry;
    outbound.poll = config.queue.poll;
    let runner = QueueRunner::new(smtp, outbound)
        .map_err(|e| Error::Usage(format!("outbound delivery: {e}")))?;
    Ok(Arc::new(runner))
}
