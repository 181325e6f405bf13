//! Citizen addresses: `<matricule INS>@<citizen domain>` (ref §4).

use mssd_core::{Address, Ins};

use crate::error::CitizenError;

/// The INS a citizen address names, checked (15 characters, key, Corsica), when `address`
/// is at `domain`.
pub fn citizen_ins(address: &Address, domain: &str) -> Result<Ins, CitizenError> {
    if address.domain() != domain {
        return Err(CitizenError::OtherDomain {
            address: address.redacted(),
            domain: domain.to_string(),
        });
    }
    Ins::parse(address.local_part()).map_err(|e| CitizenError::NotAnIns {
        address: address.redacted(),
        check: check_of(&e),
    })
}

/// The failed check of an INS error, without the value (the core error quotes a redacted
/// input; only the reason is kept).
fn check_of(e: &mssd_core::Error) -> String {
    match e {
        mssd_core::Error::InvalidIns { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}
