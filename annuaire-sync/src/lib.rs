//! mssd-annuaire: the Annuaire Santé for mssd.
//!
//! - [`extraction`]: streaming import of the national extraction files into the store, with
//!   an atomic switch, a kept diff and safety rules ([`import_file`]).
//! - [`directory`]: the in-memory lookup index built from the store ([`Directory`]).
//! - [`export`]: our mailboxes as FHIR Patch `Parameters` for publication ([`export()`]).
//! - [`ldap`]: LDAP sync, provisioning and bind authentication.

pub mod directory;
mod error;
pub mod export;
pub mod extraction;
pub mod ldap;

pub use directory::{Directory, DirectoryEntry, SharedDirectory};
pub use error::{Error, Result};
pub use export::{ExportOptions, export};
pub use extraction::{ImportOptions, ImportReport, import_file};
