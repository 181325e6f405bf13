//! Creating, renaming and deleting folders (IMAP CREATE, RENAME, DELETE).
//!
//! Errors never carry folder names: users name folders after patients.

use rusqlite::{Connection, params};

use super::blobs::delete_unreferenced_blobs;
use super::connection::{DbResult, is_unique_violation};
use super::folder_names::{SEPARATOR, canonical_folder_name, is_inbox, is_within, renamed};
use super::folders::{by_id, by_name, change_of, mailbox_exists, next_uid_validity};
use super::quota::add_usage;
use crate::error::{Error, Result};
use crate::model::{Folder, FolderChange, FolderId, MailboxId};

/// Creates one folder (not its missing parents) with a UIDVALIDITY never used before. A single
/// trailing '/' is dropped (RFC 9051 6.3.4: it only declares the intent to create children).
pub(crate) fn create_folder(
    conn: &Connection,
    mailbox: MailboxId,
    name: &str,
    now: i64,
) -> Result<Folder> {
    let name = canonical_folder_name(name.strip_suffix(SEPARATOR).unwrap_or(name))?;
    if !mailbox_exists(conn, mailbox)? {
        return Err(Error::not_found(format!("mailbox {}", mailbox.0)));
    }
    if is_inbox(&name) || by_name(conn, mailbox, &name)?.is_some() {
        return Err(taken());
    }
    let uid_validity = next_uid_validity(conn, now)?;
    conn.prepare_cached(
        "INSERT INTO folders (mailbox_id, name, special_use, uid_validity) VALUES (?1, ?2, NULL, ?3)",
    )
    .and_then(|mut stmt| stmt.execute(params![mailbox.0, name, uid_validity]))
    .map_err(|e| {
        if is_unique_violation(&e) {
            taken()
        } else {
            Error::Sqlite(format!("creating a folder: {e}"))
        }
    })?;
    let id = FolderId(conn.last_insert_rowid());
    by_id(conn, id)?.ok_or_else(|| Error::not_found(format!("folder {}", id.0)))
}

/// Renames `from` and every folder under "`from`/" to the `to` prefix; UIDVALIDITY, messages and
/// subscriptions follow. Returns the renamed folders' changes, to publish.
pub(crate) fn rename_folder(
    conn: &Connection,
    mailbox: MailboxId,
    from: &str,
    to: &str,
) -> Result<Vec<FolderChange>> {
    let from = canonical_folder_name(from)?;
    let to = canonical_folder_name(to)?;
    if is_inbox(&from) {
        return Err(Error::invalid("rename", "INBOX cannot be renamed"));
    }
    if by_name(conn, mailbox, &from)?.is_none() {
        return Err(Error::not_found("folder to rename"));
    }
    if is_inbox(&to) || by_name(conn, mailbox, &to)?.is_some() {
        return Err(taken());
    }
    if is_within(&to, &from) || is_within(&from, &to) {
        return Err(Error::invalid(
            "rename",
            "a folder cannot be renamed into its own hierarchy or one of its parents",
        ));
    }
    let folders = names(conn, mailbox)?;
    let moves: Vec<(i64, String, String)> = folders
        .iter()
        .filter_map(|(id, name)| renamed(name, &from, &to).map(|new| (*id, name.clone(), new)))
        .collect();
    // Sources are all within `from`, targets within `to`, and neither contains the other, so a
    // target can only collide with a folder that stays where it is.
    if moves
        .iter()
        .any(|(_, _, new)| folders.iter().any(|(_, name)| name == new))
    {
        return Err(taken());
    }
    let mut rename = conn
        .prepare_cached("UPDATE folders SET name = ?2 WHERE id = ?1")
        .db("preparing a folder rename")?;
    for (id, _, new) in &moves {
        rename.execute(params![id, new]).map_err(|e| {
            if is_unique_violation(&e) {
                taken()
            } else {
                Error::Sqlite(format!("renaming a folder: {e}"))
            }
        })?;
    }
    move_subscriptions(conn, mailbox, &from, &to)?;
    moves
        .iter()
        .map(|(id, _, _)| change_of(conn, FolderId(*id)))
        .collect()
}

/// Deletes the folder and its messages (not the folders under it, nor its subscription), takes
/// them off the usage and drops blobs nothing uses any more. Returns the change to publish.
pub(crate) fn delete_folder(
    conn: &Connection,
    mailbox: MailboxId,
    name: &str,
) -> Result<FolderChange> {
    let name = canonical_folder_name(name)?;
    if is_inbox(&name) {
        return Err(Error::invalid("delete", "INBOX cannot be deleted"));
    }
    let folder = by_name(conn, mailbox, &name)?
        .ok_or_else(|| Error::not_found("folder to delete"))?
        .id;
    let change = change_of(conn, folder)?;
    let (bytes, count): (i64, i64) = conn
        .prepare_cached(
            "SELECT coalesce(sum(b.size), 0), count(*) \
             FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.folder_id = ?1",
        )
        .and_then(|mut stmt| stmt.query_row([folder.0], |r| Ok((r.get(0)?, r.get(1)?))))
        .db("measuring a folder")?;
    let blob_ids: Vec<i64> = conn
        .prepare_cached("SELECT DISTINCT blob_id FROM messages WHERE folder_id = ?1")
        .and_then(|mut stmt| stmt.query_map([folder.0], |r| r.get(0))?.collect())
        .db("listing the blobs of a folder")?;
    conn.prepare_cached("DELETE FROM messages WHERE folder_id = ?1")
        .and_then(|mut stmt| stmt.execute([folder.0]))
        .db("deleting a folder's messages")?;
    conn.prepare_cached("DELETE FROM folders WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([folder.0]))
        .db("deleting a folder")?;
    add_usage(conn, mailbox, -bytes, -count)?;
    delete_unreferenced_blobs(conn, &blob_ids)?;
    Ok(change)
}

fn names(conn: &Connection, mailbox: MailboxId) -> Result<Vec<(i64, String)>> {
    conn.prepare_cached("SELECT id, name FROM folders WHERE mailbox_id = ?1")
        .and_then(|mut stmt| {
            stmt.query_map([mailbox.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .db("listing folder names")
}

/// Subscriptions follow a renamed hierarchy (replacing any already under the new names).
fn move_subscriptions(conn: &Connection, mailbox: MailboxId, from: &str, to: &str) -> Result<()> {
    let subscribed: Vec<String> = conn
        .prepare_cached("SELECT name FROM subscriptions WHERE mailbox_id = ?1")
        .and_then(|mut stmt| stmt.query_map([mailbox.0], |r| r.get(0))?.collect())
        .db("listing subscriptions")?;
    let mut update = conn
        .prepare_cached(
            "UPDATE OR REPLACE subscriptions SET name = ?3 WHERE mailbox_id = ?1 AND name = ?2",
        )
        .db("preparing a subscription rename")?;
    for name in subscribed {
        if let Some(new) = renamed(&name, from, to) {
            update
                .execute(params![mailbox.0, name, new])
                .db("renaming a subscription")?;
        }
    }
    Ok(())
}

fn taken() -> Error {
    Error::AlreadyExists {
        what: "a folder with this name".to_owned(),
    }
}
