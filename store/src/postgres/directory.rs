//! The national directory on PostgreSQL, with the SQLite store's semantics (see
//! `crate::sqlite::directory_write` and `directory_read`): each import fills a generation in
//! chunks (one commit each), duplicate keys merged; `commit` switches the generation in force in
//! one transaction, so readers see the old directory or the new one, never a mix; generations
//! not in force are deleted in bounded chunks afterwards.

use mssd_core::{Address, MailboxKind};
use tokio_postgres::Row;

use super::{Tx, execute, query, query_one, query_opt, sql_limit, u64_of};
use crate::directory_model::{
    ActivitySite, DirectoryActivity, DirectoryDiff, DirectoryGeneration, DirectoryMailbox,
    DirectoryProfessional, DirectoryRows, DirectorySet, DirectorySetStatus, ProfessionalIdentity,
};
use crate::error::{Error, Result};
use crate::sqlite::directory_write::{PURGE_CHUNK, digest_of, main_table};

/// Creates a generation in state `building`.
pub(crate) async fn begin(tx: &Tx<'_>, set: DirectorySet, now: i64) -> Result<DirectoryGeneration> {
    Ok(DirectoryGeneration(
        query_one(
            tx,
            "INSERT INTO directory_generations (set_name, state, started_at) \
             VALUES ($1, 'building', $2) RETURNING id",
            &[&set.as_str(), &now],
        )
        .await?
        .get(0),
    ))
}

/// Generations of `set` that are not in force.
pub(crate) async fn stale(tx: &Tx<'_>, set: DirectorySet) -> Result<Vec<DirectoryGeneration>> {
    Ok(query(
        tx,
        "SELECT id FROM directory_generations WHERE set_name = $1 AND state <> 'current'",
        &[&set.as_str()],
    )
    .await?
    .iter()
    .map(|r| DirectoryGeneration(r.get(0)))
    .collect())
}

/// The set and state of a generation, its row locked (a write, a commit and a discard of the
/// same generation are ordered).
async fn describe(tx: &Tx<'_>, generation: DirectoryGeneration) -> Result<(DirectorySet, String)> {
    describe_with(tx, generation, " FOR UPDATE").await
}

/// `describe` without the row lock (a read-only transaction cannot take it).
async fn describe_unlocked(
    tx: &Tx<'_>,
    generation: DirectoryGeneration,
) -> Result<(DirectorySet, String)> {
    describe_with(tx, generation, "").await
}

async fn describe_with(
    tx: &Tx<'_>,
    generation: DirectoryGeneration,
    lock: &str,
) -> Result<(DirectorySet, String)> {
    let sql = format!("SELECT set_name, state FROM directory_generations WHERE id = $1{lock}");
    let row = query_opt(tx, &sql, &[&generation.0])
        .await?
        .ok_or_else(|| Error::not_found(format!("directory generation {}", generation.0)))?;
    let set: String = row.get(0);
    let set = DirectorySet::parse(&set).ok_or_else(|| {
        Error::corrupt("directory_generations", format!("unknown set name {set:?}"))
    })?;
    Ok((set, row.get(1)))
}

async fn building_set(tx: &Tx<'_>, generation: DirectoryGeneration) -> Result<DirectorySet> {
    let (set, state) = describe(tx, generation).await?;
    if state != "building" {
        return Err(Error::invalid(
            "directory generation",
            format!(
                "generation {} is {state}, not being built: start a new import",
                generation.0
            ),
        ));
    }
    Ok(set)
}

/// Upserts a chunk into a generation being built.
pub(crate) async fn write(
    tx: &Tx<'_>,
    generation: DirectoryGeneration,
    rows: &DirectoryRows,
) -> Result<()> {
    let set = building_set(tx, generation).await?;
    if set != rows.set() {
        return Err(Error::invalid(
            "directory rows",
            format!(
                "generation {} holds {}, not {}",
                generation.0,
                set.as_str(),
                rows.set().as_str()
            ),
        ));
    }
    match rows {
        DirectoryRows::Mailboxes(rows) => {
            for m in rows {
                write_mailbox(tx, generation, m).await?;
            }
        }
        DirectoryRows::Activities(rows) => {
            for a in rows {
                write_activity(tx, generation, a).await?;
            }
        }
    }
    Ok(())
}

