//! Builds what the SMTP listeners share from the configuration: the authenticator (built by
//! `auth_setup`), the liste blanche, and TLS with deferred client certificate validation.

use std::sync::Arc;

use mssd_auth::Authenticator;
use mssd_certs::ClientAuth;
use mssd_smtp::outbound::{OutboundConfig, QueueRunner};
use mssd_smtp::{SmtpConfig, SmtpContext, UnknownRecipientPolicy};
use mssd_store::Store;
use mssd_trust_list::TrustListHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, UnknownRecipient};
use crate::error::{Error, Result};
use crate::tls_setup::LoadedTls;

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
    let server_tls = mssd_certs::server_config_live(
        tls.identity.clone(),
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
    let client = mssd_certs::client_config_live(Some(tls.identity.clone()), tls.validator.clone())?;
    let mut outbound = OutboundConfig::new(client);
    outbound.routes = config.relay_routes.clone();
    outbound.retry = config.queue.retry.clone();
    outbound.expiry = config.queue.expiry;
    outbound.poll = config.queue.poll;
    outbound.lease = config.queue.lease;
    let runner = QueueRunner::new(smtp, outbound)
        .map_err(|e| Error::Usage(format!("outbound delivery: {e}")))?;
    Ok(Arc::new(runner))
}
