//! SASL, sans-I/O: mechanism names, response parsers and the exchange state machine.
//!
//! Responses reach this module already base64-decoded; the protocol layer (SMTP `AUTH`,
//! IMAP `AUTHENTICATE`) encodes challenges, decodes responses and handles the `*`
//! cancellation itself.

mod bearer;
mod credentials;
mod exchange;
mod external;
mod mechanism;
mod password;
mod text;

pub use bearer::{parse_oauthbearer, parse_xoauth2};
pub use credentials::Credentials;
pub use exchange::{SaslExchange, Step};
pub use external::parse_external;
pub use mechanism::Mechanism;
pub use password::{parse_login_field, parse_plain};
