//! Writing national directory generations: begin, chunked upserts that merge duplicate keys,
//! the switch that puts a generation in force, and chunked deletion of the others.

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::DbResult;
use crate::directory_model::{
    DirectoryActivity, DirectoryGeneration, DirectoryMailbox, DirectoryRows, DirectorySet,
};
use crate::error::{Error, Result};

/// 2^61 - 1: digests stay below it, so the sum of two fits in an i64 (SQLite turns an
/// overflowing integer sum into a float).
const DIGEST_MODULUS: u64 = (1 << 61) - 1;

/// Rows deleted per writer job when removing an old generation, so that mail delivery never
/// waits long behind a purge.
pub(crate) const PURGE_CHUNK: i64 = 20_000;

/// Creates a generation in state `building`.
pub(crate) fn begin(conn: &Connection, set: DirectorySet, now: i64) -> Result<DirectoryGeneration> {
    conn.prepare_cached(
        "INSERT INTO directory_generations (set_name, state, started_at) VALUES (?1, 'building', ?2)",
    )
    .and_then(|mut stmt| stmt.execute(params![set.as_str(), now]))
    .db("starting a directory generation")?;
    Ok(DirectoryGeneration(conn.last_insert_rowid()))
}

/// Generations of `set` that are not in force (left by an interrupted import or retired).
pub(crate) fn stale(conn: &Connection, set: DirectorySet) -> Result<Vec<DirectoryGeneration>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id FROM directory_generations WHERE set_name = ?1 AND state <> 'current'",
        )
        .db("listing stale directory generations")?;
    let rows = stmt
        .query_map([set.as_str()], |r| r.get(0).map(DirectoryGeneration))
        .db("listing stale directory generations")?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .db("listing stale directory generations")
}

/// The set and state of a generation.
fn describe(conn: &Connection, generation: DirectoryGeneration) -> Result<(DirectorySet, String)> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT set_name, state FROM directory_generations WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([generation.0], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .db("reading a directory generation")?;
    let (set, state) =
        row.ok_or_else(|| Error::not_found(format!("directory generation {}", generation.0)))?;
    let set = DirectorySet::parse(&set).ok_or_else(|| {
        Error::corrupt("directory_generations", format!("unknown set name {set:?}"))
    })?;
    Ok((set, state))
}

/// The set of a generation that must still be in state `building`.
pub(crate) fn building_set(
    conn: &Connection,
    generation: DirectoryGeneration,
) -> Result<DirectorySet> {
    let (set, state) = describe(conn, generation)?;
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
pub(crate) fn write(
    conn: &Connection,
    generation: DirectoryGeneration,
    rows: &DirectoryRows,
) -> Result<()> {
    let set = building_set(conn, generation)?;
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
        DirectoryRows::Mailboxes(rows) => rows
            .iter()
            .try_for_each(|m| write_mailbox(conn, generation, m)),
        DirectoryRows::Activities(rows) => rows
            .iter()
            .try_for_each(|a| write_activity(conn, generation, a)),
    }
}

fn write_mailbox(
    conn: &Connection,
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
    conn.prepare_cached(
        "INSERT INTO directory_mailboxes (generation, address_key, address, kind, id_nat_ps, \
         structure_id, structure_name, service, civility, last_name, first_name, profession, \
         specialty, postal_code, city, red_listed, digest) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
         ON CONFLICT (generation, address_key) DO UPDATE SET \
         id_nat_ps = coalesce(id_nat_ps, excluded.id_nat_ps), \
         structure_id = coalesce(structure_id, excluded.structure_id), \
         structure_name = coalesce(structure_name, excluded.structure_name), \
         service = coalesce(service, excluded.service), \
         civility = coalesce(civility, excluded.civility), \
         last_name = coalesce(last_name, excluded.last_name), \
         first_name = coalesce(first_name, excluded.first_name), \
         profession = coalesce(profession, excluded.profession), \
         specialty = coalesce(specialty, excluded.specialty), \
         postal_code = coalesce(postal_code, excluded.postal_code), \
         city = coalesce(city, excluded.city), \
         red_listed = max(red_listed, excluded.red_listed), \
         digest = (digest + excluded.digest) % 2305843009213693951, \
         lines = lines + 1",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            generation.0,
            m.address.canonical(),
            m.address.as_str(),
            m.kind.as_str(),
            m.id_nat_ps,
            m.structure_id,
            m.structure_name,
            m.service,
            m.civility,
            m.last_name,
            m.first_name,
            m.profession,
            m.specialty,
            m.postal_code,
            m.city,
            m.red_listed,
            digest,
        ])
    })
    .db("writing a directory mailbox")?;
    Ok(())
}

fn write_activity(
    conn: &Connection,
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
    conn.prepare_cached(
        "INSERT INTO directory_professionals (generation, id_nat_ps, civility, last_name, \
         first_name, profession_code, profession, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (generation, id_nat_ps) DO UPDATE SET \
         civility = coalesce(civility, excluded.civility), \
         last_name = coalesce(last_name, excluded.last_name), \
         first_name = coalesce(first_name, excluded.first_name), \
         profession_code = coalesce(profession_code, excluded.profession_code), \
         profession = coalesce(profession, excluded.profession), \
         digest = (digest + excluded.digest) % 2305843009213693951, \
         lines = lines + 1",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            generation.0,
            p.id_nat_ps,
            p.civility,
            p.last_name,
            p.first_name,
            p.profession_code,
            p.profession,
            digest,
        ])
    })
    .db("writing a directory professional")?;
    conn.prepare_cached(
        "INSERT INTO directory_activities (generation, id_nat_ps, specialty, practice_mode, \
         siret, finess, structure_id, structure_name, postal_code, city, sector) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            generation.0,
            p.id_nat_ps,
            s.specialty,
            s.practice_mode,
            s.siret,
            s.finess,
            s.structure_id,
            s.structure_name,
            s.postal_code,
            s.city,
            s.sector,
        ])
    })
    .db("writing a directory activity")?;
    Ok(())
}

