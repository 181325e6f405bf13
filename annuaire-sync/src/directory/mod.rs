//! Lookups in the national directory of mailboxes.

mod entry;
mod fold;
mod index;
#[cfg(test)]
mod index_tests;
mod shared;

pub use entry::DirectoryEntry;
pub use fold::fold;
pub use index::Directory;
pub use shared::SharedDirectory;
