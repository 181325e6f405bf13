//! How the queue runner delivers: routes, retry schedule, expiry, TLS client, timeouts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::retry::RetrySchedule;

/// Client timeouts. Defaults are RFC 5321 §4.5.3.2's; the connect timeout is ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// Initial 220 greeting.
    pub greeting: Duration,
    /// EHLO, STARTTLS, MAIL, RCPT, RSET, QUIT and the TLS handshake.
    pub command: Duration,
    /// The 354 after DATA.
    pub data_start: Duration,
    /// Writing one block of content.
    pub data_block: Duration,
    /// The reply after the final dot (or the last BDAT chunk).
    pub data_end: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            greeting: Duration::from_secs(300),
            command: Duration::from_secs(300),
            data_start: Duration::from_secs(120),
            data_block: Duration::from_secs(180),
            data_end: Duration::from_secs(600),
        }
    }
}

/// 15 minutes: a real attempt (connect, TLS, a message of a few megabytes) takes seconds; the
/// RFC 5321 timeouts are for peers that stall, and one stalling at every step for its full
/// timeout is an attack or an outage, not a delivery.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15 * 60);

#[derive(Clone)]
pub struct OutboundConfig {
    /// `[relay] routes`: domain → `host:port`, used before MX records.
    pub routes: BTreeMap<String, String>,
    /// Delays between attempts; the last one repeats (empty: the default schedule).
    pub retry: Vec<Duration>,
    /// A message not delivered this long after it was queued is bounced.
    pub expiry: Duration,
    /// How often the queue is looked at when nothing wakes the runner.
    pub poll: Duration,
    /// How long a round holds the entries it claimed (`Store::claim_due`): no other runner —
    /// of this node or another sharing the database — takes them before, and the entries of a
    /// node that died are retried after. It must exceed the longest round: a lease ending
    /// while its entry is still being sent lets another node send it too. A round is bounded
    /// by the client timeouts of its slowest connection (connect, greeting, each command and
    /// the TLS handshake, DATA: see [`Timeouts`]) and by the next hops tried in turn.
    pub lease: Duration,
    /// Our TLS client: presents our certificate, validates the peer's chain against our
    /// anchors (`mssd_certs::client_config`).
    pub client: Arc<rustls::ClientConfig>,
    /// Hosts delivered to at the same time.
    pub concurrency: usize,
    /// Queue entries taken per round.
    pub batch: usize,
    pub timeouts: Timeouts,
    /// Use BDAT (RFC 3030) when the peer offers CHUNKING; else DATA with dot-stuffing.
    pub use_chunking: bool,
}

impl OutboundConfig {
    /// Defaults: retry 1 min, 5 min, 15 min, 30 min, 1 h, 2 h, then 4 h; expiry 5 days; poll
    /// 30 s; lease 15 min; 4 hosts at a time; 100 entries per round; RFC 5321 timeouts.
    pub fn new(client: Arc<rustls::ClientConfig>) -> OutboundConfig {
        OutboundConfig {
            routes: BTreeMap::new(),
            retry: RetrySchedule::default().delays().to_vec(),
            expiry: Duration::from_secs(5 * 86_400),
            poll: Duration::from_secs(30),
            lease: DEFAULT_LEASE,
            client,
            concurrency: 4,
            batch: 100,
            timeouts: Timeouts::default(),
            use_chunking: true,
        }
    }
}
