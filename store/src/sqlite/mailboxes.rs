//! Mailbox rows: creation with default folders, lookups, status, removal.

use mssd_core::{Address, MailboxKind};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::blobs::delete_unreferenced_blobs;
use super::connection::{DbResult, is_unique_violation};
use super::convert::{i64_from_u64, u64_from_i64};
use super::folders::create_default_folders;
use crate::error::{Error, Result};
use crate::model::{Mailbox, MailboxId, MailboxStatus, NewMailbox};

const COLUMNS: &str = "id, address_text, kind, display_name, owner_id_nat, password_hash, \
                       certificate_dn, quota_bytes, status, created_at";

pub(crate) fn create_mailbox(conn: &Connection, m: &NewMailbox, now: i64) -> Result<Mailbox> {
    let canonical = m.address.canonical();
    if mailbox_id(conn, &canonical)?.is_some() {
        return Err(Error::AlreadyExists {
            what: "a mailbox with this address".to_owned(),
        });
    }
    if let Some(dn) = &m.certificate_dn
        && by_certificate_dn(conn, dn)?.is_some()
    {
        return Err(Error::AlreadyExists {
            what: "a mailbox bound to this certificate DN".to_owned(),
        });
    }
    let quota = m
        .quota_bytes
        .map(|q| i64_from_u64(q, "quota_bytes"))
        .transpose()?;
    let status = MailboxStatus::Active;
    conn.prepare_cached(
        "INSERT INTO mailboxes (address, address_text, kind, display_name, owner_id_nat, \
         password_hash, certificate_dn, quota_bytes, status, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            canonical,
            m.address.as_str(),
            m.kind.as_str(),
            m.display_name,
            m.owner_id_nat,
            m.password_hash,
            m.certificate_dn,
            quota,
            status.as_str(),
            now,
        ])
    })
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::AlreadyExists {
                what: "a mailbox with this address or certificate DN".to_owned(),
            }
        } else {
            Error::Sqlite(format!("inserting a mailbox: {e}"))
        }
    })?;
    let id = MailboxId(conn.last_insert_rowid());
    create_default_folders(conn, id, now)?;
    Ok(Mailbox {
        id,
        address: m.address.clone(),
        kind: m.kind,
        display_name: m.display_name.clone(),
        owner_id_nat: m.owner_id_nat.clone(),
        password_hash: m.password_hash.clone(),
        certificate_dn: m.certificate_dn.clone(),
        quota_bytes: m.quota_bytes,
        status,
        created_at: now,
    })
}

pub(crate) fn mailbox_id(conn: &Connection, canonical: &str) -> Result<Option<MailboxId>> {
    conn.prepare_cached("SELECT id FROM mailboxes WHERE address = ?1")
        .and_then(|mut stmt| stmt.query_row([canonical], |r| r.get(0)).optional())
        .db("looking up a mailbox id")
        .map(|id| id.map(MailboxId))
}

pub(crate) fn by_address(conn: &Connection, address: &Address) -> Result<Option<Mailbox>> {
    query_one(conn, "address = ?1", &address.canonical())
}

pub(crate) fn by_certificate_dn(conn: &Connection, dn: &str) -> Result<Option<Mailbox>> {
    query_one(conn, "certificate_dn = ?1", dn)
}

pub(crate) fn by_owner(conn: &Connection, id_nat_ps: &str) -> Result<Vec<Mailbox>> {
    query_many(conn, "owner_id_nat = ?1", Some(id_nat_ps))
}

pub(crate) fn list(conn: &Connection) -> Result<Vec<Mailbox>> {
    query_many(conn, "1 = 1", None)
}

pub(crate) fn set_status(
    conn: &Connection,
    address: &Address,
    status: MailboxStatus,
) -> Result<()> {
    let changed = conn
        .prepare_cached("UPDATE mailboxes SET status = ?2 WHERE address = ?1")
        .and_then(|mut stmt| stmt.execute(params![address.canonical(), status.as_str()]))
        .db("updating a mailbox status")?;
    if changed == 0 {
        return Err(Error::not_found("mailbox"));
    }
    Ok(())
}

