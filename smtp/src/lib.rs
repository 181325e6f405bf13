//! mssd-smtp: SMTP for an MSSanté operator — the MTA listener for other operators (mutual
//! TLS, liste blanche), submission for professionals and applications, local delivery.

pub mod config;
pub mod context;
pub mod dsn;
pub mod message;
pub mod outbound;
pub mod replies;
pub mod reply;
pub mod session;

pub use config::SmtpConfig;
pub use context::{SmtpContext, SmtpCounters};
pub use session::conn::Conn;
pub use session::{Role, Session};
