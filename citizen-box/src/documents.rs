//! Documents go only to the right patient (ref §5.1): every CDA of a message to a citizen
//! must name the recipient's INS, under an accepted INS OID, with all six identity traits,
//! and must not be hidden from the patient (`INVISIBLE_PATIENT`). The message is never
//! altered to strip a document: one bad document refuses the message for that citizen.

use mssd_cda::Package;
use mssd_core::Ins;

use crate::codes::AnsCode;

/// Why a message's documents are refused for one citizen recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRefusal {
    pub code: AnsCode,
    /// The document at fault (`root^extension`): no patient data.
    pub document: String,
    /// What was wrong, without the INS.
    pub detail: &'static str,
}

/// Checks `package` for the citizen whose INS is `recipient`.
pub fn check_for_citizen(
    package: &Package,
    recipient: &Ins,
    accepted_oids: &[String],
) -> Result<(), DocumentRefusal> {
    for doc in &package.documents {
        let refuse = |code, detail| DocumentRefusal {
            code,
            document: doc.cda.id.to_string(),
            detail,
        };
        if doc.restrictions.invisible_to_patient() {
            return Err(refuse(
                AnsCode::Other,
                "the document is not to be shown to the patient (INVISIBLE_PATIENT)",
            ));
        }
        let mut ins = doc.cda.ins_ids().peekable();
        if ins.peek().is_none() {
            return Err(refuse(AnsCode::InsAbsent, "the document names no INS"));
        }
        let Some(matching) = ins.find(|p| p.extension.eq_ignore_ascii_case(recipient.as_str()))
        else {
            return Err(refuse(
                AnsCode::InsMismatch,
                "the document's INS is not the recipient's",
            ));
        };
        if !accepted_oids.contains(&matching.root) {
            return Err(refuse(
                AnsCode::Other,
                "the document's INS is under an INS OID this operator does not accept",
            ));
        }
        if !doc.cda.traits.complete() {
            return Err(refuse(
                AnsCode::InsIncomplete,
                "an identity trait is missing (the INS is incomplete)",
            ));
        }
    }
    Ok(())
}
