//! The citizens' side of an MSSanté operator (the Mon espace santé role, ref §1), with no I/O:
//! citizen addresses keyed by the INS, the rules between professionals and citizens, and the
//! checks that put a document only in its patient's mailbox, with the ANS codes (902–906).
//! The SMTP and IMAP sessions apply these decisions; the store keeps the history they read.

mod address;
mod codes;
mod documents;
mod error;
mod policy;
pub mod rules;

pub use address::citizen_ins;
pub use codes::AnsCode;
pub use documents::{DocumentRefusal, check_for_citizen};
pub use error::CitizenError;
pub use policy::{CitizenPolicy, Provisioning};
