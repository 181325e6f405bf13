//! Benchmarks of a running `mssd`: an SMTP load generator speaking STARTTLS with a client
//! certificate (`smtp-load`), and a driver that builds a throw-away operator, a peer PKI and a
//! liste blanche, runs the load against `mssd serve` and checks the mailbox (`smtp-bench`);
//! IMAP, web API and XDM benchmarks, and the issue #14 figures in one run (`perf-bench`).

pub mod backend;
pub mod backend_citizens;
pub mod backend_report;
pub mod backend_server;
pub mod backend_writes;
pub mod connection;
pub mod error;
pub mod imap_fill;
pub mod imap_idle;
pub mod imap_messages;
pub mod imap_mix;
pub mod imap_proc;
pub mod imap_report;
pub mod imap_setup;
pub mod load;
pub mod mailbox;
pub mod message;
pub mod metrics;
pub mod operator;
pub mod peer;
pub mod perf_imap;
pub mod perf_proc;
pub mod perf_setup;
pub mod perf_smtp;
pub mod reply;
pub mod stats;

pub use error::{Error, Result};
pub use load::{LoadConfig, LoadReport, run_load};
