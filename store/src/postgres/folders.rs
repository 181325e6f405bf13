//! Folders: the default set, UIDVALIDITY allocation, lookups with counters, folder
//! administration (CREATE, RENAME, DELETE), subscriptions, usage counters and quota.
//!
//! Errors never carry folder names: users name folders after patients.

use tokio_postgres::Row;

use super::blobs::delete_unreferenced;
use super::{
    Tx, execute, is_unique_violation, pg_error, query, query_one, query_opt, u32_of, u64_of,
};
use crate::error::{Error, Result};
use crate::model::{Folder, FolderChange, FolderId, MailboxId, QuotaUsage};
use crate::sqlite::folder_names::{SEPARATOR, canonical_folder_name, is_inbox, is_within, renamed};
use crate::sqlite::folders::{DEFAULT_FOLDERS, INBOX};
use crate::sqlite::quota::check_room;

pub(crate) async fn create_default_folders(tx: &Tx<'_>, mailbox: MailboxId) -> Result<()> {
    for (name, special_use) in DEFAULT_FOLDERS {
        let uid_validity = next_uid_validity(tx).await?;
        execute(
            tx,
            "INSERT INTO folders (mailbox_id, name, special_use, uid_validity) \
             VALUES ($1, $2, $3, $4)",
            &[&mailbox.0, &name, &special_use, &uid_validity],
        )
        .await?;
        execute(
            tx,
            "INSERT INTO subscriptions (mailbox_id, name) VALUES ($1, $2)",
            &[&mailbox.0, &name],
        )
        .await?;
    }
    Ok(())
}

/// A UIDVALIDITY never handed out before in this database, from the sequence
/// `mssd_uid_validity` (migration 0003: it started past every earlier value and the time of
/// the migration). `nextval` takes no lock, so concurrent creations neither wait nor collide.
pub(crate) async fn next_uid_validity(tx: &Tx<'_>) -> Result<i64> {
    let next: i64 = query_one(tx, "SELECT nextval('mssd_uid_validity')", &[])
        .await
        .map_err(|e| match e {
            // The sequence's MAXVALUE is u32::MAX: exhausted, it refuses to go on.
            Error::Postgres(m) if m.contains("reached maximum value") => Error::invalid(
                "folder",
                "every UIDVALIDITY value has been used in this database",
            ),
            other => other,
        })?
        .get(0);
    if next > i64::from(u32::MAX) {
        return Err(Error::invalid(
            "folder",
            "every UIDVALIDITY value has been used in this database",
        ));
    }
    Ok(next)
}

