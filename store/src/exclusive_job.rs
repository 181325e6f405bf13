//! Jobs that one mssd at a time runs against a shared store (liste blanche refresh, annuaire
//! import, LDAP sync): [`crate::Store::try_exclusive`] gives an [`ExclusiveJob`] while no other
//! process holds the same job. Their result is written to the store, which every node reads, so
//! the other nodes skip their run instead of repeating (and racing) it.

use async_trait::async_trait;

use crate::error::{Error, Result};

/// The right to run one job, held until this value is released or dropped.
pub struct ExclusiveJob {
    job: String,
    hold: Option<Box<dyn JobHold>>,
}

/// What a backend keeps to hold a job lock. Dropping it must release the lock too (a guard
/// dropped on an error path or a cancelled task), possibly a moment later.
#[async_trait]
pub(crate) trait JobHold: Send + Sync {
    /// Releases the lock now, and returns once it is released.
    async fn release(self: Box<Self>);
}

impl ExclusiveJob {
    pub(crate) fn new(job: &str, hold: Box<dyn JobHold>) -> ExclusiveJob {
        ExclusiveJob {
            job: job.to_owned(),
            hold: Some(hold),
        }
    }

    /// The job's name, as given to `try_exclusive`.
    pub fn job(&self) -> &str {
        &self.job
    }

    /// Releases the job and returns once another process can take it (dropping the guard
    /// releases it too, without waiting).
    pub async fn release(mut self) {
        if let Some(hold) = self.hold.take() {
            hold.release().await;
        }
    }
}

impl std::fmt::Debug for ExclusiveJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExclusiveJob")
            .field("job", &self.job)
            .finish_non_exhaustive()
    }
}

/// Job names become lock file names on SQLite: a short word of `[a-z0-9._-]`.
pub(crate) fn check_job_name(job: &str) -> Result<()> {
    let valid = !job.is_empty()
        && job.len() <= 64
        && !job.starts_with('.')
        && job
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "exclusive job name",
            format!("{job:?} is not 1 to 64 characters of a-z, 0-9, '.', '_', '-'"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_job_name;

    #[test]
    fn job_names() {
        for good in ["trust-list", "annuaire.import", "ldap_sync", "a"] {
            assert!(check_job_name(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "Trust", "a b", ".hidden", &"x".repeat(65)] {
            assert!(check_job_name(bad).is_err(), "{bad}");
        }
    }
}
