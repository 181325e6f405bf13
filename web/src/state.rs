//! What every request handler shares.

use std::sync::Arc;

use mssd_store::Store;

use crate::cache::{BearerCache, DocumentCache, PageCache, SummaryCache};
use crate::rate::RateLimiter;
use crate::sessions::Sessions;
use crate::sign_in::SignIn;

/// What the server tells the monitoring endpoints; implemented by the server, which owns
/// the counters of every protocol.
#[async_trait::async_trait]
pub trait Monitor: Send + Sync {
    /// `Err(why)` when the store cannot be reached (503 on `/healthz`).
    async fn healthy(&self) -> std::result::Result<(), String>;
    /// The Prometheus text exposition.
    async fn metrics(&self) -> String;
}

/// `[web]` settings, resolved.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Where citizens reach the web mailbox, e.g. `https://messagerie.example.fr`: the
    /// OpenID Connect redirect URI is built from it. `None`: from the request's Host.
    pub public_url: Option<String>,
    /// Largest request body (forms and JSON); a larger Content-Length is refused with 413
    /// before anything is read.
    pub max_body: usize,
    /// Sustained requests per second from one IP address, and the burst allowed above it.
    pub per_ip_rate: u32,
    pub per_ip_burst: u32,
    /// How long a web session lasts without a request, and at most, in seconds.
    pub session_idle_secs: u64,
    pub session_max_secs: u64,
    /// Bounds for reading the health documents of a message.
    pub cda_limits: mssd_cda::XdmLimits,
    /// What mail client autoconfiguration tells (None: those routes answer 404).
    pub client_setup: Option<crate::client_setup::ClientSetup>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            public_url: None,
            max_body: 1024 * 1024,
            per_ip_rate: 100,
            per_ip_burst: 400,
            session_idle_secs: 30 * 60,
            session_max_secs: 12 * 3600,
            cda_limits: mssd_cda::XdmLimits::default(),
            client_setup: None,
        }
    }
}

pub struct WebState {
    pub store: Arc<dyn Store>,
    /// Submission: replies written on the web go through the same SMTP session as a mail
    /// client's, so every rule applies (citizen rules, authorship, documents).
    pub smtp: Arc<mssd_smtp::SmtpContext>,
    pub monitor: Arc<dyn Monitor>,
    pub directory: mssd_annuaire::SharedDirectory,
    pub sign_in: Option<SignIn>,
    pub settings: WebSettings,
    pub(crate) sessions: Sessions,
    pub(crate) bearer: BearerCache,
    pub(crate) rate: RateLimiter,
    pub(crate) summaries: SummaryCache,
    pub(crate) documents: DocumentCache,
    pub(crate) pages: PageCache,
}

impl WebState {
    pub fn new(
        store: Arc<dyn Store>,
        smtp: Arc<mssd_smtp::SmtpContext>,
        monitor: Arc<dyn Monitor>,
        directory: mssd_annuaire::SharedDirectory,
        sign_in: Option<SignIn>,
        settings: WebSettings,
    ) -> WebState {
        WebState {
            sessions: Sessions::new(settings.session_idle_secs, settings.session_max_secs),
            rate: RateLimiter::new(settings.per_ip_rate, settings.per_ip_burst),
            bearer: BearerCache::default(),
            summaries: SummaryCache::default(),
            documents: DocumentCache::default(),
            pages: Default::default(),
            store,
            smtp,
            monitor,
            directory,
            sign_in,
            settings,
        }
    }

    pub fn authenticator(&self) -> &mssd_auth::Authenticator {
        &self.smtp.auth
    }
}
