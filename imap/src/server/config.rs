//! IMAP settings, resolved by the server from its configuration file.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ImapConfig {
    /// Our host name, in the greeting.
    pub hostname: String,
    /// Largest literal accepted (APPEND message size included); larger ones get a tagged BAD.
    pub max_literal_size: u32,
    /// Largest command line (without literals).
    pub max_line_length: u32,
    /// Inactivity after which an authenticated session is logged out (RFC 9051 5.4: at least 30 min).
    pub idle_timeout: Duration,
    /// Time allowed from connection to authentication, whatever the client sends meanwhile.
    pub login_timeout: Duration,
    /// Concurrent authenticated sessions per mailbox.
    pub max_connections_per_user: usize,
    /// Messages whose ENVELOPE/BODYSTRUCTURE are kept in memory.
    pub summary_cache_entries: usize,
    /// Bytes of large (APPEND) literals all sessions together may be receiving at once.
    pub max_literals_in_flight: u64,
    /// How long one piece (64 KiB) of output may take to be written once logged in.
    pub write_timeout: Duration,
}

impl ImapConfig {
    pub fn new(hostname: String) -> ImapConfig {
        ImapConfig {
            hostname,
            max_literal_size: 50 * 1024 * 1024,
            max_line_length: 64 * 1024,
            idle_timeout: Duration::from_secs(30 * 60),
            login_timeout: Duration::from_secs(60),
            max_connections_per_user: 50,
            summary_cache_entries: 200_000,
            max_literals_in_flight: 512 * 1024 * 1024,
            write_timeout: Duration::from_secs(5 * 60),
        }
    }
}