async fn write_mailbox(
    tx: &Tx<'_>,
    generation: DirectoryGeneration,
    m: &DirectoryMailbox,
) -> Result<()> {
    let digest = digest_of(&[
        Some(m.address.as_str()),
        Some(m.kind.as_str()),
        m.id_nat_ps.as_deref(),
        m.structure_id.as_deref(),
        m.structure_name.as_deref(),
        m.service.as_deref(),
        m.civility.as_deref(),
        m.last_name.as_deref(),
        m.first_name.as_deref(),
        m.profession.as_deref(),
        m.specialty.as_deref(),
        m.postal_code.as_deref(),
        m.city.as_deref(),
        Some(if m.red_listed { "1" } else { "0" }),
    ]);
    execute(
        tx,
        "INSERT INTO directory_mailboxes AS d (generation, address_key, address, kind, id_nat_ps, \
         structure_id, structure_name, service, civility, last_name, first_name, profession, \
         specialty, postal_code, city, red_listed, digest) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (generation, address_key) DO UPDATE SET \
         id_nat_ps = coalesce(d.id_nat_ps, EXCLUDED.id_nat_ps), \
         structure_id = coalesce(d.structure_id, EXCLUDED.structure_id), \
         structure_name = coalesce(d.structure_name, EXCLUDED.structure_name), \
         service = coalesce(d.service, EXCLUDED.service), \
         civility = coalesce(d.civility, EXCLUDED.civility), \
         last_name = coalesce(d.last_name, EXCLUDED.last_name), \
         first_name = coalesce(d.first_name, EXCLUDED.first_name), \
         profession = coalesce(d.profession, EXCLUDED.profession), \
         specialty = coalesce(d.specialty, EXCLUDED.specialty), \
         postal_code = coalesce(d.postal_code, EXCLUDED.postal_code), \
         city = coalesce(d.city, EXCLUDED.city), \
         red_listed = d.red_listed OR EXCLUDED.red_listed, \
         digest = (d.digest + EXCLUDED.digest) % 2305843009213693951, \
         lines = d.lines + 1",
        &[
            &generation.0,
            &m.address.canonical(),
            &m.address.as_str(),
            &m.kind.as_str(),
            &m.id_nat_ps,
            &m.structure_id,
            &m.structure_name,
            &m.service,
            &m.civility,
            &m.last_name,
            &m.first_name,
            &m.profession,
            &m.specialty,
            &m.postal_code,
            &m.city,
            &m.red_listed,
            &digest,
        ],
    )
    .await?;
    Ok(())
}

async fn write_activity(
    tx: &Tx<'_>,
    generation: DirectoryGeneration,
    a: &DirectoryActivity,
) -> Result<()> {
    let p = &a.professional;
    let s = &a.site;
    let digest = digest_of(&[
        Some(p.id_nat_ps.as_str()),
        p.civility.as_deref(),
        p.last_name.as_deref(),
        p.first_name.as_deref(),
        p.profession_code.as_deref(),
        p.profession.as_deref(),
        s.specialty.as_deref(),
        s.practice_mode.as_deref(),
        s.siret.as_deref(),
        s.finess.as_deref(),
        s.structure_id.as_deref(),
        s.structure_name.as_deref(),
        s.postal_code.as_deref(),
        s.city.as_deref(),
        s.sector.as_deref(),
    ]);
    execute(
        tx,
        "INSERT INTO directory_professionals AS d (generation, id_nat_ps, civility, last_name, \
         first_name, profession_code, profession, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (generation, id_nat_ps) DO UPDATE SET \
         civility = coalesce(d.civility, EXCLUDED.civility), \
         last_name = coalesce(d.last_name, EXCLUDED.last_name), \
         first_name = coalesce(d.first_name, EXCLUDED.first_name), \
         profession_code = coalesce(d.profession_code, EXCLUDED.profession_code), \
         profession = coalesce(d.profession, EXCLUDED.profession), \
         digest = (d.digest + EXCLUDED.digest) % 2305843009213693951, \
         lines = d.lines + 1",
        &[
            &generation.0,
            &p.id_nat_ps,
            &p.civility,
            &p.last_name,
            &p.first_name,
            &p.profession_code,
            &p.profession,
            &digest,
        ],
    )
    .await?;
    execute(
        tx,
        "INSERT INTO directory_activities (generation, id_nat_ps, specialty, practice_mode, \
         siret, finess, structure_id, structure_name, postal_code, city, sector) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &generation.0,
            &p.id_nat_ps,
            &s.specialty,
            &s.practice_mode,
            &s.siret,
            &s.finess,
            &s.structure_id,
            &s.structure_name,
            &s.postal_code,
            &s.city,
            &s.sector,
        ],
    )
    .await?;
    Ok(())
}

