//! Removing messages from a folder (EXPUNGE, the source side of MOVE).
//!
//! Each removal is recorded in `expunged` with the modseq of the change, so CONDSTORE/QRESYNC
//! clients and other sessions can learn about it, and is taken off the mailbox's usage.

use rusqlite::{Connection, OptionalExtension, params};

use super::blobs::delete_unreferenced_blobs;
use super::connection::DbResult;
use super::convert::i64_from_u64;
use super::folders::{folder_exists, mailbox_of};
use super::messages::bump_modseq;
use super::quota::add_usage;
use crate::error::{Error, Result};
use crate::model::{FolderChange, FolderId};

/// Removes the given UIDs; returns those that existed, in order, and the change to publish
/// (none when nothing was removed). Blobs left unused go too.
pub(crate) fn expunge(
    conn: &Connection,
    folder: FolderId,
    uids: &[u32],
) -> Result<(Vec<u32>, Option<FolderChange>)> {
    let removed = remove_messages(conn, folder, uids)?;
    let Some(change) = removed.change else {
        return Ok((Vec::new(), None));
    };
    delete_unreferenced_blobs(conn, &removed.blob_ids)?;
    Ok((removed.uids, Some(change)))
}

/// What [`remove_messages`] took out.
pub(crate) struct Removed {
    /// UIDs that existed, ascending.
    pub uids: Vec<u32>,
    /// Their blobs, for the caller to clean up once nothing else needs them.
    pub blob_ids: Vec<i64>,
    pub change: Option<FolderChange>,
}

/// Deletes the messages, records them as expunged under one new modseq and updates the usage.
/// Leaves blobs alone.
pub(crate) fn remove_messages(
    conn: &Connection,
    folder: FolderId,
    uids: &[u32],
) -> Result<Removed> {
    if !folder_exists(conn, folder)? {
        return Err(Error::not_found(format!("folder {}", folder.0)));
    }
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    let mut removed = Vec::new();
    let mut blob_ids = Vec::new();
    let mut bytes: i64 = 0;
    let mut delete = conn
        .prepare_cached(
            "DELETE FROM messages WHERE folder_id = ?1 AND uid = ?2 \
             RETURNING blob_id, (SELECT size FROM blobs WHERE id = blob_id)",
        )
        .db("preparing expunge")?;
    for uid in uids {
        let row: Option<(i64, i64)> = delete
            .query_row(params![folder.0, uid], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .db("expunging a message")?;
        if let Some((blob, size)) = row {
            removed.push(uid);
            blob_ids.push(blob);
            bytes = bytes.saturating_add(size);
        }
    }
    if removed.is_empty() {
        return Ok(Removed {
            uids: removed,
            blob_ids,
            change: None,
        });
    }
    let modseq = bump_modseq(conn, folder)?;
    let stored_modseq = i64_from_u64(modseq, "modseq")?;
    let mut record = conn
        .prepare_cached(
            "INSERT INTO expunged (folder_id, uid, modseq) VALUES (?1, ?2, ?3) \
             ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = excluded.modseq",
        )
        .db("preparing the expunged record")?;
    for uid in &removed {
        record
            .execute(params![folder.0, uid, stored_modseq])
            .db("recording an expunged UID")?;
    }
    let mailbox = mailbox_of(conn, folder)?;
    let count = i64::try_from(removed.len()).unwrap_or(i64::MAX);
    add_usage(conn, mailbox, -bytes, -count)?;
    Ok(Removed {
        uids: removed,
        blob_ids,
        change: Some(FolderChange {
            mailbox,
            folder,
            highest_modseq: modseq,
        }),
    })
}
