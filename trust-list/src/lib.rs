//! mssd-trust-list: the MSSanté liste blanche.
//!
//! [`parse`] reads the ANS XML into an immutable [`TrustList`] (domain → allowed operator
//! certificate DNs). [`TrustListHandle`] holds the list in force and swaps it atomically when
//! [`TrustListHandle::refresh`] accepts a new one; a download that fails, is truncated, does not
//! parse, fails its checksum, is empty, is older, or removes too many domains at once is refused
//! and the previous list stays in force. Accepted lists are saved in the store and restored at
//! start, so a restart without network enforces the last good list.

mod checksum;
mod diff;
mod error;
mod fast_hash;
mod fetch;
mod flat_dn;
mod handle;
mod location;
mod model;
mod parse;
mod parse_entry;
mod policy;
mod position;
mod refresh_loop;
mod source;
mod status;

pub use checksum::digest_from_checksum_text;
pub use diff::{DiffSummary, DnChange, TrustListDiff};
pub use error::{Error, Position, Result};
pub use fetch::{FetchOptions, Fetcher};
pub use flat_dn::{DnKey, OperatorDn};
pub use handle::{STATUS_DOCUMENT, STORE_DOCUMENT, TrustListHandle};
pub use model::{DomainEntry, OperatorEntry, ParseReport, SkippedEntry, TrustList};
pub use parse::parse;
pub use policy::{DEFAULT_MAX_REMOVAL_SHARE, RefreshPolicy};
pub use refresh_loop::{MIN_REFRESH_INTERVAL, spawn_refresh_loop};
pub use source::{Checksum, Location, TrustListSource};
pub use status::{RefreshOutcome, RefreshReport, RefreshStatus, RestoreOutcome};

/// XML namespace of the liste blanche.
pub const NAMESPACE: &str = "https://listeblanche.mssante.fr/schema";
