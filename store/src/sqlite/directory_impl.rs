//! `DirectoryStore` for `SqliteStore`: chunks and switches go through the group-commit writer,
//! reads through the read pool.

use async_trait::async_trait;
use mssd_core::Address;
use tracing::debug;

use super::{SMALL_JOB, SqliteStore, directory_read, directory_write, now_unix};
use crate::directory_model::{
    DirectoryDiff, DirectoryGeneration, DirectoryMailbox, DirectoryProfessional, DirectoryRows,
    DirectorySet, DirectorySetStatus,
};
use crate::directory_store::DirectoryStore;
use crate::error::Result;

/// Batch weight of one directory row (about its bytes).
const ROW_WEIGHT: usize = 256;

impl SqliteStore {
    /// Deletes a generation not in force, one bounded writer job at a time.
    async fn purge_generation(&self, generation: DirectoryGeneration) -> Result<()> {
        let mut jobs = 0u64;
        loop {
            jobs += 1;
            let done = self
                .writer
                .run(SMALL_JOB, move |c| {
                    directory_write::purge_chunk(c, generation)
                })
                .await?;
            if done {
                debug!(
                    generation = generation.0,
                    jobs, "directory generation purged"
                );
                return Ok(());
            }
        }
    }
}

#[async_trait]
impl DirectoryStore for SqliteStore {
    async fn directory_begin(&self, set: DirectorySet) -> Result<DirectoryGeneration> {
        let stale = self
            .readers
            .run(move |c| directory_write::stale(c, set))
            .await?;
        for generation in stale {
            self.writer
                .run(SMALL_JOB, move |c| directory_write::retire(c, generation))
                .await?;
            self.purge_generation(generation).await?;
        }
        self.writer
            .run(SMALL_JOB, move |c| {
                directory_write::begin(c, set, now_unix())
            })
            .await
    }

    async fn directory_write(
        &self,
        generation: DirectoryGeneration,
        rows: DirectoryRows,
    ) -> Result<()> {
        let weight = rows.len().saturating_mul(ROW_WEIGHT);
        self.writer
            .run(weight, move |c| {
                directory_write::write(c, generation, &rows)
            })
            .await
    }

    async fn directory_diff(
        &self,
        generation: DirectoryGeneration,
        sample: usize,
    ) -> Result<DirectoryDiff> {
        self.readers
            .run(move |c| directory_read::diff(c, generation, sample))
            .await
    }

    async fn directory_commit(&self, generation: DirectoryGeneration, source: &str) -> Result<()> {
        let source = source.to_owned();
        let previous = self
            .writer
            .run(SMALL_JOB, move |c| {
                directory_write::commit(c, generation, &source, now_unix())
            })
            .await?;
        // The switch is durable; removing the old rows is housekeeping that a later import
        // finishes if this one is interrupted.
        if let Some(previous) = previous {
            self.purge_generation(previous).await?;
        }
        Ok(())
    }

    async fn directory_discard(&self, generation: DirectoryGeneration) -> Result<()> {
        self.writer
            .run(SMALL_JOB, move |c| directory_write::retire(c, generation))
            .await?;
        self.purge_generation(generation).await
    }

    async fn directory_status(&self) -> Result<Vec<DirectorySetStatus>> {
        self.readers.run(directory_read::status).await
    }

    async fn directory_mailbox(&self, address: &Address) -> Result<Option<DirectoryMailbox>> {
        let address = address.clone();
        self.readers
            .run(move |c| directory_read::mailbox(c, &address))
            .await
    }

    async fn directory_mailboxes(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<DirectoryMailbox>> {
        self.readers
            .run(move |c| directory_read::mailboxes(c, after.as_deref(), limit))
            .await
    }

    async fn directory_professional(
        &self,
        id_nat_ps: &str,
    ) -> Result<Option<DirectoryProfessional>> {
        let id = id_nat_ps.to_owned();
        self.readers
            .run(move |c| directory_read::professional(c, &id))
            .await
    }

    async fn set_red_listed(&self, address: &Address, red_listed: bool) -> Result<()> {
        let key = address.canonical();
        self.writer
            .run(SMALL_JOB, move |c| {
                directory_write::set_red_listed(c, &key, red_listed, now_unix())
            })
            .await
    }

    async fn red_listed(&self) -> Result<Vec<String>> {
        self.readers.run(directory_read::red_listed).await
    }
}
