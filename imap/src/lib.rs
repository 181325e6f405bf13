//! mssd's IMAP server.
//!
//! - [`mime`]: ENVELOPE, BODY/BODYSTRUCTURE and BODY[section] computed from a message exactly as stored.
//! - [`sequence`], [`search`], [`sort`], [`fetch`], [`summary`], [`list_extended`],
//!   [`search_return`]: sans-I/O pieces of the commands.
//! - [`session`]: one connection's state machine over `imap-next`, against the store.
//! - [`server`]: what the binary starts: shared state (store, authenticator, caches, limits);
//!   [`serve`] runs one connection.
//! - [`views`]: message lists of selected folders shared between sessions.

mod error;
pub mod fetch;
pub mod input_limits;
pub mod list_extended;
pub mod mime;
pub mod mutf7;
pub mod recent;
pub mod search;
pub mod search_return;
pub mod sequence;
pub mod server;
mod session;
pub mod sort;
pub mod summary;
pub mod views;

pub use error::{Error, Result};
pub use server::{ImapConfig, ImapContext};
pub use session::serve;
