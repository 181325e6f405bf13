//! IMAP server pieces for mssd. For now only the sans-I/O MIME layer: ENVELOPE, BODY/BODYSTRUCTURE
//! and BODY[section] computed from a message exactly as stored.

pub mod mime;
