//! MIME views of a stored message for FETCH: ENVELOPE, BODY/BODYSTRUCTURE and BODY[section]<partial>.
//!
//! All functions are pure and work on the raw bytes as stored: sizes and slices are byte-exact.

mod address;
mod body_structure;
mod envelope;
mod header_block;
mod imap_string;
mod section;

pub use address::{AddressItem, MailboxAddress, parse_address_list};
pub use body_structure::body_structure;
pub use envelope::envelope;
pub use header_block::{HeaderField, header_fields, split_header_body};
pub use section::{Partial, section};

/// How many MIME levels (multiparts and encapsulated messages) a walker descends. Deeper parts
/// are opaque: BODYSTRUCTURE shows them as application/octet-stream and BODY[1.1.…] past it
/// finds nothing. Real mail nests a handful of levels; the cap keeps recursion (ours and
/// imap-codec's encoder) and re-parsing bounded whatever a sender writes.
pub const MAX_MIME_DEPTH: usize = 32;

/// How many parts one BODYSTRUCTURE describes at most. Encapsulated messages are parsed again
/// at each level, so a few hundred bytes reusing one boundary can fan out exponentially (the
/// fuzzer found 560 bytes taking over 1 GB); past this count, parts are opaque.
pub const MAX_MIME_PARTS: usize = 1000;
