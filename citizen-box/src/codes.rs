//! The ANS integration error codes a receiver returns about a document (applicationError
//! Condition, ref §5.1 and §7): the ones about the patient, which a citizen operator gives.

/// Why a document does not belong in a citizen's mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnsCode {
    /// 902: the patient identifier is unknown here.
    UnknownPatient,
    /// 903: the document carries no INS.
    InsAbsent,
    /// 904: the INS (or its traits) differs from the recipient's.
    InsMismatch,
    /// 905: the INS is incomplete (a trait is missing, or the OID is not accepted).
    InsIncomplete,
    /// 906: another problem (here: a document the patient may not see).
    Other,
}

impl AnsCode {
    pub fn code(self) -> u16 {
        match self {
            AnsCode::UnknownPatient => 902,
            AnsCode::InsAbsent => 903,
            AnsCode::InsMismatch => 904,
            AnsCode::InsIncomplete => 905,
            AnsCode::Other => 906,
        }
    }

    /// The label, as the reference states it (an MDN gives `<code>^<label>`).
    pub fn label(self) -> &'static str {
        match self {
            AnsCode::UnknownPatient => "unknown patient identifier",
            AnsCode::InsAbsent => "INS absent",
            AnsCode::InsMismatch => "INS or identity traits do not match",
            AnsCode::InsIncomplete => "INS incomplete",
            AnsCode::Other => "other error",
        }
    }
}
