//! Rights on a mailbox granted to another mailbox (shared ORG mailboxes, send-as).

use mssd_core::Address;
use rusqlite::{Connection, params};

use super::connection::DbResult;
use super::mailboxes::mailbox_id;
use crate::error::{Error, Result};
use crate::model::{Grant, Rights};

fn id_of(conn: &Connection, address: &Address, role: &str) -> Result<i64> {
    mailbox_id(conn, &address.canonical())?
        .map(|id| id.0)
        .ok_or_else(|| Error::not_found(format!("{role} mailbox")))
}

/// Sets `grantee`'s rights on `mailbox` (replacing earlier ones).
pub(crate) fn grant(
    conn: &Connection,
    mailbox: &Address,
    grantee: &Address,
    rights: Rights,
    now: i64,
) -> Result<()> {
    let mailbox_id = id_of(conn, mailbox, "granted")?;
    let grantee_id = id_of(conn, grantee, "grantee")?;
    if mailbox_id == grantee_id {
        return Err(Error::invalid(
            "grant",
            "a mailbox cannot be granted to itself",
        ));
    }
    conn.prepare_cached(
        "INSERT INTO mailbox_grants (mailbox_id, grantee_id, rights, granted_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (mailbox_id, grantee_id) DO UPDATE SET rights = excluded.rights, granted_at = excluded.granted_at",
    )
    .and_then(|mut stmt| stmt.execute(params![mailbox_id, grantee_id, rights.code(), now]))
    .db("granting rights on a mailbox")?;
    Ok(())
}

pub(crate) fn revoke(conn: &Connection, mailbox: &Address, grantee: &Address) -> Result<()> {
    let mailbox_id = id_of(conn, mailbox, "granted")?;
    let grantee_id = id_of(conn, grantee, "grantee")?;
    let changed = conn
        .prepare_cached("DELETE FROM mailbox_grants WHERE mailbox_id = ?1 AND grantee_id = ?2")
        .and_then(|mut stmt| stmt.execute(params![mailbox_id, grantee_id]))
        .db("revoking rights on a mailbox")?;
    if changed == 0 {
        return Err(Error::not_found("grant".to_owned()));
    }
    Ok(())
}

/// Grants on `mailbox` (`on = true`) or held by `mailbox` (`on = false`).
pub(crate) fn list(conn: &Connection, mailbox: &Address, on: bool) -> Result<Vec<Grant>> {
    let id = id_of(conn, mailbox, if on { "granted" } else { "grantee" })?;
    let filter = if on { "g.mailbox_id" } else { "g.grantee_id" };
    let sql = format!(
        "SELECT m.address_text, e.address_text, g.rights, g.granted_at FROM mailbox_grants g \
         JOIN mailboxes m ON m.id = g.mailbox_id JOIN mailboxes e ON e.id = g.grantee_id \
         WHERE {filter} = ?1 ORDER BY m.address, e.address"
    );
    let rows: Vec<(String, String, String, i64)> = conn
        .prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        })
        .db("listing grants")?;
    rows.into_iter()
        .map(|(mailbox, grantee, rights, granted_at)| {
            let parse = |a: &str| {
                Address::parse(a).map_err(|_| Error::corrupt("mailboxes", "unreadable address"))
            };
            Ok(Grant {
                mailbox: parse(&mailbox)?,
                grantee: parse(&grantee)?,
                rights: Rights::from_code(&rights),
                granted_at,
            })
        })
        .collect()
}