/// Deletes the mailbox; folders and messages go by cascade, then their now unused blobs.
pub(crate) fn remove(conn: &Connection, address: &Address) -> Result<()> {
    let id = mailbox_id(conn, &address.canonical())?.ok_or_else(|| Error::not_found("mailbox"))?;
    let blob_ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT DISTINCT m.blob_id FROM messages m JOIN folders f ON f.id = m.folder_id \
             WHERE f.mailbox_id = ?1",
        )
        .and_then(|mut stmt| stmt.query_map([id.0], |r| r.get(0))?.collect())
        .db("listing the blobs of a mailbox")?;
    conn.prepare_cached("DELETE FROM mailboxes WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([id.0]))
        .db("deleting a mailbox")?;
    delete_unreferenced_blobs(conn, &blob_ids)
}

fn query_one(conn: &Connection, filter: &str, value: &str) -> Result<Option<Mailbox>> {
    let sql = format!("SELECT {COLUMNS} FROM mailboxes WHERE {filter}");
    let raw = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| stmt.query_row([value], raw_row).optional())
        .db("reading a mailbox")?;
    raw.map(RawMailbox::into_mailbox).transpose()
}

fn query_many(conn: &Connection, filter: &str, value: Option<&str>) -> Result<Vec<Mailbox>> {
    let sql = format!("SELECT {COLUMNS} FROM mailboxes WHERE {filter} ORDER BY id");
    let raws: Vec<RawMailbox> = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| match value {
            Some(v) => stmt.query_map([v], raw_row)?.collect(),
            None => stmt.query_map([], raw_row)?.collect(),
        })
        .db("reading mailboxes")?;
    raws.into_iter().map(RawMailbox::into_mailbox).collect()
}

/// A row as SQLite holds it, before the domain types check it.
struct RawMailbox {
    id: i64,
    address: String,
    kind: String,
    display_name: Option<String>,
    owner_id_nat: Option<String>,
    password_hash: Option<String>,
    certificate_dn: Option<String>,
    quota_bytes: Option<i64>,
    status: String,
    created_at: i64,
}

fn raw_row(r: &Row<'_>) -> rusqlite::Result<RawMailbox> {
    Ok(RawMailbox {
        id: r.get(0)?,
        address: r.get(1)?,
        kind: r.get(2)?,
        display_name: r.get(3)?,
        owner_id_nat: r.get(4)?,
        password_hash: r.get(5)?,
        certificate_dn: r.get(6)?,
        quota_bytes: r.get(7)?,
        status: r.get(8)?,
        created_at: r.get(9)?,
    })
}

impl RawMailbox {
    fn into_mailbox(self) -> Result<Mailbox> {
        let where_ = |field: &str| format!("mailbox {} has an unreadable {field}", self.id);
        let address = Address::parse(&self.address)
            .map_err(|_| Error::corrupt("mailboxes", where_("address")))?;
        let kind = MailboxKind::parse(&self.kind)
            .map_err(|_| Error::corrupt("mailboxes", where_("kind")))?;
        let status = MailboxStatus::parse(&self.status)
            .ok_or_else(|| Error::corrupt("mailboxes", where_("status")))?;
        let quota_bytes = self
            .quota_bytes
            .map(|q| u64_from_i64(q, "mailboxes", "quota_bytes"))
            .transpose()?;
        Ok(Mailbox {
            id: MailboxId(self.id),
            address,
            kind,
            display_name: self.display_name,
            owner_id_nat: self.owner_id_nat,
            password_hash: self.password_hash,
            certificate_dn: self.certificate_dn,
            quota_bytes,
            status,
            created_at: self.created_at,
        })
    }
}