/// Locks the mailbox rows (in id order, so two writers never wait on each other in a cycle)
/// and returns their usage. `NotFound` when one does not exist.
pub(crate) async fn lock_mailboxes(tx: &Tx<'_>, ids: &[MailboxId]) -> Result<Vec<QuotaUsage>> {
    let mut sorted: Vec<i64> = ids.iter().map(|m| m.0).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = Vec::with_capacity(sorted.len());
    for id in sorted {
        let row = query_opt(
            tx,
            "SELECT used_bytes, used_messages, quota_bytes FROM mailboxes WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
        .ok_or_else(|| Error::not_found(format!("mailbox {id}")))?;
        out.push(usage_of_row(&row)?);
    }
    Ok(out)
}

pub(crate) async fn usage(tx: &Tx<'_>, mailbox: MailboxId) -> Result<QuotaUsage> {
    let row = query_opt(
        tx,
        "SELECT used_bytes, used_messages, quota_bytes FROM mailboxes WHERE id = $1",
        &[&mailbox.0],
    )
    .await?
    .ok_or_else(|| Error::not_found(format!("mailbox {}", mailbox.0)))?;
    usage_of_row(&row)
}

fn usage_of_row(row: &Row) -> Result<QuotaUsage> {
    Ok(QuotaUsage {
        used_bytes: u64_of(row.get(0), "mailboxes", "used_bytes")?,
        used_messages: u64_of(row.get(1), "mailboxes", "used_messages")?,
        limit_bytes: row
            .get::<_, Option<i64>>(2)
            .map(|l| u64_of(l, "mailboxes", "quota_bytes"))
            .transpose()?,
    })
}

/// `QuotaExceeded` when adding `needed` bytes would take `mailbox` over its limit. The caller
/// holds the mailbox row's lock, so the check stays true until commit.
pub(crate) async fn ensure_room(tx: &Tx<'_>, mailbox: MailboxId, needed: u64) -> Result<()> {
    let usage = usage(tx, mailbox).await?;
    check_room(&usage, needed).map_err(|limit| Error::QuotaExceeded {
        mailbox,
        used: usage.used_bytes,
        limit,
        needed,
    })
}

/// Adds (or with negative values removes) folder entries to a mailbox's usage.
pub(crate) async fn add_usage(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    bytes: i64,
    messages: i64,
) -> Result<()> {
    if bytes == 0 && messages == 0 {
        return Ok(());
    }
    execute(
        tx,
        "UPDATE mailboxes SET used_bytes = GREATEST(used_bytes + $2, 0), \
         used_messages = GREATEST(used_messages + $3, 0) WHERE id = $1",
        &[&mailbox.0, &bytes, &messages],
    )
    .await?;
    Ok(())
}

pub(crate) async fn inbox_of(tx: &Tx<'_>, mailbox: MailboxId) -> Result<FolderId> {
    query_opt(
        tx,
        "SELECT id FROM folders WHERE mailbox_id = $1 AND name = $2",
        &[&mailbox.0, &INBOX],
    )
    .await?
    .map(|r| FolderId(r.get(0)))
    .ok_or_else(|| Error::not_found(format!("INBOX of mailbox {}", mailbox.0)))
}

pub(crate) async fn mailbox_exists(tx: &Tx<'_>, id: MailboxId) -> Result<bool> {
    Ok(
        query_opt(tx, "SELECT 1 FROM mailboxes WHERE id = $1", &[&id.0])
            .await?
            .is_some(),
    )
}

/// The mailbox owning `folder`; `NotFound` when there is no such folder.
pub(crate) async fn mailbox_of(tx: &Tx<'_>, folder: FolderId) -> Result<MailboxId> {
    query_opt(
        tx,
        "SELECT mailbox_id FROM folders WHERE id = $1",
        &[&folder.0],
    )
    .await?
    .map(|r| MailboxId(r.get(0)))
    .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))
}

/// The folder's mailbox, with the mailbox row locked: how every write into a folder starts.
pub(crate) async fn lock_folder_mailbox(tx: &Tx<'_>, folder: FolderId) -> Result<MailboxId> {
    let mailbox = mailbox_of(tx, folder).await?;
    lock_mailboxes(tx, &[mailbox]).await?;
    Ok(mailbox)
}

pub(crate) async fn list(tx: &Tx<'_>, mailbox: MailboxId) -> Result<Vec<Folder>> {
    if !mailbox_exists(tx, mailbox).await? {
        return Err(Error::not_found(format!("mailbox {}", mailbox.0)));
    }
    query_folders(tx, "f.mailbox_id = $1", mailbox.0).await
}

pub(crate) async fn by_id(tx: &Tx<'_>, folder: FolderId) -> Result<Option<Folder>> {
    Ok(query_folders(tx, "f.id = $1", folder.0)
        .await?
        .into_iter()
        .next())
}

pub(crate) async fn by_name(tx: &Tx<'_>, mailbox: MailboxId, name: &str) -> Result<Option<Folder>> {
    let id = query_opt(
        tx,
        "SELECT id FROM folders WHERE mailbox_id = $1 AND name = $2",
        &[&mailbox.0, &name],
    )
    .await?;
    match id {
        Some(r) => by_id(tx, FolderId(r.get(0))).await,
        None => Ok(None),
    }
}

/// The folder's mailbox and current highest modseq, to publish after commit.
pub(crate) async fn change_of(tx: &Tx<'_>, folder: FolderId) -> Result<FolderChange> {
    let row = query_opt(
        tx,
        "SELECT mailbox_id, highest_modseq FROM folders WHERE id = $1",
        &[&folder.0],
    )
    .await?
    .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))?;
    Ok(FolderChange {
        mailbox: MailboxId(row.get(0)),
        folder,
        highest_modseq: u64_of(row.get(1), "folders", "highest_modseq")?,
    })
}

