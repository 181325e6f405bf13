//! The HTTP side: the web crate's state and routers, the HTTPS acceptor (ALPN h2 and
//! http/1.1, the server certificate, no client certificate), and what `/healthz` and
//! `/metrics` read from the server.

use std::sync::{Arc, Weak};

use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use super::state::ServerState;
use crate::config::{CitizenOidcConfig, Config};
use crate::error::{Error, Result};
use crate::tls_setup::LoadedTls;

/// The acceptor of the HTTPS listener.
pub fn https_acceptor(tls: &LoadedTls) -> Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Usage(format!("https: TLS: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(tls.identity.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    mssd_certs::enable_resumption(&mut config)
        .map_err(|e| Error::Usage(format!("https: TLS session tickets: {e}")))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// `/healthz` and `/metrics` read the server through a weak reference: the server owns
/// the routers, the routers do not own the server.
struct ServerMonitor(Weak<ServerState>);

#[async_trait::async_trait]
impl mssd_web::Monitor for ServerMonitor {
    async fn healthy(&self) -> std::result::Result<(), String> {
        let state = self.0.upgrade().ok_or("shutting down")?;
        state.store.ping().await.map_err(|e| e.to_string())
    }

    async fn metrics(&self) -> String {
        match self.0.upgrade() {
            Some(state) => state.render_metrics().await,
            None => String::new(),
        }
    }
}

/// The routers; `bound` gives the addresses the listeners were bound to.
pub fn routers(
    state: &Arc<ServerState>,
    bound: &crate::config::Listeners,
) -> Result<mssd_web::Routers> {
    let config = &state.config;
    let w = &config.web;
    let settings = mssd_web::WebSettings {
        public_url: w.public_url.clone(),
        max_body: w.max_body,
        per_ip_rate: w.per_ip_rate,
        per_ip_burst: w.per_ip_burst,
        session_idle_secs: w.session_idle.as_secs(),
        session_max_secs: w.session_max.as_secs(),
        cda_limits: config.cda.limits,
        client_setup: Some(client_setup(config, bound)),
    };
    let web = mssd_web::WebState::new(
        state.store.clone(),
        state.smtp.clone(),
        Arc::new(ServerMonitor(Arc::downgrade(state))),
        state.directory.clone(),
        sign_in(config)?,
        settings,
    );
    Ok(mssd_web::routers(Arc::new(web)))
}

/// What mail client autoconfiguration tells: the server's name and the ports of `listeners`.
pub fn client_setup(
    config: &Config,
    listeners: &crate::config::Listeners,
) -> mssd_web::autoconfig::ClientSetup {
    let l = listeners;
    let port = |addr: Option<std::net::SocketAddr>| addr.map(|a| a.port());
    mssd_web::autoconfig::ClientSetup {
        hostname: config.hostname.clone(),
        domains: config.domains.clone(),
        citizen_domain: config.citizen_domain.clone(),
        display_name: format!(
            "MSSanté {}",
            config
                .domains
                .first()
                .map_or(config.hostname.as_str(), String::as_str)
        ),
        imaps: port(l.imaps),
        imap: port(l.imap),
        submission: port(l.submission),
        submissions: port(l.submissions),
    }
}

fn sign_in(config: &Config) -> Result<Option<mssd_web::sign_in::SignIn>> {
    use mssd_web::sign_in::{Provider, ProviderSettings, SignIn};
    if let Some(CitizenOidcConfig::TestProvider) = &config.citizen_oidc {
        let pair = Arc::new(crate::citizen_idp::key(&config.data_dir)?);
        let minter: mssd_web::test_idp::Minter = Arc::new(move |ins: &str| {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            crate::citizen_idp::token(&pair, ins, now).map_err(|e| e.to_string())
        });
        let hint = config
            .embedded
            .then(|| crate::bootstrap::TEST_CITIZEN_INS.to_string());
        let test = mssd_web::test_idp::TestProvider::new(minter, hint);
        return Ok(Some(SignIn::new(Provider::Test(test))));
    }
    let Some(endpoints) = &config.web.sign_in else {
        return Ok(None);
    };
    let settings = ProviderSettings {
        authorization_endpoint: endpoints.authorization_endpoint.clone(),
        token_endpoint: endpoints.token_endpoint.clone(),
        client_id: endpoints.client_id.clone(),
        client_secret: endpoints.client_secret.clone(),
        scope: endpoints.scope.clone(),
    };
    Ok(Some(SignIn::new(Provider::Oidc {
        settings,
        http: crate::http_setup::provider_client(config)?,
    })))
}
