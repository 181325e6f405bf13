//! mssd-smtp: SMTP for an MSSanté operator — the MTA listener for other operators (mutual
//! TLS, liste blanche), submission for professionals and applications, local delivery.

pub mod cda_counters;
pub mod config;
pub mod context;
pub mod dsn;
pub mod error;
pub mod mdn;
pub mod message;
pub mod outbound;
pub mod replies;
pub mod reply;
pub mod session;

pub use config::{KnownRecipients, SmtpConfig, UnknownRecipientPolicy};
pub use context::{SmtpContext, SmtpCounters};
pub use error::{Error, Result};
pub use mssd_certs::Conn;
pub use session::{Role, Session};
