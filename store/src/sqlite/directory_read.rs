//! Reading the national directory: the generation in force, lookups, pages, and the diff of a
//! generation being built against the one in force.

use mssd_core::{Address, MailboxKind};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::connection::DbResult;
use super::convert::{sql_limit, u64_from_i64};
use super::directory_write::{building_set, main_table};
use crate::directory_model::{
    ActivitySite, DirectoryDiff, DirectoryGeneration, DirectoryMailbox, DirectoryProfessional,
    DirectorySet, DirectorySetStatus, ProfessionalIdentity,
};
use crate::error::{Error, Result};

const CURRENT_MAILBOXES: &str =
    "(SELECT id FROM directory_generations WHERE set_name = 'mailboxes' AND state = 'current')";
const CURRENT_PROFESSIONALS: &str = "(SELECT id FROM directory_generations \
     WHERE set_name = 'professionals' AND state = 'current')";
const MAILBOX_COLUMNS: &str = "address, kind, id_nat_ps, structure_id, structure_name, service, \
     civility, last_name, first_name, profession, specialty, postal_code, city, red_listed";

pub(crate) fn status(conn: &Connection) -> Result<Vec<DirectorySetStatus>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, set_name, entries, committed_at, source FROM directory_generations \
             WHERE state = 'current' ORDER BY set_name",
        )
        .db("reading the directory status")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .db("reading the directory status")?;
    let mut out = Vec::new();
    for row in rows {
        let (id, set, entries, committed_at, source) = row.db("reading the directory status")?;
        let set = DirectorySet::parse(&set).ok_or_else(|| {
            Error::corrupt("directory_generations", format!("unknown set name {set:?}"))
        })?;
        out.push(DirectorySetStatus {
            set,
            generation: DirectoryGeneration(id),
            entries: u64_from_i64(entries.unwrap_or(0), "directory_generations", "entries")?,
            imported_at: committed_at.unwrap_or(0),
            source: source.unwrap_or_default(),
        });
    }
    Ok(out)
}

pub(crate) fn mailbox(conn: &Connection, address: &Address) -> Result<Option<DirectoryMailbox>> {
    conn.prepare_cached(&format!(
        "SELECT {MAILBOX_COLUMNS} FROM directory_mailboxes \
         WHERE generation = {CURRENT_MAILBOXES} AND address_key = ?1"
    ))
    .and_then(|mut stmt| {
        stmt.query_row([address.canonical()], raw_mailbox)
            .optional()
    })
    .db("reading a directory mailbox")?
    .map(RawMailbox::into_mailbox)
    .transpose()
}

pub(crate) fn mailboxes(
    conn: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<DirectoryMailbox>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {MAILBOX_COLUMNS} FROM directory_mailboxes \
             WHERE generation = {CURRENT_MAILBOXES} AND address_key > ?1 \
             ORDER BY address_key LIMIT ?2"
        ))
        .db("reading directory mailboxes")?;
    let rows = stmt
        .query_map(params![after.unwrap_or(""), sql_limit(limit)], raw_mailbox)
        .db("reading directory mailboxes")?;
    rows.map(|row| row.db("reading directory mailboxes")?.into_mailbox())
        .collect()
}

pub(crate) fn professional(
    conn: &Connection,
    id_nat_ps: &str,
) -> Result<Option<DirectoryProfessional>> {
    let identity = conn
        .prepare_cached(&format!(
            "SELECT id_nat_ps, civility, last_name, first_name, profession_code, profession \
             FROM directory_professionals WHERE generation = {CURRENT_PROFESSIONALS} \
             AND id_nat_ps = ?1"
        ))
        .and_then(|mut stmt| {
            stmt.query_row([id_nat_ps], |r| {
                Ok(ProfessionalIdentity {
                    id_nat_ps: r.get(0)?,
                    civility: r.get(1)?,
                    last_name: r.get(2)?,
                    first_name: r.get(3)?,
                    profession_code: r.get(4)?,
                    profession: r.get(5)?,
                })
            })
            .optional()
        })
        .db("reading a directory professional")?;
    let Some(identity) = identity else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT specialty, practice_mode, siret, finess, structure_id, structure_name, \
             postal_code, city, sector FROM directory_activities \
             WHERE generation = {CURRENT_PROFESSIONALS} AND id_nat_ps = ?1 ORDER BY rowid"
        ))
        .db("reading directory activities")?;
    let sites = stmt
        .query_map([id_nat_ps], |r| {
            Ok(ActivitySite {
                specialty: r.get(0)?,
                practice_mode: r.get(1)?,
                siret: r.get(2)?,
                finess: r.get(3)?,
                structure_id: r.get(4)?,
                structure_name: r.get(5)?,
                postal_code: r.get(6)?,
                city: r.get(7)?,
                sector: r.get(8)?,
            })
        })
        .db("reading directory activities")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db("reading directory activities")?;
    Ok(Some(DirectoryProfessional { identity, sites }))
}

pub(crate) fn red_listed(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare_cached("SELECT address_key FROM directory_red_list ORDER BY address_key")
        .db("reading the red list")?;
    stmt.query_map([], |r| r.get(0))
        .db("reading the red list")?
        .collect::<rusqlite::Result<Vec<String>>>()
        .db("reading the red list")
}

