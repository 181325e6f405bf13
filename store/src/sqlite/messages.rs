//! Messages in folders: delivery, append, listing, flags, expunge.
//!
//! UIDs come from the folder's `uid_next`, which only grows, so a UID is never reused even after
//! an expunge. Every change bumps the folder's `highest_modseq` and stamps the message with it.

use rusqlite::{Connection, OptionalExtension, params};

use super::blobs::{delete_unreferenced_blobs, insert_blob};
use super::connection::DbResult;
use super::convert::{u32_from_i64, u64_from_i64};
use super::folders::{folder_exists, inbox_of};
use crate::error::{Error, Result};
use crate::flags::{is_seen, normalize_flags};
use crate::model::{Delivered, Delivery, FolderId, MailboxId, MessageMeta};

/// Stores the bytes once and appends them to the INBOX of each distinct recipient.
pub(crate) fn deliver(conn: &Connection, d: &Delivery) -> Result<Vec<Delivered>> {
    let mut recipients: Vec<MailboxId> = Vec::with_capacity(d.recipients.len());
    for r in &d.recipients {
        if !recipients.contains(r) {
            recipients.push(*r);
        }
    }
    if recipients.is_empty() {
        return Err(Error::invalid("delivery", "it has no recipient"));
    }
    let blob = insert_blob(conn, &d.message)?;
    recipients
        .into_iter()
        .map(|mailbox| {
            let folder = inbox_of(conn, mailbox)?;
            add_message(conn, folder, blob, &[], d.internal_date)
        })
        .collect()
}

pub(crate) fn append(
    conn: &Connection,
    folder: FolderId,
    message: &[u8],
    flags: &[String],
    internal_date: i64,
) -> Result<Delivered> {
    let flags = normalize_flags(flags)?;
    let blob = insert_blob(conn, message)?;
    add_message(conn, folder, blob, &flags, internal_date)
}

/// Takes the next UID of `folder` and records the message under it.
fn add_message(
    conn: &Connection,
    folder: FolderId,
    blob_id: i64,
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
    Ok(Delivered {
        mailbox: MailboxId(mailbox),
        folder,
        uid: u32_from_i64(uid, "folders", "uid_next")?,
        modseq: u64_from_i64(modseq, "folders", "highest_modseq")?,
    })
}

pub(crate) fn list(conn: &Connection, folder: FolderId) -> Result<Vec<MessageMeta>> {
    if !folder_exists(conn, folder)? {
        return Err(Error::not_found(format!("folder {}", folder.0)));
    }
    type RawMeta = (i64, i64, String, i64, i64, String);
    let rows: Vec<RawMeta> = conn
        .prepare_cached(
            "SELECT m.uid, m.modseq, m.flags, b.size, m.internal_date, b.sha256 \
             FROM messages m JOIN blobs b ON b.id = m.blob_id \
             WHERE m.folder_id = ?1 ORDER BY m.uid",
        )
        .and_then(|mut stmt| {
            stmt.query_map([folder.0], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect()
        })
        .db("listing messages")?;
    rows.into_iter()
        .map(|(uid, modseq, flags, size, internal_date, sha256)| {
            Ok(MessageMeta {
                uid: u32_from_i64(uid, "messages", "uid")?,
                modseq: u64_from_i64(modseq, "messages", "modseq")?,
                flags: parse_flags(&flags)?,
                size: u64_from_i64(size, "blobs", "size")?,
                internal_date,
                sha256,
            })
        })
        .collect()
}

pub(crate) fn body(conn: &Connection, folder: FolderId, uid: u32) -> Result<Option<Vec<u8>>> {
    conn.prepare_cached(
        "SELECT b.bytes FROM messages m JOIN blobs b ON b.id = m.blob_id \
         WHERE m.folder_id = ?1 AND m.uid = ?2",
    )
    .and_then(|mut stmt| {
        stmt.query_row(params![folder.0, uid], |r| r.get(0))
            .optional()
    })
    .db("reading a message")
}

/// Replaces the flags. Unchanged flags are no change: the modseq stays (RFC 7162).
pub(crate) fn set_flags(
    conn: &Connection,
    folder: FolderId,
    uid: u32,
    flags: &[String],
) -> Result<u64> {
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
        return u64_from_i64(modseq, "messages", "modseq");
    }
    let modseq = bump_modseq(conn, folder)?;
    conn.prepare_cached(
        "UPDATE messages SET flags = ?3, seen = ?4, modseq = ?5 WHERE folder_id = ?1 AND uid = ?2",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            folder.0,
            uid,
            flags_json(&flags),
            is_seen(&flags),
            modseq
        ])
    })
    .db("updating a message's flags")?;
    u64_from_i64(modseq, "folders", "highest_modseq")
}

/// Removes the given UIDs; returns those that existed, in order. Blobs left unused go too.
pub(crate) fn expunge(conn: &Connection, folder: FolderId, uids: &[u32]) -> Result<Vec<u32>> {
    if !folder_exists(conn, folder)? {
        return Err(Error::not_found(format!("folder {}", folder.0)));
    }
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    let mut removed = Vec::new();
    let mut blob_ids = Vec::new();
    let mut delete = conn
        .prepare_cached("DELETE FROM messages WHERE folder_id = ?1 AND uid = ?2 RETURNING blob_id")
        .db("preparing expunge")?;
    for uid in uids {
        let blob: Option<i64> = delete
            .query_row(params![folder.0, uid], |r| r.get(0))
            .optional()
            .db("expunging a message")?;
        if let Some(blob) = blob {
            removed.push(uid);
            blob_ids.push(blob);
        }
    }
    if !removed.is_empty() {
        bump_modseq(conn, folder)?;
        delete_unreferenced_blobs(conn, &blob_ids)?;
    }
    Ok(removed)
}

fn bump_modseq(conn: &Connection, folder: FolderId) -> Result<i64> {
    conn.prepare_cached(
        "UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = ?1 \
         RETURNING highest_modseq",
    )
    .and_then(|mut stmt| stmt.query_row([folder.0], |r| r.get(0)).optional())
    .db("bumping a folder's modseq")?
    .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))
}

fn flags_json(flags: &[String]) -> String {
    serde_json::Value::from(flags.to_vec()).to_string()
}

fn parse_flags(json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| {
        Error::corrupt(
            "messages",
            format!("flags are not a JSON string array: {e}"),
        )
    })
}
