//! What every IMAP session shares: configuration, store, authenticator, TLS, caches, limits.

mod config;
mod user_limits;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mssd_auth::Authenticator;
use mssd_certs::ChainValidator;
use mssd_store::Store;
use tokio_rustls::TlsAcceptor;

pub use config::ImapConfig;
pub use user_limits::{UserConnections, UserSlot};

use crate::input_limits::LiteralBudget;
use crate::recent::RecentClaims;
use crate::summary::SummaryCache;
use crate::views::FolderViews;

/// One per server, shared by every IMAP connection.
pub struct ImapContext {
    pub config: ImapConfig,
    pub store: Arc<dyn Store>,
    pub auth: Arc<Authenticator>,
    /// Server TLS with deferred client-certificate validation: the session validates the
    /// chain itself (for EXTERNAL) so that a bad certificate is audited, not a dead socket.
    pub tls: TlsAcceptor,
    pub validator: Arc<ChainValidator>,
    /// ENVELOPE and BODYSTRUCTURE of messages already seen, keyed by content hash.
    pub summaries: SummaryCache,
    pub users: UserConnections,
    /// Message lists of selected folders, shared between sessions.
    pub views: FolderViews,
    pub counters: ImapCounters,
    /// Large literals being received by all sessions (`max_literals_in_flight`).
    pub literal_budget: Arc<LiteralBudget>,
    /// Which session gets `\Recent` for which messages.
    pub recent: RecentClaims,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct ImapCounters {
    pub sessions: AtomicU64,
    pub logins: AtomicU64,
    pub auth_failures: AtomicU64,
    pub commands: AtomicU64,
}

impl ImapCounters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl ImapContext {
    pub fn new(
        config: ImapConfig,
        store: Arc<dyn Store>,
        auth: Arc<Authenticator>,
        tls: TlsAcceptor,
        validator: Arc<ChainValidator>,
    ) -> ImapContext {
        ImapContext {
            summaries: SummaryCache::new(config.summary_cache_entries),
            users: UserConnections::new(config.max_connections_per_user),
            views: FolderViews::default(),
            literal_budget: Arc::new(LiteralBudget::new(config.max_literals_in_flight)),
            recent: RecentClaims::default(),
            config,
            store,
            auth,
            tls,
            validator,
            counters: ImapCounters::default(),
        }
    }
}
