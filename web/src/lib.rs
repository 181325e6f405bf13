//! mssd-web: mssd's HTTP side on axum (hyper, tower).
//!
//! - [`ops`]: `/healthz`, `/metrics`, `/annuaire/search` for operators' monitoring and
//!   clients' directory lookups (the plain loopback listener serves only these);
//! - [`api`]: the mailbox JSON API under `/api/v1`, bearer tokens, its OpenAPI document;
//! - [`pages`]: the citizens' web mailbox (server-rendered HTML, OpenID Connect sign-in);
//! - [`mailbox`]: what both read and do in a mailbox, with no HTTP in it;
//! - [`serve`]: one connection, HTTP/1.1 or HTTP/2, with the security headers and limits.

pub mod api;
pub mod autoconfig;
mod bearer;
mod cache;
mod client_setup;
mod error;
pub mod mailbox;
mod oauth;
pub mod ops;
pub mod pages;
mod rate;
mod security;
pub mod serve;
mod sessions;
pub mod sign_in;
mod state;
pub mod test_idp;

pub use error::{Error, Result};
pub use serve::{Routers, routers, serve_connection};
pub use state::{Monitor, WebSettings, WebState};