/// Puts a generation in force; returns the one it replaces.
pub(crate) fn commit(
    conn: &Connection,
    generation: DirectoryGeneration,
    source: &str,
    now: i64,
) -> Result<Option<DirectoryGeneration>> {
    let set = building_set(conn, generation)?;
    let previous: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM directory_generations WHERE set_name = ?1 AND state = 'current'",
        )
        .and_then(|mut stmt| stmt.query_row([set.as_str()], |r| r.get(0)).optional())
        .db("reading the directory generation in force")?;
    let entries: i64 = conn
        .query_row(
            &format!(
                "SELECT count(*) FROM {} WHERE generation = ?1",
                main_table(set)
            ),
            [generation.0],
            |r| r.get(0),
        )
        .db("counting the new directory generation")?;
    conn.execute(
        "UPDATE directory_generations SET state = 'retired' WHERE set_name = ?1 AND state = 'current'",
        [set.as_str()],
    )
    .db("retiring the directory generation in force")?;
    conn.execute(
        "UPDATE directory_generations SET state = 'current', committed_at = ?2, source = ?3, \
         entries = ?4 WHERE id = ?1",
        params![generation.0, now, source, entries],
    )
    .db("putting the new directory generation in force")?;
    Ok(previous.map(DirectoryGeneration))
}

/// Takes a generation out of use (it must not be in force) so that it can be purged.
pub(crate) fn retire(conn: &Connection, generation: DirectoryGeneration) -> Result<()> {
    let (_, state) = describe(conn, generation)?;
    if state == "current" {
        return Err(Error::invalid(
            "directory generation",
            format!(
                "generation {} is in force and cannot be discarded",
                generation.0
            ),
        ));
    }
    conn.execute(
        "UPDATE directory_generations SET state = 'retired' WHERE id = ?1",
        [generation.0],
    )
    .db("retiring a directory generation")?;
    Ok(())
}

/// Deletes up to [`PURGE_CHUNK`] rows of a generation not in force; returns true once the
/// generation is entirely gone.
pub(crate) fn purge_chunk(conn: &Connection, generation: DirectoryGeneration) -> Result<bool> {
    let (set, state) = match describe(conn, generation) {
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
    let tables: &[(&str, &str)] = match set {
        DirectorySet::Mailboxes => &[("directory_mailboxes", "address_key")],
        DirectorySet::Professionals => &[
            ("directory_activities", "rowid"),
            ("directory_professionals", "id_nat_ps"),
        ],
    };
    for (table, key) in tables {
        let deleted = conn
            .execute(
                &format!(
                    "DELETE FROM {table} WHERE generation = ?1 AND {key} IN \
                     (SELECT {key} FROM {table} WHERE generation = ?1 LIMIT ?2)"
                ),
                params![generation.0, PURGE_CHUNK],
            )
            .db("deleting an old directory generation")?;
        if deleted > 0 {
            return Ok(false);
        }
    }
    conn.execute(
        "DELETE FROM directory_generations WHERE id = ?1",
        [generation.0],
    )
    .db("deleting an old directory generation")?;
    Ok(true)
}

/// Sets or clears the red-list flag of one of our mailboxes.
pub(crate) fn set_red_listed(
    conn: &Connection,
    key: &str,
    red_listed: bool,
    now: i64,
) -> Result<()> {
    if red_listed {
        conn.execute(
            "INSERT INTO directory_red_list (address_key, set_at) VALUES (?1, ?2) \
             ON CONFLICT (address_key) DO NOTHING",
            params![key, now],
        )
    } else {
        conn.execute(
            "DELETE FROM directory_red_list WHERE address_key = ?1",
            [key],
        )
    }
    .db("recording a red-listing")?;
    Ok(())
}

/// The table with one row per entry of `set`.
pub(crate) fn main_table(set: DirectorySet) -> &'static str {
    match set {
        DirectorySet::Mailboxes => "directory_mailboxes",
        DirectorySet::Professionals => "directory_professionals",
    }
}

/// FNV-1a over the fields (with markers for absent values and field ends), reduced below
/// [`DIGEST_MODULUS`].
pub(crate) fn digest_of(fields: &[Option<&str>]) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut feed = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    };
    for field in fields {
        match field {
            Some(text) => text.bytes().for_each(&mut feed),
            None => feed(0x1e),
        }
        feed(0x1f);
    }
    // Below 2^61, so the cast cannot wrap.
    (hash % DIGEST_MODULUS) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_tells_absent_from_empty_and_field_boundaries() {
        type Fields<'a> = &'a [Option<&'a str>];
        let cases: &[(Fields, Fields)] = &[
            (&[None], &[Some("")]),
            (&[Some("ab"), Some("c")], &[Some("a"), Some("bc")]),
            (&[Some("a"), None], &[None, Some("a")]),
        ];
        for (a, b) in cases {
            assert_ne!(digest_of(a), digest_of(b), "{a:?} vs {b:?}");
        }
        assert_eq!(digest_of(&[Some("x")]), digest_of(&[Some("x")]));
        assert!(digest_of(&[Some("x")]) < DIGEST_MODULUS as i64);
    }
}
