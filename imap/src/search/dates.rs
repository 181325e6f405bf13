//! Calendar days for the date criteria: BEFORE/ON/SINCE use the internal date's day in UTC,
//! SENTBEFORE/SENTON/SENTSINCE the Date: header's day in the offset it was written with.

use chrono::NaiveDate;

/// The UTC day of unix seconds; None outside chrono's range.
pub(super) fn internal_day(unix_seconds: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp(unix_seconds, 0).map(|at| at.date_naive())
}

/// The day of a parsed Date: header as written, ignoring its time and offset.
pub(super) fn sent_day(date: &mail_parser::DateTime) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
}
