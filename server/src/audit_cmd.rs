//! `mssd audit search` and `mssd audit verify`: who logged in, who read a shared mailbox, every
//! refusal of trust, read from the store's audit trail; and the proof, by the trail's hash
//! chain, that no record was changed or removed behind the store's back.

use mssd_core::redact::redact_ins_runs;
use mssd_store::{AuditQuery, AuditRecord};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, macros::format_description};

use crate::cli::AuditCommand;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store_open;

const MAX_LIMIT: usize = 10_000;

/// Ok(false) when `verify` finds the chain broken.
pub async fn run(config: &Config, command: AuditCommand) -> Result<bool> {
    match command {
        AuditCommand::Search {
            since,
            until,
            mailbox,
            kind,
            after,
            limit,
            json,
        } => {
            let query = AuditQuery {
                after_id: after,
                since: since
                    .as_deref()
                    .map(|s| instant("--since", s))
                    .transpose()?,
                until: until
                    .as_deref()
                    .map(|s| instant("--until", s))
                    .transpose()?,
                kind,
                mailbox,
                limit,
            };
            search(config, query, json).await.map(|_| true)
        }
        AuditCommand::Verify => verify(config).await,
    }
}

async fn search(config: &Config, query: AuditQuery, json: bool) -> Result<()> {
    if !(1..=MAX_LIMIT).contains(&query.limit) {
        return Err(Error::Usage(format!(
            "--limit {}: give 1 to {MAX_LIMIT} records per page",
            query.limit
        )));
    }
    if let (Some(since), Some(until)) = (query.since, query.until)
        && since >= until
    {
        return Err(Error::Usage(
            "--since must come before --until (--until is exclusive)".into(),
        ));
    }
    let store = store_open::open(config).await?;
    let records = store.audit_search(query.clone()).await?;
    for record in &records {
        println!("{}", line(record, json));
    }
    if records.len() == query.limit
        && let Some(last) = records.last()
    {
        eprintln!(
            "mssd: {} records shown; for the next ones add --after {}",
            records.len(),
            last.id
        );
    }
    Ok(())
}

/// One record for the terminal: tab-separated, or a JSON object. INS-like runs (a citizen's
/// address) are redacted, as in logs.
fn line(record: &AuditRecord, json: bool) -> String {
    let e = &record.event;
    let at = crate::audit::rfc3339_ms(e.at);
    let mut detail = e.detail.clone();
    redact_strings(&mut detail);
    let (actor, subject) = (redact_ins_runs(&e.actor), redact_ins_runs(&e.subject));
    // A client chose some of these (the user name of a failed login): no control character
    // reaches the operator's terminal or breaks a line.
    let printable = |s: &str| -> String {
        s.chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect()
    };
    if json {
        serde_json::json!({
            "id": record.id,
            "at": at,
            "kind": e.kind,
            "actor": actor,
            "subject": subject,
            "outcome": e.outcome,
            "detail": detail,
        })
        .to_string()
    } else {
        format!(
            "{}\t{at}\t{}\t{}\t{}\t{}\t{detail}",
            record.id,
            printable(&e.kind),
            printable(&actor),
            printable(&subject),
            printable(&e.outcome)
        )
    }
}

/// Redacts INS-like runs in every string of `value`, keys included. Numbers stay: a
/// 13-digit millisecond timestamp is not an INS, and the server never writes an INS as a
/// number.
fn redact_strings(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(text) => *text = redact_ins_runs(text),
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                redact_strings(&mut item);
                // Two keys that redact alike both stay: the second gets a suffix.
                let mut redacted = redact_ins_runs(&key);
                while map.contains_key(&redacted) {
                    redacted.push('\'');
                }
                map.insert(redacted, item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

async fn verify(config: &Config) -> Result<bool> {
    let store = store_open::open(config).await?;
    let verified = store.audit_verify().await?;
    match (&verified.broken, &verified.head) {
        (Some((id, why)), _) => {
            println!(
                "audit trail BROKEN at record {id}: {why} ({} records read)",
                verified.records
            );
            tracing::error!(record = id, reason = %why, "audit trail: the hash chain is broken");
            Ok(false)
        }
        (None, Some((id, link))) => {
            println!(
                "audit trail intact: {} records chained; last record {id}, link {link}",
                verified.records
            );
            Ok(true)
        }
        (None, None) => {
            println!("audit trail intact: no records yet");
            Ok(true)
        }
    }
}

/// `YYYY-MM-DD` (UTC midnight) or an RFC 3339 instant, as Unix milliseconds.
fn instant(option: &str, text: &str) -> Result<i64> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).or_else(|_| {
        Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map(|d| d.midnight().assume_utc())
    });
    match parsed {
        Ok(t) => Ok(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)),
        Err(_) => Err(Error::Usage(format!(
            "{option} {text:?}: give a date (2026-12-01) or an instant (2026-12-01T08:00:00Z)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strings_are_redacted() {
        let mut detail = serde_json::json!({
            "at_ms": 1_796_083_200_000_i64,
            "to": "1234567890123@patient.test",
            "list": ["2751175123456", 7],
            "nested": { "ins 1850375123456": true },
        });
        redact_strings(&mut detail);
        let text = detail.to_string();
        assert!(text.contains("1796083200000"), "{text}");
        for ins in ["1234567890123", "2751175123456", "1850375123456"] {
            assert!(!text.contains(ins), "{text}");
        }
    }

    #[test]
    fn instants() {
        let cases = [
            ("2026-12-01", Some(1_796_083_200_000)),
            ("2026-12-01T08:00:00Z", Some(1_796_112_000_000)),
            ("2026-12-01T09:00:00+01:00", Some(1_796_112_000_000)),
            ("01/12/2026", None),
            ("2026-13-01", None),
        ];
        for (text, expected) in cases {
            assert_eq!(instant("--since", text).ok(), expected, "{text}");
        }
    }
}
