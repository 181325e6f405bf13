//! Messages: delivery and append, flags (one message and STORE), expunge, COPY and MOVE, and
//! the reads (listings, bodies, heads, summaries, changes since a modseq).
//!
//! UIDs come from the folder's `uid_next`, which only grows (the UPDATE that takes one locks
//! the folder row), so a UID is never reused. Every change bumps the folder's `highest_modseq`.
//! Every write into a mailbox's folders first locks the mailbox row (see `folders`), which also
//! keeps the quota check and the usage counters exact under concurrent writers.

use tokio_postgres::Row;

use super::blobs::{Ready, delete_unreferenced, lock_for_share, store_bytes, whole};
use super::folders::{
    add_usage, by_id, ensure_room, inbox_of, lock_folder_mailbox, lock_mailboxes, mailbox_of,
};
use super::{Tx, execute, health_docs, i64_of, query, query_opt, u32_of, u64_of};
use crate::document_model::NewDocument;
use crate::error::{Error, Result};
use crate::flags::{is_seen, normalize_flags};
use crate::model::{
    Changes, CopyOutcome, Delivered, FlagOp, FlagUpdate, FlagsOutcome, FolderChange, FolderId,
    MailboxId, MessageMeta,
};
use crate::sqlite::flag_store::apply_flag_op;

/// Stores the bytes once and appends them to the INBOX of each distinct recipient; all or
/// nothing. Returns the blob too, for a queue entry of the same message to share.
pub(crate) async fn deliver(
    tx: &Tx<'_>,
    recipients: &[MailboxId],
    message: &Ready,
    internal_date: i64,
    documents: &[NewDocument],
) -> Result<(Vec<Delivered>, i64)> {
    let distinct = distinct_recipients(recipients)?;
    lock_mailboxes(tx, &distinct).await?;
    let size = message.size();
    let mut inboxes = Vec::with_capacity(distinct.len());
    for mailbox in &distinct {
        ensure_room(tx, *mailbox, size).await?;
        inboxes.push((*mailbox, inbox_of(tx, *mailbox).await?));
    }
    let blob = store_bytes(tx, message).await?;
    let mut delivered = Vec::with_capacity(inboxes.len());
    for (mailbox, folder) in inboxes {
        let entry = Entry {
            blob_id: blob,
            size,
            sha256: &message.sha256,
            flags: &[],
            internal_date,
        };
        let d = add_message(tx, mailbox, folder, &entry).await?;
        if !documents.is_empty() {
            // The SQLite store stamps the index rows with the message's internal date too.
            health_docs::index(tx, mailbox, folder, d.uid, documents, internal_date).await?;
        }
        delivered.push(d);
    }
    Ok((delivered, blob))
}

/// The recipients of a delivery, each once, in the order first named; at least one.
pub(crate) fn distinct_recipients(recipients: &[MailboxId]) -> Result<Vec<MailboxId>> {
    let mut distinct: Vec<MailboxId> = Vec::with_capacity(recipients.len());
    for r in recipients {
        if !distinct.contains(r) {
            distinct.push(*r);
        }
    }
    if distinct.is_empty() {
        return Err(Error::invalid("delivery", "it has no recipient"));
    }
    Ok(distinct)
}

/// Stores `message` in `folder` (the caller locked the folder's mailbox).
pub(crate) async fn append(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    folder: FolderId,
    message: &Ready,
    flags: &[String],
    internal_date: i64,
) -> Result<Delivered> {
    let flags = normalize_flags(flags)?;
    ensure_room(tx, mailbox, message.size()).await?;
    let blob = store_bytes(tx, message).await?;
    let entry = Entry {
        blob_id: blob,
        size: message.size(),
        sha256: &message.sha256,
        flags: &flags,
        internal_date,
    };
    add_message(tx, mailbox, folder, &entry).await
}

/// A folder entry to record.
struct Entry<'a> {
    blob_id: i64,
    size: u64,
    sha256: &'a str,
    flags: &'a [String],
    internal_date: i64,
}