/// Puts a generation in force; returns the one it replaces.
pub(crate) async fn commit(
    tx: &Tx<'_>,
    generation: DirectoryGeneration,
    source: &str,
    now: i64,
) -> Result<Option<DirectoryGeneration>> {
    let set = building_set(tx, generation).await?;
    let previous: Option<i64> = query_opt(
        tx,
        "SELECT id FROM directory_generations WHERE set_name = $1 AND state = 'current' \
         FOR UPDATE",
        &[&set.as_str()],
    )
    .await?
    .map(|r| r.get(0));
    let entries: i64 = query_one(
        tx,
        &format!(
            "SELECT count(*) FROM {} WHERE generation = $1",
            main_table(set)
        ),
        &[&generation.0],
    )
    .await?
    .get(0);
    execute(
        tx,
        "UPDATE directory_generations SET state = 'retired' WHERE set_name = $1 AND state = 'current'",
        &[&set.as_str()],
    )
    .await?;
    execute(
        tx,
        "UPDATE directory_generations SET state = 'current', committed_at = $2, source = $3, \
         entries = $4 WHERE id = $1",
        &[&generation.0, &now, &source, &entries],
    )
    .await?;
    Ok(previous.map(DirectoryGeneration))
}

/// Takes a generation out of use (it must not be in force) so that it can be purged.
pub(crate) async fn retire(tx: &Tx<'_>, generation: DirectoryGeneration) -> Result<()> {
    let (_, state) = describe(tx, generation).await?;
    if state == "current" {
        return Err(Error::invalid(
            "directory generation",
            format!(
                "generation {} is in force and cannot be discarded",
                generation.0
            ),
        ));
    }
    execute(
        tx,
        "UPDATE directory_generations SET state = 'retired' WHERE id = $1",
        &[&generation.0],
    )
    .await?;
    Ok(())
}

/// Deletes up to `PURGE_CHUNK` rows of a generation not in force; true once it is all gone.
pub(crate) async fn purge_chunk(tx: &Tx<'_>, generation: DirectoryGeneration) -> Result<bool> {
    let (set, state) = match describe(tx, generation).await {
        Ok(found) => found,
        Err(Error::NotFound { .. }) => return Ok(true),
        Err(e) => return Err(e),
    };
    if state == "current" {
        return Err(Error::invalid(
            "directory generation",
            format!(
                "generation {} is in force and cannot be purged",
                generation.0
            ),
        ));
    }
    let tables: &[&str] = match set {
        DirectorySet::Mailboxes => &["directory_mailboxes"],
        DirectorySet::Professionals => &["directory_activities", "directory_professionals"],
    };
    for table in tables {
        let deleted = execute(
            tx,
            &format!(
                "DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table} \
                 WHERE generation = $1 LIMIT $2))"
            ),
            &[&generation.0, &PURGE_CHUNK],
        )
        .await?;
        if deleted > 0 {
            return Ok(false);
        }
    }
    execute(
        tx,
        "DELETE FROM directory_generations WHERE id = $1",
        &[&generation.0],
    )
    .await?;
    Ok(true)
}

pub(crate) async fn set_red_listed(
    tx: &Tx<'_>,
    key: &str,
    red_listed: bool,
    now: i64,
) -> Result<()> {
    if red_listed {
        execute(
            tx,
            "INSERT INTO directory_red_list (address_key, set_at) VALUES ($1, $2) \
             ON CONFLICT (address_key) DO NOTHING",
            &[&key, &now],
        )
        .await?;
    } else {
        execute(
            tx,
            "DELETE FROM directory_red_list WHERE address_key = $1",
            &[&key],
        )
        .await?;
    }
    Ok(())
}

