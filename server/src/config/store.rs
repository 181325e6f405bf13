//! Resolution of `[store]`: which backend keeps mailboxes, queue and audit trail.
//!
//! SQLite (the default) needs nothing: one file in the data dir. PostgreSQL needs a URL; its
//! password lives in a file (never in the URL, which appears in logs and `ps`), and TLS to the
//! database is checked against `anchors` (public roots or the operator's own CA files).

use std::path::Path;

use super::raw::RawStore;
use super::{PostgresSettings, StoreBackend};
use crate::error::{Error, Result};

/// Connections each node keeps to PostgreSQL when `pool_size` is not given: enough for the
/// group of SMTP and IMAP sessions writing at once on 2 to 8 cores.
pub const DEFAULT_POOL_SIZE: usize = 16;
/// Beyond this a node would exhaust a default PostgreSQL (`max_connections = 100`) alone.
const MAX_POOL_SIZE: usize = 512;

pub(super) fn resolve_store(
    raw: &RawStore,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<StoreBackend> {
    let backend = raw.backend.as_deref().unwrap_or("sqlite");
    let postgres_only = [
        ("store.url", raw.url.is_some()),
        ("store.password_file", raw.password_file.is_some()),
        ("store.pool_size", raw.pool_size.is_some()),
        ("store.anchors", raw.anchors.is_some()),
    ];
    match backend {
        "sqlite" => {
            if let Some((key, _)) = postgres_only.iter().find(|(_, given)| *given) {
                return Err(bad(
                    key,
                    "only for backend = \"postgres\" (the SQLite store is the file mssd.sqlite3 in data_dir)"
                        .into(),
                ));
            }
            Ok(StoreBackend::Sqlite)
        }
        "postgres" => resolve_postgres(raw, data_dir, bad).map(StoreBackend::Postgres),
        other => Err(bad(
            "store.backend",
            format!("\"{other}\": use \"sqlite\" or \"postgres\""),
        )),
    }
}

fn resolve_postgres(
    raw: &RawStore,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<PostgresSettings> {
    let Some(url) = raw.url.as_deref() else {
        return Err(bad(
            "store.url",
            "missing: backend = \"postgres\" needs url = \"postgresql://mssd@db.example/mssd?sslmode=require\""
                .into(),
        ));
    };
    let parsed: tokio_postgres::Config = url
        .parse()
        .map_err(|e| bad("store.url", format!("not a PostgreSQL URL: {e}")))?;
    if parsed.get_password().is_some() {
        return Err(bad(
            "store.url",
            "holds a password: put it in a file named by store.password_file (mode 0600) instead"
                .into(),
        ));
    }
    if parsed.get_dbname().is_none() {
        return Err(bad(
            "store.url",
            "names no database: end it with /DBNAME, e.g. postgresql://mssd@db.example/mssd".into(),
        ));
    }
    let pool_size = match raw.pool_size {
        None => DEFAULT_POOL_SIZE,
        Some(n) if (1..=MAX_POOL_SIZE as i64).contains(&n) => n as usize,
        Some(n) => {
            return Err(bad(
                "store.pool_size",
                format!("{n}: give 1 to {MAX_POOL_SIZE} connections"),
            ));
        }
    };
    let anchors =
        super::http_client::resolve_anchors("store.anchors", raw.anchors.as_ref(), data_dir, bad)?;
    Ok(PostgresSettings {
        url: url.to_owned(),
        password_file: raw
            .password_file
            .as_ref()
            .map(|f| super::values::absolute(data_dir, f)),
        pool_size,
        anchors,
    })
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
