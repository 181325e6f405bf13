//! What an operator decides about health documents (`[cda]`): which INS OIDs count as
//! qualified, what to do with wrong headers and malformed archives, and where to route.

use crate::limits::XdmLimits;
use crate::routing::Route;

/// The production INS OIDs: INS-NIR and INS-NIA.
pub const PRODUCTION_INS_OIDS: [&str; 2] = ["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9"];
/// The test and demonstration INS-NIR OIDs, accepted by the embedded default only.
pub const TEST_INS_OIDS: [&str; 2] = ["1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"];

/// What to do when a sender's `X-MSS-CODECDA` / `X-MSS-INS` disagree with the documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderMismatch {
    /// Accept, audit `cda.header_mismatch`, count.
    #[default]
    Warn,
    /// `554 5.6.0` naming the header.
    Refuse,
}

/// What to do with a message whose XDM archive cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Malformed {
    /// Accept as an ordinary message (no document indexed); audited `cda.malformed`.
    #[default]
    Accept,
    /// `554 5.6.0` naming the problem; audited `cda.malformed`.
    Refuse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdaPolicy {
    pub accepted_ins_oids: Vec<String>,
    pub header_mismatch: HeaderMismatch,
    pub malformed: Malformed,
    pub limits: XdmLimits,
    pub routes: Vec<Route>,
}

impl Default for CdaPolicy {
    fn default() -> Self {
        CdaPolicy {
            accepted_ins_oids: PRODUCTION_INS_OIDS.map(String::from).to_vec(),
            header_mismatch: HeaderMismatch::default(),
            malformed: Malformed::default(),
            limits: XdmLimits::default(),
            routes: Vec::new(),
        }
    }
}

/// Checks an OID's dotted form (`1.2.250…`): digits separated by single dots.
pub fn is_oid(text: &str) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()))
}