async fn query_folders(tx: &Tx<'_>, filter: &str, value: i64) -> Result<Vec<Folder>> {
    let sql = format!(
        "SELECT f.id, f.mailbox_id, f.name, f.special_use, f.uid_validity, f.uid_next, \
           f.highest_modseq, \
           (SELECT count(*) FROM messages m WHERE m.mailbox_id = f.mailbox_id AND m.folder_id = f.id), \
           (SELECT count(*) FROM messages m WHERE m.mailbox_id = f.mailbox_id AND m.folder_id = f.id \
              AND NOT m.seen) \
         FROM folders f WHERE {filter} ORDER BY f.id"
    );
    query(tx, &sql, &[&value])
        .await?
        .iter()
        .map(|r| {
            Ok(Folder {
                id: FolderId(r.get(0)),
                mailbox: MailboxId(r.get(1)),
                name: r.get(2),
                special_use: r.get(3),
                uid_validity: u32_of(r.get(4), "folders", "uid_validity")?,
                uid_next: u32_of(r.get(5), "folders", "uid_next")?,
                highest_modseq: u64_of(r.get(6), "folders", "highest_modseq")?,
                messages: u32_of(r.get(7), "messages", "count")?,
                unseen: u32_of(r.get(8), "messages", "unseen count")?,
            })
        })
        .collect()
}

fn taken() -> Error {
    Error::AlreadyExists {
        what: "a folder with this name".to_owned(),
    }
}

/// Creates one folder (not its missing parents) with a UIDVALIDITY never used before.
pub(crate) async fn create_folder(tx: &Tx<'_>, mailbox: MailboxId, name: &str) -> Result<Folder> {
    let name = canonical_folder_name(name.strip_suffix(SEPARATOR).unwrap_or(name))?;
    if !mailbox_exists(tx, mailbox).await? {
        return Err(Error::not_found(format!("mailbox {}", mailbox.0)));
    }
    lock_mailboxes(tx, &[mailbox]).await?;
    if is_inbox(&name) || by_name(tx, mailbox, &name).await?.is_some() {
        return Err(taken());
    }
    let uid_validity = next_uid_validity(tx).await?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO folders (mailbox_id, name, special_use, uid_validity) \
             VALUES ($1, $2, NULL, $3) RETURNING id",
        )
        .await
        .map_err(|e| pg_error("preparing a folder insert", &e))?;
    let row = tx
        .query_one(&stmt, &[&mailbox.0, &name, &uid_validity])
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                taken()
            } else {
                pg_error("creating a folder", &e)
            }
        })?;
    by_id(tx, FolderId(row.get(0)))
        .await?
        .ok_or_else(|| Error::not_found("folder just created"))
}