/// Compares a generation being built with the one in force.
pub(crate) fn diff(
    conn: &Connection,
    generation: DirectoryGeneration,
    sample: usize,
) -> Result<DirectoryDiff> {
    let set = building_set(conn, generation)?;
    let current: i64 = conn
        .prepare_cached(
            "SELECT id FROM directory_generations WHERE set_name = ?1 AND state = 'current'",
        )
        .and_then(|mut stmt| stmt.query_row([set.as_str()], |r| r.get(0)).optional())
        .db("reading the directory generation in force")?
        // No generation in force: compare with an empty one (ids start at 1).
        .unwrap_or(0);
    let table = main_table(set);
    let (key, shown) = match set {
        DirectorySet::Mailboxes => ("address_key", "address"),
        DirectorySet::Professionals => ("id_nat_ps", "id_nat_ps"),
    };
    let count = |generation: i64| -> Result<(u64, u64)> {
        let (rows, lines): (i64, i64) = conn
            .query_row(
                &format!(
                    "SELECT count(*), coalesce(sum(lines), 0) FROM {table} WHERE generation = ?1"
                ),
                [generation],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .db("counting a directory generation")?;
        Ok((
            u64_from_i64(rows, table, "count")?,
            u64_from_i64(lines, table, "lines")?,
        ))
    };
    let (next, lines) = count(generation.0)?;
    let (previous, _) = count(current)?;
    let only_in = format!(
        "SELECT a.{shown} FROM {table} a WHERE a.generation = ?1 AND NOT EXISTS \
         (SELECT 1 FROM {table} b WHERE b.generation = ?2 AND b.{key} = a.{key}) ORDER BY a.{key}"
    );
    let (added, added_sample) = count_and_sample(conn, &only_in, generation.0, current, sample)?;
    let (removed, removed_sample) =
        count_and_sample(conn, &only_in, current, generation.0, sample)?;
    let changed_query = format!(
        "SELECT a.{shown} FROM {table} a JOIN {table} b ON b.generation = ?2 AND b.{key} = a.{key} \
         WHERE a.generation = ?1 AND a.digest <> b.digest ORDER BY a.{key}"
    );
    let (changed, changed_sample) =
        count_and_sample(conn, &changed_query, generation.0, current, sample)?;
    Ok(DirectoryDiff {
        set: Some(set),
        previous,
        next,
        lines,
        added,
        removed,
        changed,
        added_sample,
        removed_sample,
        changed_sample,
    })
}

/// Runs a one-column query, counting every row and keeping the first `sample`.
fn count_and_sample(
    conn: &Connection,
    sql: &str,
    a: i64,
    b: i64,
    sample: usize,
) -> Result<(u64, Vec<String>)> {
    let mut stmt = conn.prepare(sql).db("comparing directory generations")?;
    let mut rows = stmt
        .query(params![a, b])
        .db("comparing directory generations")?;
    let mut count = 0u64;
    let mut kept = Vec::new();
    while let Some(row) = rows.next().db("comparing directory generations")? {
        count += 1;
        if kept.len() < sample {
            kept.push(row.get(0).db("comparing directory generations")?);
        }
    }
    Ok((count, kept))
}

/// A mailbox row before its address and kind are parsed.
struct RawMailbox {
    address: String,
    kind: String,
    rest: DirectoryMailboxFields,
}

struct DirectoryMailboxFields {
    id_nat_ps: Option<String>,
    structure_id: Option<String>,
    structure_name: Option<String>,
    service: Option<String>,
    civility: Option<String>,
    last_name: Option<String>,
    first_name: Option<String>,
    profession: Option<String>,
    specialty: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    red_listed: bool,
}

fn raw_mailbox(r: &Row<'_>) -> rusqlite::Result<RawMailbox> {
    Ok(RawMailbox {
        address: r.get(0)?,
        kind: r.get(1)?,
        rest: DirectoryMailboxFields {
            id_nat_ps: r.get(2)?,
            structure_id: r.get(3)?,
            structure_name: r.get(4)?,
            service: r.get(5)?,
            civility: r.get(6)?,
            last_name: r.get(7)?,
            first_name: r.get(8)?,
            profession: r.get(9)?,
            specialty: r.get(10)?,
            postal_code: r.get(11)?,
            city: r.get(12)?,
            red_listed: r.get(13)?,
        },
    })
}

impl RawMailbox {
    fn into_mailbox(self) -> Result<DirectoryMailbox> {
        let address = Address::parse(&self.address)
            .map_err(|e| Error::corrupt("directory_mailboxes", format!("address: {e}")))?;
        let kind = MailboxKind::parse(&self.kind)
            .map_err(|e| Error::corrupt("directory_mailboxes", format!("kind: {e}")))?;
        let f = self.rest;
        Ok(DirectoryMailbox {
            address,
            kind,
            id_nat_ps: f.id_nat_ps,
            structure_id: f.structure_id,
            structure_name: f.structure_name,
            service: f.service,
            civility: f.civility,
            last_name: f.last_name,
            first_name: f.first_name,
            profession: f.profession,
            specialty: f.specialty,
            postal_code: f.postal_code,
            city: f.city,
            red_listed: f.red_listed,
        })
    }
}