/// Takes the next UID of `folder`, records the message under it and counts it in the usage.
async fn add_message(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    folder: FolderId,
    e: &Entry<'_>,
) -> Result<Delivered> {
    let row = query_opt(
        tx,
        "UPDATE folders SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 \
         WHERE id = $1 AND mailbox_id = $2 RETURNING uid_next - 1, highest_modseq",
        &[&folder.0, &mailbox.0],
    )
    .await?
    .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))?;
    let (uid, modseq): (i64, i64) = (row.get(0), row.get(1));
    let size = i64_of(e.size, "message size")?;
    execute(
        tx,
        "INSERT INTO messages (mailbox_id, folder_id, uid, modseq, blob_id, size, sha256, flags, \
         seen, internal_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &mailbox.0,
            &folder.0,
            &uid,
            &modseq,
            &e.blob_id,
            &size,
            &e.sha256,
            &e.flags,
            &is_seen(e.flags),
            &e.internal_date,
        ],
    )
    .await?;
    add_usage(tx, mailbox, size, 1).await?;
    Ok(Delivered {
        mailbox,
        folder,
        uid: u32_of(uid, "folders", "uid_next")?,
        modseq: u64_of(modseq, "folders", "highest_modseq")?,
    })
}

/// Gives the folder a new highest modseq and returns it.
async fn bump_modseq(tx: &Tx<'_>, folder: FolderId) -> Result<u64> {
    let row = query_opt(
        tx,
        "UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = $1 \
         RETURNING highest_modseq",
        &[&folder.0],
    )
    .await?
    .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))?;
    u64_of(row.get(0), "folders", "highest_modseq")
}

async fn write_flags(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    folder: FolderId,
    uid: u32,
    flags: &[String],
    modseq: u64,
) -> Result<()> {
    let modseq = i64_of(modseq, "modseq")?;
    execute(
        tx,
        "UPDATE messages SET flags = $4, seen = $5, modseq = $6 \
         WHERE mailbox_id = $1 AND folder_id = $2 AND uid = $3",
        &[
            &mailbox.0,
            &folder.0,
            &i64::from(uid),
            &flags,
            &is_seen(flags),
            &modseq,
        ],
    )
    .await?;
    Ok(())
}

/// A message's flags and modseq, the row locked for the update to come.
async fn flags_for_update(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    folder: FolderId,
    uid: u32,
) -> Result<Option<(Vec<String>, u64)>> {
    query_opt(
        tx,
        "SELECT flags, modseq FROM messages WHERE mailbox_id = $1 AND folder_id = $2 AND uid = $3 \
         FOR UPDATE",
        &[&mailbox.0, &folder.0, &i64::from(uid)],
    )
    .await?
    .map(|r| Ok((r.get(0), u64_of(r.get(1), "messages", "modseq")?)))
    .transpose()
}

/// Replaces the flags; unchanged flags keep the modseq (RFC 7162).
pub(crate) async fn set_flags(
    tx: &Tx<'_>,
    folder: FolderId,
    uid: u32,
    flags: &[String],
) -> Result<(u64, Option<FolderChange>)> {
    let flags = normalize_flags(flags)?;
    let mailbox = lock_folder_mailbox(tx, folder).await?;
    let (current, modseq) = flags_for_update(tx, mailbox, folder, uid)
        .await?
        .ok_or_else(|| Error::not_found(format!("message UID {uid} in folder {}", folder.0)))?;
    if current == flags {
        return Ok((modseq, None));
    }
    let modseq = bump_modseq(tx, folder).await?;
    write_flags(tx, mailbox, folder, uid, &flags, modseq).await?;
    Ok((
        modseq,
        Some(FolderChange {
            mailbox,
            folder,
            highest_modseq: modseq,
        }),
    ))
}

