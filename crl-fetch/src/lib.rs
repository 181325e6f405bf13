//! mssd-crl-fetch: keeps revocation fresh.
//!
//! Every `tls.crl_refresh`, each CRL source the chain validator knows (`tls.crl_urls`, the
//! distribution points of the anchors and of the chains it validated) is downloaded. A CRL
//! goes into force only when a CA we trust signed it and it is newer than the one in force
//! ([`mssd_certs::ChainValidator::offer_crl`]); a failed download keeps the last good CRL.
//! Installed CRLs are saved in the data dir so a restart while the CA's server is down
//! still has them.

mod cache;
mod client;
mod error;
mod fetcher;

pub use cache::CrlCache;
pub use client::crl_client;
pub use error::{Error, Result};
pub use fetcher::{CrlFetcher, SourceStatus};
