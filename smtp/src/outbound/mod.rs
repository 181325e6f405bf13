//! Outbound delivery to other MSSanté operators: a persistent queue (the store's), next hops
//! from `[relay] routes` then MX records, an SMTP client that REQUIRES STARTTLS, presents our
//! certificate and delivers only to a peer whose certificate DN the liste blanche lists for
//! the recipient's domain, retries on a schedule until expiry, and DSNs (RFC 3464) to the
//! sender on failure, on expiry, and on NOTIFY=SUCCESS.

pub(crate) mod bounce;
pub mod capabilities;
pub mod client;
pub mod config;
mod delivery;
pub mod envelope;
pub mod outcome;
pub mod retry;
pub mod route;
pub mod runner;
mod settle;
pub mod stats;
pub mod transaction;
mod wire;

pub use crate::error::{Error, Result};
pub use capabilities::Capabilities;
pub use client::{ClientSettings, PeerTls, SmtpClient};
pub use config::{DEFAULT_LEASE, OutboundConfig, Timeouts};
pub use envelope::QueuedEnvelope;
pub use outcome::{Failure, Handoff, Outcome, Status};
pub use retry::RetrySchedule;
pub use route::{NextHop, Router};
pub use runner::{QueueRunner, RunReport};
pub use stats::{OutboundStats, QueueStats};
pub use transaction::{OutboundMessage, SendResult};
