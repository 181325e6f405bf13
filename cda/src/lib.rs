//! Health documents in MSSanté messages, with no I/O: from the bytes of a message to the
//! CDA R2 documents its `IHE_XDM.zip` carries, every step bounded.
//!
//! - [`attachment`] finds the archive in the message;
//! - [`archive`] reads the zip within [`XdmLimits`];
//! - [`metadata`] parses `IHE_XDM/SUBSETnn/METADATA.XML`;
//! - [`header`] parses each CDA header and summarises its body;
//! - [`package`] ties them together and checks sizes and SHA-1 digests;
//! - [`mss_headers`] computes `X-MSS-CODECDA` / `X-MSS-INS`.

pub mod archive;
pub mod attachment;
mod body_scan;
pub mod builder;
pub mod embedded;
mod entry_name;
mod error;
pub mod header;
mod limits;
pub mod metadata;
mod model;
pub mod mss_headers;
pub mod package;
mod policy;
mod restrictions;
pub mod routing;
pub mod samples;
mod xml;

pub use error::{CdaError, Result};
pub use limits::XdmLimits;
pub use model::{
    Action, Author, Body, CdaHeader, Code, DocumentEntry, InsTraits, InstanceId, PatientId,
    Section, SubmissionSet,
};
pub use mss_headers::MssHeaders;
pub use package::{Document, Package};
pub use policy::{
    CdaPolicy, HeaderMismatch, Malformed, PRODUCTION_INS_OIDS, TEST_INS_OIDS, is_oid,
};
pub use restrictions::{KNOWN_CODES, METADMP_MSS_SYSTEM, Restrictions};

/// The documents `message` carries: `Ok(None)` when it has no XDM archive.
pub fn read_message(message: &[u8], limits: &XdmLimits) -> Result<Option<Package>> {
    match attachment::find(message)? {
        None => Ok(None),
        Some(zip) => package::read(&zip, limits).map(Some),
    }
}
