//! mssd-http-client: the one client mssd uses for public HTTPS sources.
//!
//! MSSanté draws two trust lines. Peers (SMTP between operators, users' certificates) must
//! chain to IGC-Santé, checked by mssd-certs. Everything mssd *downloads* — the ANS liste
//! blanche and national directory extractions, Pro Santé Connect's keys, a citizens'
//! provider's token endpoint — is served with ordinary public-PKI certificates, so it is
//! checked against [`Anchors`] of its own: the system bundle, the Mozilla roots compiled in,
//! or PEM files the operator names. The two sets never mix: an IGC-Santé root does not make a
//! download trusted, and a public CA never admits a peer.
//!
//! [`PublicClient`] is https only (redirects included, at most a few), with connect and total
//! timeouts, and [`PublicClient::get_bounded`] refuses bodies over a limit before reading
//! them whole. Plain http is refused even on loopback: any local process may bind a loopback
//! port, so it authenticates nothing; a local mirror serves https with a CA listed in the
//! anchors instead.

mod anchors;
mod client;
mod error;

pub use anchors::{Anchors, SYSTEM_BUNDLE};
pub use client::{ClientOptions, PublicClient, parse_https_url};
pub use error::{Error, Result};