// --- reads ---

const CURRENT_MAILBOXES: &str =
    "(SELECT id FROM directory_generations WHERE set_name = 'mailboxes' AND state = 'current')";
const CURRENT_PROFESSIONALS: &str = "(SELECT id FROM directory_generations \
     WHERE set_name = 'professionals' AND state = 'current')";
const MAILBOX_COLUMNS: &str = "address, kind, id_nat_ps, structure_id, structure_name, service, \
     civility, last_name, first_name, profession, specialty, postal_code, city, red_listed";

pub(crate) async fn status(tx: &Tx<'_>) -> Result<Vec<DirectorySetStatus>> {
    query(
        tx,
        "SELECT id, set_name, entries, committed_at, source FROM directory_generations \
         WHERE state = 'current' ORDER BY set_name COLLATE \"C\"",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        let set: String = r.get(1);
        let set = DirectorySet::parse(&set).ok_or_else(|| {
            Error::corrupt("directory_generations", format!("unknown set name {set:?}"))
        })?;
        Ok(DirectorySetStatus {
            set,
            generation: DirectoryGeneration(r.get(0)),
            entries: u64_of(
                r.get::<_, Option<i64>>(2).unwrap_or(0),
                "directory_generations",
                "entries",
            )?,
            imported_at: r.get::<_, Option<i64>>(3).unwrap_or(0),
            source: r.get::<_, Option<String>>(4).unwrap_or_default(),
        })
    })
    .collect()
}

pub(crate) async fn mailbox(tx: &Tx<'_>, address: &Address) -> Result<Option<DirectoryMailbox>> {
    query_opt(
        tx,
        &format!(
            "SELECT {MAILBOX_COLUMNS} FROM directory_mailboxes \
             WHERE generation = {CURRENT_MAILBOXES} AND address_key = $1"
        ),
        &[&address.canonical()],
    )
    .await?
    .as_ref()
    .map(mailbox_of_row)
    .transpose()
}

pub(crate) async fn mailboxes(
    tx: &Tx<'_>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<DirectoryMailbox>> {
    query(
        tx,
        &format!(
            "SELECT {MAILBOX_COLUMNS} FROM directory_mailboxes \
             WHERE generation = {CURRENT_MAILBOXES} AND address_key > $1 \
             ORDER BY address_key LIMIT $2"
        ),
        &[&after.unwrap_or(""), &sql_limit(limit)],
    )
    .await?
    .iter()
    .map(mailbox_of_row)
    .collect()
}

pub(crate) async fn professional(
    tx: &Tx<'_>,
    id_nat_ps: &str,
) -> Result<Option<DirectoryProfessional>> {
    let Some(r) = query_opt(
        tx,
        &format!(
            "SELECT id_nat_ps, civility, last_name, first_name, profession_code, profession \
             FROM directory_professionals WHERE generation = {CURRENT_PROFESSIONALS} \
             AND id_nat_ps = $1"
        ),
        &[&id_nat_ps],
    )
    .await?
    else {
        return Ok(None);
    };
    let identity = ProfessionalIdentity {
        id_nat_ps: r.get(0),
        civility: r.get(1),
        last_name: r.get(2),
        first_name: r.get(3),
        profession_code: r.get(4),
        profession: r.get(5),
    };
    let sites = query(
        tx,
        &format!(
            "SELECT specialty, practice_mode, siret, finess, structure_id, structure_name, \
             postal_code, city, sector FROM directory_activities \
             WHERE generation = {CURRENT_PROFESSIONALS} AND id_nat_ps = $1 ORDER BY id"
        ),
        &[&id_nat_ps],
    )
    .await?
    .iter()
    .map(|r| ActivitySite {
        specialty: r.get(0),
        practice_mode: r.get(1),
        siret: r.get(2),
        finess: r.get(3),
        structure_id: r.get(4),
        structure_name: r.get(5),
        postal_code: r.get(6),
        city: r.get(7),
        sector: r.get(8),
    })
    .collect();
    Ok(Some(DirectoryProfessional { identity, sites }))
}

