//! IMAP STORE over many messages in one transaction, with RFC 7162 UNCHANGEDSINCE.
//!
//! All messages changed by one STORE share one new modseq (RFC 7162 allows it), so a STORE on a
//! thousand messages bumps the folder once.

use rusqlite::{Connection, OptionalExtension, params};

use super::connection::DbResult;
use super::convert::u64_from_i64;
use super::flag_json::parse_flags;
use super::folders::{folder_exists, mailbox_of};
use super::messages::{bump_modseq, write_flags};
use crate::error::{Error, Result};
use crate::flags::normalize_flags;
use crate::model::{FlagOp, FlagUpdate, FlagsOutcome, FolderChange, FolderId};

/// Applies `op` with already normalised `given` flags to normalised `current` ones. Pure.
pub(crate) fn apply_flag_op(
    current: &[String],
    op: FlagOp,
    given: &[String],
) -> Result<Vec<String>> {
    let same = |a: &String, b: &String| a.eq_ignore_ascii_case(b);
    let combined: Vec<String> = match op {
        FlagOp::Replace => given.to_vec(),
        FlagOp::Add => current.iter().chain(given).cloned().collect(),
        FlagOp::Remove => current
            .iter()
            .filter(|f| !given.iter().any(|g| same(f, g)))
            .cloned()
            .collect(),
    };
    normalize_flags(&combined)
}

/// Returns the outcome and, when some message changed, the folder change to publish.
pub(crate) fn store_flags(
    conn: &Connection,
    folder: FolderId,
    uids: &[u32],
    op: FlagOp,
    flags: &[String],
    unchanged_since: Option<u64>,
) -> Result<(FlagsOutcome, Option<FolderChange>)> {
    if !folder_exists(conn, folder)? {
        return Err(Error::not_found(format!("folder {}", folder.0)));
    }
    let given = normalize_flags(flags)?;
    let mut uids = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    let mut outcome = FlagsOutcome::default();
    // Taken on the first real change only: a STORE that changes nothing leaves the folder alone.
    let mut new_modseq: Option<u64> = None;
    let mut read = conn
        .prepare_cached("SELECT flags, modseq FROM messages WHERE folder_id = ?1 AND uid = ?2")
        .db("preparing a flag read")?;
    for uid in uids {
        let Some((stored, modseq)) = read
            .query_row(params![folder.0, uid], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()
            .db("reading a message's flags")?
        else {
            continue;
        };
        let modseq = u64_from_i64(modseq, "messages", "modseq")?;
        if unchanged_since.is_some_and(|since| modseq > since) {
            outcome.modified.push(uid);
            continue;
        }
        let current = parse_flags(&stored)?;
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
            None => *new_modseq.insert(bump_modseq(conn, folder)?),
        };
        write_flags(conn, folder, uid, &next, modseq)?;
        outcome.updated.push(FlagUpdate {
            uid,
            modseq,
            flags: next,
        });
    }
    let change = match new_modseq {
        Some(highest_modseq) => Some(FolderChange {
            mailbox: mailbox_of(conn, folder)?,
            folder,
            highest_modseq,
        }),
        None => None,
    };
    Ok((outcome, change))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// (current flags, op, given flags, expected result)
    type Case = (
        &'static [&'static str],
        FlagOp,
        &'static [&'static str],
        &'static [&'static str],
    );

    #[test]
    fn flag_ops() {
        let cases: &[Case] = &[
            (&[], FlagOp::Add, &["\\Seen"], &["\\Seen"]),
            (&["\\Seen"], FlagOp::Add, &["\\Seen"], &["\\Seen"]),
            (
                &["\\Seen"],
                FlagOp::Add,
                &["\\Flagged"],
                &["\\Flagged", "\\Seen"],
            ),
            (&["Junk"], FlagOp::Add, &["junk"], &["Junk"]),
            (
                &["\\Seen", "\\Flagged"],
                FlagOp::Remove,
                &["\\Seen"],
                &["\\Flagged"],
            ),
            (&["Junk"], FlagOp::Remove, &["JUNK"], &[]),
            (&[], FlagOp::Remove, &["\\Seen"], &[]),
            (
                &["\\Seen", "$Label1"],
                FlagOp::Replace,
                &["\\Draft"],
                &["\\Draft"],
            ),
            (&["\\Seen"], FlagOp::Replace, &[], &[]),
        ];
        for (current, op, given, expected) in cases {
            let current = normalize_flags(&strings(current)).unwrap();
            let given = normalize_flags(&strings(given)).unwrap();
            assert_eq!(
                apply_flag_op(&current, *op, &given).unwrap(),
                strings(expected),
                "{current:?} {op:?} {given:?}"
            );
        }
    }

    #[test]
    fn adding_past_the_flag_limit_is_refused() {
        let current: Vec<String> = (0..60).map(|i| format!("a{i}")).collect();
        let given: Vec<String> = (0..10).map(|i| format!("b{i}")).collect();
        assert!(apply_flag_op(&current, FlagOp::Add, &given).is_err());
    }
}