/// One STORE command; all messages changed share one new modseq.
pub(crate) async fn store_flags(
    tx: &Tx<'_>,
    folder: FolderId,
    uids: &[u32],
    op: FlagOp,
    flags: &[String],
    unchanged_since: Option<u64>,
) -> Result<(FlagsOutcome, Option<FolderChange>)> {
    let mailbox = lock_folder_mailbox(tx, folder).await?;
    let given = normalize_flags(flags)?;
    let mut outcome = FlagsOutcome::default();
    let mut new_modseq: Option<u64> = None;
    for uid in sorted(uids) {
        let Some((current, modseq)) = flags_for_update(tx, mailbox, folder, uid).await? else {
            continue;
        };
        if unchanged_since.is_some_and(|since| modseq > since) {
            outcome.modified.push(uid);
            continue;
        }
        let next = apply_flag_op(&current, op, &given)?;
        if next == current {
            outcome.updated.push(FlagUpdate {
                uid,
                modseq,
                flags: current,
            });
            continue;
        }
        let modseq = match new_modseq {
            Some(m) => m,
            None => *new_modseq.insert(bump_modseq(tx, folder).await?),
        };
        write_flags(tx, mailbox, folder, uid, &next, modseq).await?;
        outcome.updated.push(FlagUpdate {
            uid,
            modseq,
            flags: next,
        });
    }
    let change = new_modseq.map(|highest_modseq| FolderChange {
        mailbox,
        folder,
        highest_modseq,
    });
    Ok((outcome, change))
}

fn sorted(uids: &[u32]) -> Vec<u32> {
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    uids
}

/// What [`remove_messages`] took out.
pub(crate) struct Removed {
    pub uids: Vec<u32>,
    pub blob_ids: Vec<i64>,
    pub change: Option<FolderChange>,
}

/// Removes the given UIDs (the caller locked the mailbox); records them as expunged under one
/// new modseq and updates the usage. Leaves blobs alone.
async fn remove_messages(
    tx: &Tx<'_>,
    mailbox: MailboxId,
    folder: FolderId,
    uids: &[u32],
) -> Result<Removed> {
    let uids: Vec<i64> = sorted(uids).into_iter().map(i64::from).collect();
    let gone = query(
        tx,
        "DELETE FROM messages WHERE mailbox_id = $1 AND folder_id = $2 AND uid = ANY($3) \
         RETURNING uid, blob_id, size",
        &[&mailbox.0, &folder.0, &uids],
    )
    .await?;
    if gone.is_empty() {
        return Ok(Removed {
            uids: Vec::new(),
            blob_ids: Vec::new(),
            change: None,
        });
    }
    let mut removed: Vec<i64> = gone.iter().map(|r| r.get(0)).collect();
    removed.sort_unstable();
    let mut blob_ids: Vec<i64> = gone.iter().map(|r| r.get(1)).collect();
    blob_ids.sort_unstable();
    blob_ids.dedup();
    let bytes: i64 = gone.iter().map(|r| r.get::<_, i64>(2)).sum();
    let modseq = bump_modseq(tx, folder).await?;
    let stored = i64_of(modseq, "modseq")?;
    execute(
        tx,
        "INSERT INTO expunged (mailbox_id, folder_id, uid, modseq) \
         SELECT $1, $2, u, $4 FROM unnest($3::bigint[]) AS u \
         ON CONFLICT (mailbox_id, folder_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq",
        &[&mailbox.0, &folder.0, &removed, &stored],
    )
    .await?;
    let count = i64::try_from(removed.len()).unwrap_or(i64::MAX);
    add_usage(tx, mailbox, -bytes, -count).await?;
    Ok(Removed {
        uids: removed
            .into_iter()
            .map(|u| u32_of(u, "messages", "uid"))
            .collect::<Result<_>>()?,
        blob_ids,
        change: Some(FolderChange {
            mailbox,
            folder,
            highest_modseq: modseq,
        }),
    })
}

pub(crate) async fn expunge(
    tx: &Tx<'_>,
    folder: FolderId,
    uids: &[u32],
) -> Result<(Vec<u32>, Option<FolderChange>)> {
    let mailbox = lock_folder_mailbox(tx, folder).await?;
    let removed = remove_messages(tx, mailbox, folder, uids).await?;
    delete_unreferenced(tx, &removed.blob_ids).await?;
    Ok((removed.uids, removed.change))
}

/// A source message to copy.
struct Source {
    uid: u32,
    blob_id: i64,
    size: u64,
    sha256: String,
    flags: Vec<String>,
    internal_date: i64,
}

