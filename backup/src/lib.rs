//! Backups of an mssd store, taken while the server runs.
//!
//! - [`take`]: a consistent copy of the SQLite database (one read transaction, writers go on)
//!   and the blob files its rows name, hard-linked when the destination is on the same file
//!   system (they are never modified) and copied otherwise; then a manifest of every file's
//!   size and SHA-256.
//! - [`verify`]: every file against the manifest, the database's integrity, and every blob
//!   file the database names present.
//! - [`restore`]: a verified backup into a data directory that holds no store.
//!
//! PostgreSQL stores are backed up with the database's own tools (see the README).

mod error;
mod files;
mod manifest;
mod restore;
mod take;
mod verify;

pub use error::{Error, Result};
pub use manifest::{MANIFEST, Manifest, ManifestFile};
pub use restore::restore;
pub use take::take;
pub use verify::{Verified, verify};

/// The database file's name in a backup (and in a data directory).
pub const DATABASE: &str = "mssd.sqlite3";
/// The blob files' directory in a backup (and beside the database).
pub const BLOBS: &str = "blobs";
