//! Messages entering folders (delivery, append) and single-message flag changes.
//!
//! UIDs come from the folder's `uid_next`, which only grows, so a UID is never reused even after
//! an expunge. Every change bumps the folder's `highest_modseq` and stamps the message with it.
//! Every entry added counts in its mailbox's usage, and is checked against its quota first.

use rusqlite::{Connection, OptionalExtension, params};

use super::blobs::insert_blob;
use super::connection::DbResult;
use super::convert::{u32_from_i64, u64_from_i64};
use super::document_index;
use super::flag_json::{flags_json, parse_flags};
use super::folders::{inbox_of, mailbox_of};
use super::quota::{add_usage, delta, ensure_room};
use crate::blob_files::MessageBytes;
use crate::error::{Error, Result};
use crate::flags::{is_seen, normalize_flags};
use crate::model::{Delivered, Delivery, FolderChange, FolderId, MailboxId};

/// Stores the bytes once and appends them to the INBOX of each distinct recipient. If any
/// recipient lacks room, nothing is delivered (`QuotaExceeded` names that mailbox). Returns
/// the blob too, for a queue entry of the same message to share.
pub(crate) fn deliver(
    conn: &Connection,
    d: &Delivery,
    summary: Option<&[u8]>,
) -> Result<(Vec<Delivered>, i64)> {
    let mut recipients: Vec<MailboxId> = Vec::with_capacity(d.recipients.len());
    for r in &d.recipients {
        if !recipients.contains(r) {
            recipients.push(*r);
        }
    }
    if recipients.is_empty() {
        return Err(Error::invalid("delivery", "it has no recipient"));
    }
    let size = message_size(d.message.len());
    let inboxes = recipients
        .iter()
        .map(|mailbox| {
            ensure_room(conn, *mailbox, size)?;
            inbox_of(conn, *mailbox)
        })
        .collect::<Result<Vec<FolderId>>>()?;
    let blob = insert_blob(conn, &d.message, summary)?;
    let delivered = inboxes
        .into_iter()
        .map(|folder| {
            let delivered = add_message(conn, folder, blob, size, &[], d.internal_date)?;
            if !d.documents.is_empty() {
                document_index::index(
                    conn,
                    delivered.mailbox,
                    folder,
                    delivered.uid,
                    &d.documents,
                    d.internal_date,
                )?;
            }
            Ok(delivered)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((delivered, blob))
}

pub(crate) fn append(
    conn: &Connection,
    folder: FolderId,
    message: &MessageBytes,
    flags: &[String],
    internal_date: i64,
    summary: Option<&[u8]>,
) -> Result<Delivered> {
    let flags = normalize_flags(flags)?;
    let size = message_size(message.len());
    ensure_room(conn, mailbox_of(conn, folder)?, size)?;
    let blob = insert_blob(conn, message, summary)?;
    add_message(conn, folder, blob, size, &flags, internal_date)
}

/// Takes the next UID of `folder`, records the message under it and counts it in the usage.
pub(crate) fn add_message(
    conn: &Connection,
    folder: FolderId,
    blob_id: i64,
    size: u64,
    flags: &[String],
    internal_date: i64,
) -> Result<Delivered> {
    let (uid, modseq, mailbox): (i64, i64, i64) = conn
        .prepare_cached(
            "UPDATE folders SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 \
             WHERE id = ?1 RETURNING uid_next - 1, highest_modseq, mailbox_id",
        )
        .and_then(|mut stmt| {
            stmt.query_row([folder.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .db("taking the next UID of a folder")?
        .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))?;
    conn.prepare_cached(
        "INSERT INTO messages (folder_id, uid, modseq, blob_id, flags, seen, internal_date) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            folder.0,
            uid,
            modseq,
            blob_id,
            flags_json(flags),
            is_seen(flags),
            internal_date
        ])
    })
    .db("recording a message in a folder")?;
    let mailbox = MailboxId(mailbox);
    add_usage(conn, mailbox, delta(size)?, 1)?;
    Ok(Delivered {
        mailbox,
        folder,
        uid: u32_from_i64(uid, "folders", "uid_next")?,
        modseq: u64_from_i64(modseq, "folders", "highest_modseq")?,
    })
}

/// Replaces the flags. Unchanged flags are no change: the modseq stays (RFC 7162).
/// Returns the message's modseq and, when it changed, the folder change to publish.
pub(crate) fn set_flags(
    conn: &Connection,
    folder: FolderId,
    uid: u32,
    flags: &[String],
) -> Result<(u64, Option<FolderChange>)> {
    let flags = normalize_flags(flags)?;
    let (current, modseq): (String, i64) = conn
        .prepare_cached("SELECT flags, modseq FROM messages WHERE folder_id = ?1 AND uid = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![folder.0, uid], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .db("reading a message's flags")?
        .ok_or_else(|| Error::not_found(format!("message UID {uid} in folder {}", folder.0)))?;
    if parse_flags(&current)? == flags {
        return Ok((u64_from_i64(modseq, "messages", "modseq")?, None));
    }
    let modseq = bump_modseq(conn, folder)?;
    write_flags(conn, folder, uid, &flags, modseq)?;
    let change = FolderChange {
        mailbox: mailbox_of(conn, folder)?,
        folder,
        highest_modseq: modseq,
    };
    Ok((modseq, Some(change)))
}

/// Stores already normalised flags under `modseq`.
pub(crate) fn write_flags(
    conn: &Connection,
    folder: FolderId,
    uid: u32,
    flags: &[String],
    modseq: u64,
) -> Result<()> {
    let modseq = super::convert::i64_from_u64(modseq, "modseq")?;
    conn.prepare_cached(
        "UPDATE messages SET flags = ?3, seen = ?4, modseq = ?5 WHERE folder_id = ?1 AND uid = ?2",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            folder.0,
            uid,
            flags_json(flags),
            is_seen(flags),
            modseq
        ])
    })
    .db("updating a message's flags")?;
    Ok(())
}

/// Gives the folder a new highest modseq and returns it.
pub(crate) fn bump_modseq(conn: &Connection, folder: FolderId) -> Result<u64> {
    let modseq: i64 = conn
        .prepare_cached(
            "UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = ?1 \
             RETURNING highest_modseq",
        )
        .and_then(|mut stmt| stmt.query_row([folder.0], |r| r.get(0)).optional())
        .db("bumping a folder's modseq")?
        .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))?;
    u64_from_i64(modseq, "folders", "highest_modseq")
}

fn message_size(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}
