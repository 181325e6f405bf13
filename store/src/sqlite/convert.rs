//! Integer conversions between SQLite's i64 and the unsigned types of the API, checked both ways.

use crate::error::{Error, Result};

pub(crate) fn i64_from_u64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::invalid(what, format!("{value} is above {}", i64::MAX)))
}

pub(crate) fn u64_from_i64(value: i64, table: &str, column: &str) -> Result<u64> {
    u64::try_from(value)
        .map_err(|_| Error::corrupt(table, format!("{column} holds the negative value {value}")))
}

pub(crate) fn u32_from_i64(value: i64, table: &str, column: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| {
        Error::corrupt(
            table,
            format!("{column} holds {value}, outside 0..=u32::MAX"),
        )
    })
}

/// SQL LIMIT from a caller's `usize`; larger than SQLite can count means "no limit".
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
