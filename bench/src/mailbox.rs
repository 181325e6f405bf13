//! Counting what an operator's store holds, read directly from its SQLite file.

use std::path::Path;

use mssd_store::{SqliteStore, Store};

use crate::error::{Error, Result};

/// Number of messages in `address`'s folder `folder` (none if the folder does not exist).
pub async fn count_messages(db: &Path, address: &str, folder: &str) -> Result<usize> {
    let store = SqliteStore::open(db, Default::default())?;
    let parsed =
        mssd_core::Address::parse(address).map_err(|_| Error::Address(address.to_string()))?;
    let mailbox = store
        .mailbox(&parsed)
        .await?
        .ok_or_else(|| Error::NoMailbox {
            address: address.to_string(),
            db: db.to_path_buf(),
        })?;
    let folders = store.folders(mailbox.id).await?;
    let Some(folder) = folders.iter().find(|f| f.name == folder) else {
        return Ok(0);
    };
    Ok(store.messages(folder.id).await?.len())
}
