//! `DirectoryStore` for `PostgresStore`: the national directory's generations, each step its
//! own transaction (see `directory`).

use async_trait::async_trait;

use mssd_core::Address;

use super::{PgResult, PostgresStore, directory, now_unix};
use crate::directory_model::{
    DirectoryDiff, DirectoryGeneration, DirectoryMailbox, DirectoryProfessional, DirectoryRows,
    DirectorySet, DirectorySetStatus,
};
use crate::directory_store::DirectoryStore;
use crate::error::Result;

impl PostgresStore {
    /// Deletes a generation not in force, one bounded transaction at a time.
    async fn purge_generation(&self, generation: DirectoryGeneration) -> Result<()> {
        loop {
            let done = write!(self, |tx| directory::purge_chunk(&tx, generation).await?)?;
            if done {
                return Ok(());
            }
        }
    }
}

#[async_trait]
impl DirectoryStore for PostgresStore {
    async fn directory_begin(&self, set: DirectorySet) -> Result<DirectoryGeneration> {
        let stale = read!(self, |tx| directory::stale(&tx, set).await?)?;
        for generation in stale {
            write!(self, |tx| directory::retire(&tx, generation).await?)?;
            self.purge_generation(generation).await?;
        }
        write!(self, |tx| directory::begin(&tx, set, now_unix()).await?)
    }

    async fn directory_write(
        &self,
        generation: DirectoryGeneration,
        rows: DirectoryRows,
    ) -> Result<()> {
        write!(self, |tx| directory::write(&tx, generation, &rows).await?)
    }

    async fn directory_diff(
        &self,
        generation: DirectoryGeneration,
        sample: usize,
    ) -> Result<DirectoryDiff> {
        read!(self, |tx| directory::diff(&tx, generation, sample).await?)
    }

    async fn directory_commit(&self, generation: DirectoryGeneration, source: &str) -> Result<()> {
        let previous = write!(self, |tx| directory::commit(
            &tx,
            generation,
            source,
            now_unix()
        )
        .await?)?;
        // The switch is durable; removing the old rows is housekeeping that a later import
        // finishes if this one is interrupted.
        if let Some(previous) = previous {
            self.purge_generation(previous).await?;
        }
        Ok(())
    }

    async fn directory_discard(&self, generation: DirectoryGeneration) -> Result<()> {
        write!(self, |tx| directory::retire(&tx, generation).await?)?;
        self.purge_generation(generation).await
    }

    async fn directory_status(&self) -> Result<Vec<DirectorySetStatus>> {
        read!(self, |tx| directory::status(&tx).await?)
    }

    async fn directory_mailbox(&self, address: &Address) -> Result<Option<DirectoryMailbox>> {
        read!(self, |tx| directory::mailbox(&tx, address).await?)
    }

    async fn directory_mailboxes(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<DirectoryMailbox>> {
        read!(self, |tx| directory::mailboxes(
            &tx,
            after.as_deref(),
            limit
        )
        .await?)
    }

    async fn directory_professional(
        &self,
        id_nat_ps: &str,
    ) -> Result<Option<DirectoryProfessional>> {
        read!(self, |tx| directory::professional(&tx, id_nat_ps).await?)
    }

    async fn set_red_listed(&self, address: &Address, red_listed: bool) -> Result<()> {
        let key = address.canonical();
        write!(self, |tx| directory::set_red_listed(
            &tx,
            &key,
            red_listed,
            now_unix()
        )
        .await?)
    }

    async fn red_listed(&self) -> Result<Vec<String>> {
        read!(self, |tx| directory::red_listed(&tx).await?)
    }
}