/// COPY (`moving` false) or MOVE: the entries in `to` share the sources' blobs. The quota is
/// checked unless a move stays within one mailbox.
pub(crate) async fn copy_or_move(
    tx: &Tx<'_>,
    from: FolderId,
    uids: &[u32],
    to: FolderId,
    moving: bool,
) -> Result<(CopyOutcome, Vec<FolderChange>)> {
    let source_mailbox = mailbox_of(tx, from).await?;
    let destination = by_id(tx, to)
        .await?
        .ok_or_else(|| Error::not_found(format!("folder {}", to.0)))?;
    lock_mailboxes(tx, &[source_mailbox, destination.mailbox]).await?;
    let uids: Vec<i64> = sorted(uids).into_iter().map(i64::from).collect();
    let sources = query(
        tx,
        "SELECT uid, blob_id, size, sha256, flags, internal_date FROM messages \
         WHERE mailbox_id = $1 AND folder_id = $2 AND uid = ANY($3) ORDER BY uid",
        &[&source_mailbox.0, &from.0, &uids],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Source {
            uid: u32_of(r.get(0), "messages", "uid")?,
            blob_id: r.get(1),
            size: u64_of(r.get(2), "messages", "size")?,
            sha256: r.get(3),
            flags: r.get(4),
            internal_date: r.get(5),
        })
    })
    .collect::<Result<Vec<Source>>>()?;
    let same_mailbox = source_mailbox == destination.mailbox;
    let check_quota = !(moving && same_mailbox);
    if check_quota && !sources.is_empty() {
        let needed = sources
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(s.size));
        ensure_room(tx, destination.mailbox, needed).await?;
    }
    lock_for_share(tx, &sources.iter().map(|s| s.blob_id).collect::<Vec<_>>()).await?;
    let mut pairs = Vec::with_capacity(sources.len());
    let mut last_modseq = None;
    for s in &sources {
        let entry = Entry {
            blob_id: s.blob_id,
            size: s.size,
            sha256: &s.sha256,
            flags: &s.flags,
            internal_date: s.internal_date,
        };
        let d = add_message(tx, destination.mailbox, to, &entry).await?;
        pairs.push((s.uid, d.uid));
        last_modseq = Some(d.modseq);
    }
    let mut changes: Vec<FolderChange> = last_modseq
        .map(|highest_modseq| FolderChange {
            mailbox: destination.mailbox,
            folder: to,
            highest_modseq,
        })
        .into_iter()
        .collect();
    if moving {
        if same_mailbox {
            health_docs::follow_move(tx, source_mailbox, from, to, &pairs).await?;
        }
        let copied: Vec<u32> = pairs.iter().map(|(source, _)| *source).collect();
        let removed = remove_messages(tx, source_mailbox, from, &copied).await?;
        changes.extend(removed.change);
    }
    Ok((
        CopyOutcome {
            uid_validity: destination.uid_validity,
            pairs,
        },
        changes,
    ))
}

// --- reads ---

/// The mailbox of folder `$1`: every message query names it, so the primary key
/// `(mailbox_id, folder_id, uid)` serves it.
const MAILBOX_OF_FOLDER: &str = "(SELECT mailbox_id FROM folders WHERE id = $1)";

const META_COLUMNS: &str = "uid, modseq, flags, size, internal_date, sha256";

fn meta_of_row(r: &Row) -> Result<MessageMeta> {
    Ok(MessageMeta {
        uid: u32_of(r.get(0), "messages", "uid")?,
        modseq: u64_of(r.get(1), "messages", "modseq")?,
        flags: r.get(2),
        size: u64_of(r.get(3), "messages", "size")?,
        internal_date: r.get(4),
        sha256: r.get(5),
    })
}

pub(crate) async fn list(tx: &Tx<'_>, folder: FolderId) -> Result<Vec<MessageMeta>> {
    let mailbox = mailbox_of(tx, folder).await?;
    let sql = format!(
        "SELECT {META_COLUMNS} FROM messages WHERE mailbox_id = $1 AND folder_id = $2 ORDER BY uid"
    );
    query(tx, &sql, &[&mailbox.0, &folder.0])
        .await?
        .iter()
        .map(meta_of_row)
        .collect()
}

pub(crate) async fn meta(tx: &Tx<'_>, folder: FolderId, uid: u32) -> Result<Option<MessageMeta>> {
    let sql = format!(
        "SELECT {META_COLUMNS} FROM messages WHERE mailbox_id = {MAILBOX_OF_FOLDER} \
         AND folder_id = $1 AND uid = $2"
    );
    query_opt(tx, &sql, &[&folder.0, &i64::from(uid)])
        .await?
        .as_ref()
        .map(meta_of_row)
        .transpose()
}

