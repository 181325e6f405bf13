//! `X-MSS-CODECDA` and `X-MSS-INS` (Référentiel #2 §6) computed from the documents, and
//! compared with what a sender claimed.

use crate::package::Package;

pub const CODECDA: &str = "X-MSS-CODECDA";
pub const INS: &str = "X-MSS-INS";

/// The two header values the documents call for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MssHeaders {
    /// Comma-separated CDA codes, in document order.
    pub code_cda: String,
    /// `O` when every document has a complete INS under an accepted OID, `N` otherwise.
    pub ins: &'static str,
}

impl MssHeaders {
    /// `None` when the package has no CDA document (the headers are then absent).
    pub fn of(package: &Package, accepted_ins_oids: &[String]) -> Option<Self> {
        if package.documents.is_empty() {
            return None;
        }
        let qualified = package
            .documents
            .iter()
            .all(|d| d.cda.has_qualified_ins(accepted_ins_oids));
        Some(MssHeaders {
            code_cda: package.codes().join(","),
            ins: if qualified { "O" } else { "N" },
        })
    }

    /// Which of the claimed values disagree with ours: header names, in order.
    pub fn disagreements(
        &self,
        claimed_codes: Option<&str>,
        claimed_ins: Option<&str>,
    ) -> Vec<&'static str> {
        let mut out = Vec::new();
        if let Some(claimed) = claimed_codes
            && !same_codes(claimed, &self.code_cda)
        {
            out.push(CODECDA);
        }
        if let Some(claimed) = claimed_ins
            && !claimed.trim().eq_ignore_ascii_case(self.ins)
        {
            out.push(INS);
        }
        out
    }
}

/// Codes compared as lists, ignoring white space around the commas.
fn same_codes(a: &str, b: &str) -> bool {
    let split = |s: &str| {
        s.split(',')
            .map(|c| c.trim().to_string())
            .collect::<Vec<_>>()
    };
    split(a) == split(b)
}
