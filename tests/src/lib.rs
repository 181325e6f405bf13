//! Harness for mssd end-to-end tests: a running `mssd` process, the CLI, and small
//! protocol clients (line-based, TLS, HTTP) that speak to it over real sockets.
//! The tests themselves are in `e2e/`, declared as test targets of the `mssd` package so
//! that cargo builds the real binary first.

pub mod clients;
pub mod crash;
pub mod https;
pub mod imap_client;
pub mod nodes;
pub mod oidc_double;
pub mod peers;
pub mod process;
pub mod python;
pub mod store;
pub mod submission;
pub mod submission_load;
pub mod submission_world;
pub mod web_client;
pub mod web_world;

pub use clients::{LineClient, SmtpClient, connect, http_get, tls_client_config, tls_connect};
pub use imap_client::{ImapClient, Reply, Untagged};
pub use process::{CliOutput, DEFAULT_LISTENERS, Mssd, Operator, free_port, run_cli};
