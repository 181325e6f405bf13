//! mssd-core: the domain types of mssd, with no I/O.
//!
//! Addresses, mailbox kinds, national identifiers (RPPS, ADELI, FINESS, SIREN, SIRET,
//! idNat_PS, idNat_Struct), the matricule INS, password hashing and the identity of
//! whoever is talking to the server.

mod address;
mod client_source;
mod domain;
mod error;
mod id_nat;
mod identifier_text;
mod identifiers;
mod identity;
mod ins;
mod luhn;
mod mailbox_kind;
mod password;
mod password_memory;
pub mod redact;
mod serde_string;

pub use address::Address;
pub use client_source::client_source;
pub use domain::normalize_domain;
pub use error::{Error, Result};
pub use id_nat::{IdNatPs, IdNatStruct, RppsRang};
pub use identifiers::{Adeli, Finess, Rpps, Siren, Siret};
pub use identity::Identity;
pub use ins::{Ins, InsOid};
pub use luhn::luhn_valid;
pub use mailbox_kind::MailboxKind;
pub use password::{hash_password, verify_password};
