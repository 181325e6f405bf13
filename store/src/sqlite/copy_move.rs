//! IMAP COPY and MOVE (RFC 6851): new entries in the destination share the source's blob.

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::DbResult;
use super::convert::u64_from_i64;
use super::flag_json::parse_flags;
use super::folders::{by_id, mailbox_of};
use super::message_removal::remove_messages;
use super::messages::add_message;
use super::quota::ensure_room;
use crate::error::{Error, Result};
use crate::model::{CopyOutcome, FolderChange, FolderId};

/// The result and the folder changes to publish.
pub(crate) type Copied = (CopyOutcome, Vec<FolderChange>);

/// A source message to copy.
struct Source {
    uid: u32,
    blob_id: i64,
    size: u64,
    flags: Vec<String>,
    internal_date: i64,
}

pub(crate) fn copy_messages(
    conn: &Connection,
    from: FolderId,
    uids: &[u32],
    to: FolderId,
) -> Result<Copied> {
    let (outcome, change, _) = copy(conn, from, uids, to, true)?;
    Ok((outcome, change.into_iter().collect()))
}

/// Copy, then expunge of the sources, in the caller's one transaction. The quota is checked only
/// when the messages leave their mailbox: within one mailbox the usage does not grow.
pub(crate) fn move_messages(
    conn: &Connection,
    from: FolderId,
    uids: &[u32],
    to: FolderId,
) -> Result<Copied> {
    let same_mailbox = mailbox_of(conn, from)? == mailbox_of(conn, to)?;
    let (outcome, to_change, copied) = copy(conn, from, uids, to, !same_mailbox)?;
    if same_mailbox {
        super::document_index::follow_move(conn, from, to, &outcome.pairs)?;
    }
    let removed = remove_messages(conn, from, &copied)?;
    let changes = to_change.into_iter().chain(removed.change).collect();
    Ok((outcome, changes))
}

/// Copies the existing `uids` of `from` into `to`; returns the outcome, the destination's change
/// (if anything was copied) and the source UIDs copied.
fn copy(
    conn: &Connection,
    from: FolderId,
    uids: &[u32],
    to: FolderId,
    check_quota: bool,
) -> Result<(CopyOutcome, Option<FolderChange>, Vec<u32>)> {
    let destination =
        by_id(conn, to)?.ok_or_else(|| Error::not_found(format!("folder {}", to.0)))?;
    let sources = sources(conn, from, uids)?;
    if check_quota && !sources.is_empty() {
        let needed = sources
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(s.size));
        ensure_room(conn, destination.mailbox, needed)?;
    }
    let mut pairs = Vec::with_capacity(sources.len());
    let mut last_modseq = None;
    for s in &sources {
        let d = add_message(conn, to, s.blob_id, s.size, &s.flags, s.internal_date)?;
        pairs.push((s.uid, d.uid));
        last_modseq = Some(d.modseq);
    }
    let change = last_modseq.map(|highest_modseq| FolderChange {
        mailbox: destination.mailbox,
        folder: to,
        highest_modseq,
    });
    let copied = pairs.iter().map(|(source, _)| *source).collect();
    Ok((
        CopyOutcome {
            uid_validity: destination.uid_validity,
            pairs,
        },
        change,
        copied,
    ))
}

/// The existing messages among `uids`, in UID order.
fn sources(conn: &Connection, from: FolderId, uids: &[u32]) -> Result<Vec<Source>> {
    mailbox_of(conn, from)?;
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    let mut read = conn
        .prepare_cached(
            "SELECT m.blob_id, b.size, m.flags, m.internal_date \
             FROM messages m JOIN blobs b ON b.id = m.blob_id \
             WHERE m.folder_id = ?1 AND m.uid = ?2",
        )
        .db("preparing a copy")?;
    let mut out = Vec::with_capacity(uids.len());
    for uid in uids {
        let row: Option<(i64, i64, String, i64)> = read
            .query_row(params![from.0, uid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
            .db("reading a message to copy")?;
        if let Some((blob_id, size, flags, internal_date)) = row {
            out.push(Source {
                uid,
                blob_id,
                size: u64_from_i64(size, "blobs", "size")?,
                flags: parse_flags(&flags)?,
                internal_date,
            });
        }
    }
    Ok(out)
}
