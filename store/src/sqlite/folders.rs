//! Folders: the default set, UIDVALIDITY allocation, lookups and listing with counters.

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::DbResult;
use super::convert::{u32_from_i64, u64_from_i64};
use crate::error::{Error, Result};
use crate::model::{Folder, FolderChange, FolderId, MailboxId};

/// Folders every mailbox gets, with their RFC 6154 special-use attribute.
pub(crate) const DEFAULT_FOLDERS: [(&str, Option<&str>); 5] = [
    ("INBOX", None),
    ("Sent", Some("\\Sent")),
    ("Drafts", Some("\\Drafts")),
    ("Trash", Some("\\Trash")),
    ("Archive", Some("\\Archive")),
];

pub(crate) const INBOX: &str = "INBOX";

pub(crate) fn create_default_folders(
    conn: &Connection,
    mailbox: MailboxId,
    now: i64,
) -> Result<()> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO folders (mailbox_id, name, special_use, uid_validity) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .db("preparing folder creation")?;
    let mut subscribe = conn
        .prepare_cached("INSERT INTO subscriptions (mailbox_id, name) VALUES (?1, ?2)")
        .db("preparing folder subscription")?;
    for (name, special_use) in DEFAULT_FOLDERS {
        let uid_validity = next_uid_validity(conn, now)?;
        insert
            .execute(params![mailbox.0, name, special_use, uid_validity])
            .db("creating a folder")?;
        subscribe
            .execute(params![mailbox.0, name])
            .db("subscribing a default folder")?;
    }
    Ok(())
}

/// A UIDVALIDITY never handed out before in this database: the current time in seconds, or one
/// more than the last one when the clock has not moved on (or went back). So a folder removed and
/// created again under the same name never shows a client an old UIDVALIDITY with new UIDs.
pub(crate) fn next_uid_validity(conn: &Connection, now: i64) -> Result<i64> {
    let last: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'last_uid_validity'")
        .and_then(|mut stmt| stmt.query_row([], |r| r.get(0)).optional())
        .db("reading the last UIDVALIDITY")?
        .unwrap_or(0);
    let next = now.clamp(1, i64::from(u32::MAX)).max(last + 1);
    if next > i64::from(u32::MAX) {
        return Err(Error::invalid(
            "folder",
            "every UIDVALIDITY value has been used in this database",
        ));
    }
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('last_uid_validity', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut stmt| stmt.execute([next]))
    .db("recording the last UIDVALIDITY")?;
    Ok(next)
}

pub(crate) fn inbox_of(conn: &Connection, mailbox: MailboxId) -> Result<FolderId> {
    conn.prepare_cached("SELECT id FROM folders WHERE mailbox_id = ?1 AND name = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![mailbox.0, INBOX], |r| r.get(0))
                .optional()
        })
        .db("finding a mailbox's INBOX")?
        .map(FolderId)
        .ok_or_else(|| Error::not_found(format!("INBOX of mailbox {}", mailbox.0)))
}

pub(crate) fn folder_exists(conn: &Connection, folder: FolderId) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM folders WHERE id = ?1")
        .and_then(|mut stmt| stmt.exists([folder.0]))
        .db("checking a folder exists")
}

pub(crate) fn mailbox_exists(conn: &Connection, id: MailboxId) -> Result<bool> {
    conn.prepare_cached("SELECT 1 FROM mailboxes WHERE id = ?1")
        .and_then(|mut stmt| stmt.exists([id.0]))
        .db("checking a mailbox exists")
}

pub(crate) fn list(conn: &Connection, mailbox: MailboxId) -> Result<Vec<Folder>> {
    if !mailbox_exists(conn, mailbox)? {
        return Err(Error::not_found(format!("mailbox {}", mailbox.0)));
    }
    query_folders(conn, "f.mailbox_id = ?1", mailbox.0)
}

pub(crate) fn by_id(conn: &Connection, folder: FolderId) -> Result<Option<Folder>> {
    Ok(query_folders(conn, "f.id = ?1", folder.0)?
        .into_iter()
        .next())
}

pub(crate) fn by_name(conn: &Connection, mailbox: MailboxId, name: &str) -> Result<Option<Folder>> {
    let id: Option<i64> = conn
        .prepare_cached("SELECT id FROM folders WHERE mailbox_id = ?1 AND name = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![mailbox.0, name], |r| r.get(0))
                .optional()
        })
        .db("finding a folder by name")?;
    match id {
        Some(id) => by_id(conn, FolderId(id)),
        None => Ok(None),
    }
}

/// The folder's mailbox and current highest modseq, to publish after commit.
pub(crate) fn change_of(conn: &Connection, folder: FolderId) -> Result<FolderChange> {
    let (mailbox, modseq): (i64, i64) = conn
        .prepare_cached("SELECT mailbox_id, highest_modseq FROM folders WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([folder.0], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .db("reading a folder's modseq")?
        .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))?;
    Ok(FolderChange {
        mailbox: MailboxId(mailbox),
        folder,
        highest_modseq: u64_from_i64(modseq, "folders", "highest_modseq")?,
    })
}

/// Folders matching `filter` (SQL over alias `f`, one parameter), with their counters, by id.
fn query_folders(conn: &Connection, filter: &str, value: i64) -> Result<Vec<Folder>> {
    type RawFolder = (i64, i64, String, Option<String>, i64, i64, i64, i64, i64);
    let sql = format!(
        "SELECT f.id, f.mailbox_id, f.name, f.special_use, f.uid_validity, f.uid_next, \
           f.highest_modseq, \
           (SELECT count(*) FROM messages m WHERE m.folder_id = f.id), \
           (SELECT count(*) FROM messages m WHERE m.folder_id = f.id AND m.seen = 0) \
         FROM folders f WHERE {filter} ORDER BY f.id"
    );
    let rows: Vec<RawFolder> = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_map([value], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?
            .collect()
        })
        .db("listing folders")?;
    rows.into_iter()
        .map(
            |(id, mailbox, name, special_use, validity, next, modseq, messages, unseen)| {
                Ok(Folder {
                    id: FolderId(id),
                    mailbox: MailboxId(mailbox),
                    name,
                    special_use,
                    uid_validity: u32_from_i64(validity, "folders", "uid_validity")?,
                    uid_next: u32_from_i64(next, "folders", "uid_next")?,
                    highest_modseq: u64_from_i64(modseq, "folders", "highest_modseq")?,
                    messages: u32_from_i64(messages, "messages", "count")?,
                    unseen: u32_from_i64(unseen, "messages", "unseen count")?,
                })
            },
        )
        .collect()
}

/// The mailbox owning `folder`; `NotFound` when there is no such folder.
pub(crate) fn mailbox_of(conn: &Connection, folder: FolderId) -> Result<MailboxId> {
    conn.prepare_cached("SELECT mailbox_id FROM folders WHERE id = ?1")
        .and_then(|mut stmt| stmt.query_row([folder.0], |r| r.get(0)).optional())
        .db("finding a folder's mailbox")?
        .map(MailboxId)
        .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))
}
