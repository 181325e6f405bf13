//! IMAP subscriptions: names, which may outlive (or precede) their folder (RFC 9051 6.3.7).

use rusqlite::{Connection, params};

use super::connection::DbResult;
use super::folder_names::canonical_folder_name;
use super::folders::mailbox_exists;
use crate::error::{Error, Result};
use crate::model::MailboxId;

/// Idempotent.
pub(crate) fn subscribe(conn: &Connection, mailbox: MailboxId, name: &str) -> Result<()> {
    let name = canonical_folder_name(name)?;
    if !mailbox_exists(conn, mailbox)? {
        return Err(Error::not_found(format!("mailbox {}", mailbox.0)));
    }
    conn.prepare_cached("INSERT OR IGNORE INTO subscriptions (mailbox_id, name) VALUES (?1, ?2)")
        .and_then(|mut stmt| stmt.execute(params![mailbox.0, name]))
        .db("subscribing to a folder")?;
    Ok(())
}

/// `NotFound` when the name is not subscribed.
pub(crate) fn unsubscribe(conn: &Connection, mailbox: MailboxId, name: &str) -> Result<()> {
    let name = canonical_folder_name(name)?;
    let removed = conn
        .prepare_cached("DELETE FROM subscriptions WHERE mailbox_id = ?1 AND name = ?2")
        .and_then(|mut stmt| stmt.execute(params![mailbox.0, name]))
        .db("unsubscribing from a folder")?;
    if removed == 0 {
        return Err(Error::not_found("subscription"));
    }
    Ok(())
}

/// Subscribed names, sorted.
pub(crate) fn list(conn: &Connection, mailbox: MailboxId) -> Result<Vec<String>> {
    if !mailbox_exists(conn, mailbox)? {
        return Err(Error::not_found(format!("mailbox {}", mailbox.0)));
    }
    conn.prepare_cached("SELECT name FROM subscriptions WHERE mailbox_id = ?1 ORDER BY name")
        .and_then(|mut stmt| stmt.query_map([mailbox.0], |r| r.get(0))?.collect())
        .db("listing subscriptions")
}
