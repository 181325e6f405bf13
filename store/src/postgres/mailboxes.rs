//! Mailbox rows: creation with default folders, lookups, status, removal.

use deadpool_postgres::GenericClient;
use mssd_core::{Address, MailboxKind};
use tokio_postgres::Row;

use super::PgResult;
use super::blobs::delete_unreferenced;
use super::folders::create_default_folders;
use super::{Tx, execute, i64_of, is_unique_violation, pg_error, query, query_opt, u64_of};
use crate::error::{Error, Result};
use crate::model::{Mailbox, MailboxId, MailboxStatus, NewMailbox};

const COLUMNS: &str = "id, address_text, kind, display_name, owner_id_nat, password_hash, \
                       certificate_dn, quota_bytes, status, created_at";

pub(crate) async fn create(tx: &Tx<'_>, m: &NewMailbox, now: i64) -> Result<Mailbox> {
    let canonical = m.address.canonical();
    if mailbox_id(tx, &canonical).await?.is_some() {
        return Err(Error::AlreadyExists {
            what: "a mailbox with this address".to_owned(),
        });
    }
    if let Some(dn) = &m.certificate_dn
        && by_certificate_dn(tx, dn).await?.is_some()
    {
        return Err(Error::AlreadyExists {
            what: "a mailbox bound to this certificate DN".to_owned(),
        });
    }
    let quota = m
        .quota_bytes
        .map(|q| i64_of(q, "quota_bytes"))
        .transpose()?;
    let status = MailboxStatus::Active;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO mailboxes (address, address_text, kind, display_name, owner_id_nat, \
             password_hash, certificate_dn, quota_bytes, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .await
        .map_err(|e| pg_error("preparing a mailbox insert", &e))?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &canonical,
                &m.address.as_str(),
                &m.kind.as_str(),
                &m.display_name,
                &m.owner_id_nat,
                &m.password_hash,
                &m.certificate_dn,
                &quota,
                &status.as_str(),
                &now,
            ],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::AlreadyExists {
                    what: "a mailbox with this address or certificate DN".to_owned(),
                }
            } else {
                pg_error("inserting a mailbox", &e)
            }
        })?;
    let id = MailboxId(row.get(0));
    create_default_folders(tx, id).await?;
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

pub(crate) async fn mailbox_id(tx: &Tx<'_>, canonical: &str) -> Result<Option<MailboxId>> {
    Ok(query_opt(
        tx,
        "SELECT id FROM mailboxes WHERE address = $1",
        &[&canonical],
    )
    .await?
    .map(|r| MailboxId(r.get(0))))
}

pub(crate) async fn by_owner(tx: &Tx<'_>, id_nat_ps: &str) -> Result<Vec<Mailbox>> {
    let sql = format!("SELECT {COLUMNS} FROM mailboxes WHERE owner_id_nat = $1 ORDER BY id");
    query(tx, &sql, &[&id_nat_ps])
        .await?
        .iter()
        .map(mailbox_of_row)
        .collect()
}

pub(crate) async fn list(tx: &Tx<'_>) -> Result<Vec<Mailbox>> {
    let sql = format!("SELECT {COLUMNS} FROM mailboxes ORDER BY id");
    query(tx, &sql, &[])
        .await?
        .iter()
        .map(mailbox_of_row)
        .collect()
}

pub(crate) async fn set_status(
    tx: &Tx<'_>,
    address: &Address,
    status: MailboxStatus,
) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE mailboxes SET status = $2 WHERE address = $1",
        &[&address.canonical(), &status.as_str()],
    )
    .await?;
    if changed == 0 {
        return Err(Error::not_found("mailbox"));
    }
    Ok(())
}

/// Deletes the mailbox; folders and messages go by cascade, then their now unused blobs.
pub(crate) async fn remove(tx: &Tx<'_>, address: &Address) -> Result<()> {
    let id = mailbox_id(tx, &address.canonical())
        .await?
        .ok_or_else(|| Error::not_found("mailbox"))?;
    super::folders::lock_mailboxes(tx, &[id]).await?;
    let blob_ids: Vec<i64> = query(
        tx,
        "SELECT DISTINCT blob_id FROM messages WHERE mailbox_id = $1",
        &[&id.0],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    execute(tx, "DELETE FROM mailboxes WHERE id = $1", &[&id.0]).await?;
    delete_unreferenced(tx, &blob_ids).await
}

/// One mailbox by a unique column, in one statement: in a transaction, or outside any on a
/// pooled connection — a single-row read needs no snapshot, and the lookups of every RCPT and
/// login then take one round trip instead of BEGIN, SELECT, COMMIT.
async fn one(client: &impl GenericClient, filter: &str, value: &str) -> Result<Option<Mailbox>> {
    let sql = format!("SELECT {COLUMNS} FROM mailboxes WHERE {filter}");
    let stmt = client
        .prepare_cached(&sql)
        .await
        .pg("preparing a statement")?;
    client
        .query_opt(&stmt, &[&value])
        .await
        .pg("reading a mailbox")?
        .as_ref()
        .map(mailbox_of_row)
        .transpose()
}

pub(crate) async fn by_address(
    client: &impl GenericClient,
    address: &Address,
) -> Result<Option<Mailbox>> {
    one(client, "address = $1", &address.canonical()).await
}

pub(crate) async fn by_certificate_dn(
    client: &impl GenericClient,
    dn: &str,
) -> Result<Option<Mailbox>> {
    one(client, "certificate_dn = $1", dn).await
}

fn mailbox_of_row(r: &Row) -> Result<Mailbox> {
    let id: i64 = r.get(0);
    let where_ = |field: &str| format!("mailbox {id} has an unreadable {field}");
    let address = Address::parse(r.get::<_, &str>(1))
        .map_err(|_| Error::corrupt("mailboxes", where_("address")))?;
    let kind = MailboxKind::parse(r.get::<_, &str>(2))
        .map_err(|_| Error::corrupt("mailboxes", where_("kind")))?;
    let status = MailboxStatus::parse(r.get::<_, &str>(8))
        .ok_or_else(|| Error::corrupt("mailboxes", where_("status")))?;
    let quota_bytes = r
        .get::<_, Option<i64>>(7)
        .map(|q| u64_of(q, "mailboxes", "quota_bytes"))
        .transpose()?;
    Ok(Mailbox {
        id: MailboxId(id),
        address,
        kind,
        display_name: r.get(3),
        owner_id_nat: r.get(4),
        password_hash: r.get(5),
        certificate_dn: r.get(6),
        quota_bytes,
        status,
        created_at: r.get(9),
    })
}
