//! The national directory part of the storage contract; [`crate::Store`] includes it.

use async_trait::async_trait;
use mssd_core::Address;

use crate::directory_model::{
    DirectoryDiff, DirectoryGeneration, DirectoryMailbox, DirectoryProfessional, DirectoryRows,
    DirectorySet, DirectorySetStatus,
};
use crate::error::Result;

/// Replacing the national directory atomically: rows go into a new generation in as many
/// chunks as the importer likes (each its own commit, so memory stays bounded), readers keep
/// seeing the generation in force until [`DirectoryStore::directory_commit`] switches to the
/// new one in one transaction.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// Starts a new generation of `set`. Generations left half-built by an interrupted import
    /// are deleted first.
    async fn directory_begin(&self, set: DirectorySet) -> Result<DirectoryGeneration>;
    /// Adds rows to a generation being built. Rows whose key (address, or idNat_PS) is already
    /// in the generation are merged into it: empty fields are filled, activities appended.
    /// `Error::Invalid` when the rows are of another set or the generation is not being built.
    async fn directory_write(
        &self,
        generation: DirectoryGeneration,
        rows: DirectoryRows,
    ) -> Result<()>;
    /// Compares a generation being built with the one in force; keeps at most `sample` keys
    /// of each kind of change.
    async fn directory_diff(
        &self,
        generation: DirectoryGeneration,
        sample: usize,
    ) -> Result<DirectoryDiff>;
    /// Puts the generation in force in one transaction, then deletes the previous one.
    async fn directory_commit(&self, generation: DirectoryGeneration, source: &str) -> Result<()>;
    /// Deletes a generation being built; the one in force is untouched.
    async fn directory_discard(&self, generation: DirectoryGeneration) -> Result<()>;
    /// The generations in force, one per set that has been imported.
    async fn directory_status(&self) -> Result<Vec<DirectorySetStatus>>;
    /// The mailbox of the directory in force with this address (case-insensitive local part).
    async fn directory_mailbox(&self, address: &Address) -> Result<Option<DirectoryMailbox>>;
    /// Mailboxes in force in address order, starting after the canonical address `after`.
    async fn directory_mailboxes(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<DirectoryMailbox>>;
    /// The professional in force with this idNat_PS, with their activities.
    async fn directory_professional(
        &self,
        id_nat_ps: &str,
    ) -> Result<Option<DirectoryProfessional>>;
    /// Marks one of our mailboxes red-listed (listeRouge) or not.
    async fn set_red_listed(&self, address: &Address, red_listed: bool) -> Result<()>;
    /// Canonical addresses of our red-listed mailboxes, sorted.
    async fn red_listed(&self) -> Result<Vec<String>>;
}