/// Renames the folder and every folder under it; subscriptions follow. UIDVALIDITY kept.
pub(crate) async fn rename_folder(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    from: &str,
    to: &str,
) -> Result<Vec<FolderChange>> {
    let from = canonical_folder_name(from)?;
    let to = canonical_folder_name(to)?;
    if is_inbox(&from) {
        return Err(Error::invalid("rename", "INBOX cannot be renamed"));
    }
    lock_mailboxes(tx, &[mailbox]).await?;
    if by_name(tx, mailbox, &from).await?.is_none() {
        return Err(Error::not_found("folder to rename"));
    }
    if is_inbox(&to) || by_name(tx, mailbox, &to).await?.is_some() {
        return Err(taken());
    }
    if is_within(&to, &from) || is_within(&from, &to) {
        return Err(Error::invalid(
            "rename",
            "a folder cannot be renamed into its own hierarchy or one of its parents",
        ));
    }
    let folders: Vec<(i64, String)> = query(
        tx,
        "SELECT id, name FROM folders WHERE mailbox_id = $1",
        &[&mailbox.0],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let moves: Vec<(i64, String)> = folders
        .iter()
        .filter_map(|(id, name)| renamed(name, &from, &to).map(|new| (*id, new)))
        .collect();
    if moves
        .iter()
        .any(|(_, new)| folders.iter().any(|(_, name)| name == new))
    {
        return Err(taken());
    }
    for (id, new) in &moves {
        execute(tx, "UPDATE folders SET name = $2 WHERE id = $1", &[id, new]).await?;
    }
    // Subscriptions follow (replacing any already under the new names).
    let subscribed: Vec<String> = query(
        tx,
        "SELECT name FROM subscriptions WHERE mailbox_id = $1",
        &[&mailbox.0],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    for name in subscribed {
        if let Some(new) = renamed(&name, &from, &to) {
            execute(
                tx,
                "DELETE FROM subscriptions WHERE mailbox_id = $1 AND name = $2",
                &[&mailbox.0, &new],
            )
            .await?;
            execute(
                tx,
                "UPDATE subscriptions SET name = $3 WHERE mailbox_id = $1 AND name = $2",
                &[&mailbox.0, &name, &new],
            )
            .await?;
        }
    }
    let mut changes = Vec::with_capacity(moves.len());
    for (id, _) in &moves {
        changes.push(change_of(tx, FolderId(*id)).await?);
    }
    Ok(changes)
}

/// Deletes the folder and its messages (not the folders under it, nor its subscription).
pub(crate) async fn delete_folder(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    name: &str,
) -> Result<FolderChange> {
    let name = canonical_folder_name(name)?;
    if is_inbox(&name) {
        return Err(Error::invalid("delete", "INBOX cannot be deleted"));
    }
    lock_mailboxes(tx, &[mailbox]).await?;
    let folder = by_name(tx, mailbox, &name)
        .await?
        .ok_or_else(|| Error::not_found("folder to delete"))?
        .id;
    let change = change_of(tx, folder).await?;
    let gone = query(
        tx,
        "DELETE FROM messages WHERE mailbox_id = $1 AND folder_id = $2 RETURNING blob_id, size",
        &[&mailbox.0, &folder.0],
    )
    .await?;
    let mut blob_ids: Vec<i64> = gone.iter().map(|r| r.get(0)).collect();
    let bytes: i64 = gone.iter().map(|r| r.get::<_, i64>(1)).sum();
    let count = i64::try_from(gone.len()).unwrap_or(i64::MAX);
    execute(tx, "DELETE FROM folders WHERE id = $1", &[&folder.0]).await?;
    add_usage(tx, mailbox, -bytes, -count).await?;
    blob_ids.sort_unstable();
    blob_ids.dedup();
    delete_unreferenced(tx, &blob_ids).await?;
    Ok(change)
}

/// Idempotent.
pub(crate) async fn subscribe(tx: &Tx<'_>, mailbox: MailboxId, name: &str) -> Result<()> {
    let name = canonical_folder_name(name)?;
    if !mailbox_exists(tx, mailbox).await? {
        return Err(Error::not_found(format!("mailbox {}", mailbox.0)));
    }
    execute(
        tx,
        "INSERT INTO subscriptions (mailbox_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&mailbox.0, &name],
    )
    .await?;
    Ok(())
}

/// `NotFound` when the name is not subscribed.
pub(crate) async fn unsubscribe(tx: &Tx<'_>, mailbox: MailboxId, name: &str) -> Result<()> {
    let name = canonical_folder_name(name)?;
    let removed = execute(
        tx,
        "DELETE FROM subscriptions WHERE mailbox_id = $1 AND name = $2",
        &[&mailbox.0, &name],
    )
    .await?;
    if removed == 0 {
        return Err(Error::not_found("subscription"));
    }
    Ok(())
}

/// Subscribed names, sorted bytewise (as SQLite's default collation sorts them).
pub(crate) async fn subscriptions(tx: &Tx<'_>, mailbox: MailboxId) -> Result<Vec<String>> {
    if !mailbox_exists(tx, mailbox).await? {
        return Err(Error::not_found(format!("mailbox {}", mailbox.0)));
    }
    Ok(query(
        tx,
        "SELECT name FROM subscriptions WHERE mailbox_id = $1 ORDER BY name COLLATE \"C\"",
        &[&mailbox.0],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}
