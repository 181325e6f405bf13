//! The index in force, swapped whole when the directory is re-imported.

use std::sync::{Arc, RwLock};

use mssd_store::DirectoryStore;

use super::index::Directory;
use crate::error::Result;

/// A cheap-to-clone handle on the index in force.
#[derive(Clone, Debug, Default)]
pub struct SharedDirectory {
    current: Arc<RwLock<Arc<Directory>>>,
}

impl SharedDirectory {
    pub fn new(directory: Directory) -> SharedDirectory {
        SharedDirectory {
            current: Arc::new(RwLock::new(Arc::new(directory))),
        }
    }

    /// The index in force; lookups on it are unaffected by later swaps.
    pub fn get(&self) -> Arc<Directory> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Rebuilds the index from the store (after an import) and puts it in force. On error the
    /// previous index stays.
    pub async fn reload(&self, store: &dyn DirectoryStore) -> Result<usize> {
        let fresh = Directory::load(store).await?;
        let len = fresh.len();
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        Ok(len)
    }
}