pub(crate) async fn changes_since(tx: &Tx<'_>, folder: FolderId, since: u64) -> Result<Changes> {
    let current = by_id(tx, folder)
        .await?
        .ok_or_else(|| Error::not_found(format!("folder {}", folder.0)))?;
    if current.highest_modseq <= since {
        return Ok(Changes {
            folder: current,
            changed: Vec::new(),
            expunged: Vec::new(),
        });
    }
    let since = i64_of(since, "modseq")?;
    let sql = format!(
        "SELECT {META_COLUMNS} FROM messages \
         WHERE mailbox_id = $1 AND folder_id = $2 AND modseq > $3 ORDER BY uid"
    );
    let changed = query(tx, &sql, &[&current.mailbox.0, &folder.0, &since])
        .await?
        .iter()
        .map(meta_of_row)
        .collect::<Result<_>>()?;
    let expunged = query(
        tx,
        "SELECT uid FROM expunged WHERE mailbox_id = $1 AND folder_id = $2 AND modseq > $3 \
         ORDER BY uid",
        &[&current.mailbox.0, &folder.0, &since],
    )
    .await?
    .iter()
    .map(|r| u32_of(r.get(0), "expunged", "uid"))
    .collect::<Result<_>>()?;
    Ok(Changes {
        folder: current,
        changed,
        expunged,
    })
}

/// Whole messages of `uids` (those that exist), UID order.
pub(crate) async fn bodies(
    tx: &Tx<'_>,
    folder: FolderId,
    uids: &[u32],
) -> Result<Vec<(u32, Vec<u8>)>> {
    let uids: Vec<i64> = sorted(uids).into_iter().map(i64::from).collect();
    query(
        tx,
        "SELECT m.uid, b.bytes, b.location FROM messages m JOIN blobs b ON b.id = m.blob_id \
         WHERE m.mailbox_id = (SELECT mailbox_id FROM folders WHERE id = $1) \
         AND m.folder_id = $1 AND m.uid = ANY($2) ORDER BY m.uid",
        &[&folder.0, &uids],
    )
    .await?
    .into_iter()
    .map(|r| {
        Ok((
            u32_of(r.get(0), "messages", "uid")?,
            whole(r.get(1), r.get(2))?,
        ))
    })
    .collect()
}

/// The head of each message (today the whole message: every blob is inline), UID order.
pub(crate) async fn heads(
    tx: &Tx<'_>,
    folder: FolderId,
    uids: &[u32],
) -> Result<Vec<(u32, Vec<u8>)>> {
    let uids: Vec<i64> = sorted(uids).into_iter().map(i64::from).collect();
    query(
        tx,
        "SELECT m.uid, b.bytes FROM messages m JOIN blobs b ON b.id = m.blob_id \
         WHERE m.mailbox_id = (SELECT mailbox_id FROM folders WHERE id = $1) \
         AND m.folder_id = $1 AND m.uid = ANY($2) ORDER BY m.uid",
        &[&folder.0, &uids],
    )
    .await?
    .into_iter()
    .map(|r| Ok((u32_of(r.get(0), "messages", "uid")?, r.get(1))))
    .collect()
}

/// The listing summaries of `uids` (those that have one), UID order.
pub(crate) async fn summaries(
    tx: &Tx<'_>,
    folder: FolderId,
    uids: &[u32],
) -> Result<Vec<(u32, Vec<u8>)>> {
    let uids: Vec<i64> = sorted(uids).into_iter().map(i64::from).collect();
    query(
        tx,
        "SELECT m.uid, s.summary FROM messages m JOIN blob_summaries s ON s.blob_id = m.blob_id \
         WHERE m.mailbox_id = (SELECT mailbox_id FROM folders WHERE id = $1) \
         AND m.folder_id = $1 AND m.uid = ANY($2) ORDER BY m.uid",
        &[&folder.0, &uids],
    )
    .await?
    .into_iter()
    .map(|r| Ok((u32_of(r.get(0), "messages", "uid")?, r.get(1))))
    .collect()
}