pub(crate) async fn red_listed(tx: &Tx<'_>) -> Result<Vec<String>> {
    Ok(query(
        tx,
        "SELECT address_key FROM directory_red_list ORDER BY address_key",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// Compares a generation being built with the one in force.
pub(crate) async fn diff(
    tx: &Tx<'_>,
    generation: DirectoryGeneration,
    sample: usize,
) -> Result<DirectoryDiff> {
    let (set, state) = describe_unlocked(tx, generation).await?;
    if state != "building" {
        return Err(Error::invalid(
            "directory generation",
            format!(
                "generation {} is {state}, not being built: start a new import",
                generation.0
            ),
        ));
    }
    let current: i64 = query_opt(
        tx,
        "SELECT id FROM directory_generations WHERE set_name = $1 AND state = 'current'",
        &[&set.as_str()],
    )
    .await?
    .map_or(0, |r| r.get(0));
    let table = main_table(set);
    let (key, shown) = match set {
        DirectorySet::Mailboxes => ("address_key", "address"),
        DirectorySet::Professionals => ("id_nat_ps", "id_nat_ps"),
    };
    let count_sql = format!(
        "SELECT count(*), CAST(coalesce(sum(lines), 0) AS BIGINT) FROM {table} WHERE generation = $1"
    );
    let next_row = query_one(tx, &count_sql, &[&generation.0]).await?;
    let previous_row = query_one(tx, &count_sql, &[&current]).await?;
    let only_in = format!(
        "SELECT a.{shown} FROM {table} a WHERE a.generation = $1 AND NOT EXISTS \
         (SELECT 1 FROM {table} b WHERE b.generation = $2 AND b.{key} = a.{key}) ORDER BY a.{key}"
    );
    let (added, added_sample) =
        count_and_sample(tx, &only_in, generation.0, current, sample).await?;
    let (removed, removed_sample) =
        count_and_sample(tx, &only_in, current, generation.0, sample).await?;
    let changed_query = format!(
        "SELECT a.{shown} FROM {table} a JOIN {table} b ON b.generation = $2 AND b.{key} = a.{key} \
         WHERE a.generation = $1 AND a.digest <> b.digest ORDER BY a.{key}"
    );
    let (changed, changed_sample) =
        count_and_sample(tx, &changed_query, generation.0, current, sample).await?;
    Ok(DirectoryDiff {
        set: Some(set),
        previous: u64_of(previous_row.get(0), table, "count")?,
        next: u64_of(next_row.get(0), table, "count")?,
        lines: u64_of(next_row.get(1), table, "lines")?,
        added,
        removed,
        changed,
        added_sample,
        removed_sample,
        changed_sample,
    })
}

/// Counts the rows of a one-column query and keeps the first `sample`.
async fn count_and_sample(
    tx: &Tx<'_>,
    sql: &str,
    a: i64,
    b: i64,
    sample: usize,
) -> Result<(u64, Vec<String>)> {
    let counted = format!("SELECT count(*) FROM ({sql}) q");
    let count: i64 = query_one(tx, &counted, &[&a, &b]).await?.get(0);
    let kept = format!("{sql} LIMIT $3");
    let rows = query(tx, &kept, &[&a, &b, &sql_limit(sample)]).await?;
    Ok((
        u64_of(count, "directory", "count")?,
        rows.iter().map(|r| r.get(0)).collect(),
    ))
}

fn mailbox_of_row(r: &Row) -> Result<DirectoryMailbox> {
    let address = Address::parse(r.get::<_, &str>(0))
        .map_err(|e| Error::corrupt("directory_mailboxes", format!("address: {e}")))?;
    let kind = MailboxKind::parse(r.get::<_, &str>(1))
        .map_err(|e| Error::corrupt("directory_mailboxes", format!("kind: {e}")))?;
    Ok(DirectoryMailbox {
        address,
        kind,
        id_nat_ps: r.get(2),
        structure_id: r.get(3),
        structure_name: r.get(4),
        service: r.get(5),
        civility: r.get(6),
        last_name: r.get(7),
        first_name: r.get(8),
        profession: r.get(9),
        specialty: r.get(10),
        postal_code: r.get(11),
        city: r.get(12),
        red_listed: r.get(13),
    })
}
