//! The ANS MetaDMP/MSS codes a sender puts among a document entry's confidentiality codes
//! (code system 1.2.250.1.213.1.1.4.13) to say who may see a document.

use crate::model::DocumentEntry;

/// Code system of the MetaDMP/MSS table.
pub const METADMP_MSS_SYSTEM: &str = "1.2.250.1.213.1.1.4.13";

/// Every code of the ANS MetaDMP/MSS table.
pub const KNOWN_CODES: [&str; 12] = [
    "MASQUE_PS",
    "INVISIBLE_PATIENT",
    "INVISIBLE_REP_LEGAUX",
    "CONNEXION_SECRETE",
    "MODIF_CONF_CODE",
    "DESTDMP",
    "DESTMSSANTEPS",
    "DESTMSSANTEPAT",
    "ACK_RECEPTION",
    "ACK_LECTURE_MSS",
    "CORPSMAIL_PS",
    "CORPSMAIL_PATIENT",
];

/// The MetaDMP/MSS codes of one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restrictions {
    /// Codes of the table present on the entry, in table order, each once.
    pub codes: Vec<&'static str>,
}

impl Restrictions {
    /// The table codes among `entry`'s confidentiality codes. A code is recognised by its
    /// value alone: senders are not consistent about the code system they name.
    pub fn of(entry: &DocumentEntry) -> Self {
        let codes = KNOWN_CODES
            .into_iter()
            .filter(|known| {
                entry
                    .confidentiality_codes
                    .iter()
                    .any(|c| c.code.eq_ignore_ascii_case(known))
            })
            .collect();
        Restrictions { codes }
    }

    /// Never shown to, routed to or delivered to a professional.
    pub fn masked_from_professionals(&self) -> bool {
        self.codes.contains(&"MASQUE_PS")
    }

    /// Never delivered to the patient.
    pub fn invisible_to_patient(&self) -> bool {
        self.codes.contains(&"INVISIBLE_PATIENT")
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}
