//! `mssd backup DEST`, `mssd backup verify DIR` and `mssd restore SRC` (see `mssd-backup`).
//! Backups and restores are written to the audit trail.

use std::path::Path;

use crate::audit::{now_ms, operator_actor, rfc3339_ms};
use crate::cli::{BackupArgs, BackupCommand};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store_open;
use mssd_backup::Verified;
use mssd_store::AuditEvent;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Ok(false) when `verify` finds the backup damaged.
pub async fn backup(config: &Config, args: BackupArgs) -> Result<bool> {
    match (args.command, args.dest) {
        (Some(BackupCommand::Verify { dir }), _) => verify(&dir),
        (None, Some(dest)) => take(config, &dest).await.map(|_| true),
        (None, None) => Err(Error::Usage(
            "give a directory: mssd backup DEST, or mssd backup verify DIR".into(),
        )),
    }
}

/// On PostgreSQL the database's own tools take consistent online copies (and point-in-time
/// recovery); mssd's backup copies the SQLite file.
fn sqlite_only(config: &Config, what: &str) -> Result<()> {
    match config.store {
        crate::config::StoreBackend::Sqlite => Ok(()),
        crate::config::StoreBackend::Postgres(_) => Err(Error::Usage(format!(
            "{what} copies the SQLite store, and [store] backend is \"postgres\": use \
             pg_dump --format=custom (or pg_basebackup with WAL archiving), as docs/postgres.md \
             (Backups) describes"
        ))),
    }
}

async fn take(config: &Config, dest: &Path) -> Result<()> {
    sqlite_only(config, "mssd backup")?;
    let database = config.database_path();
    if !database.exists() {
        return Err(Error::Usage(format!(
            "no store at {}: check data_dir in the configuration",
            database.display()
        )));
    }
    let (database_copy, dest_copy) = (database.clone(), dest.to_path_buf());
    let manifest =
        tokio::task::spawn_blocking(move || mssd_backup::take(&database_copy, &dest_copy, VERSION))
            .await
            .map_err(|e| Error::Usage(format!("the backup task failed: {e}")))??;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "backup {}: {} files, {:.1} MB, taken at {} (schema {})",
        dest.display(),
        manifest.files.len(),
        bytes as f64 / 1e6,
        rfc3339_ms(manifest.taken_at),
        manifest.schema_version
    );
    audit(
        config,
        "store.backup",
        dest,
        serde_json::json!({ "files": manifest.files.len(), "bytes": bytes }),
    )
    .await
}

fn verify(dir: &Path) -> Result<bool> {
    match mssd_backup::verify(dir) {
        Ok(verified) => {
            println!("{}", summary(dir, &verified));
            Ok(true)
        }
        Err(e @ mssd_backup::Error::Damaged { .. }) => {
            println!("{e}");
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn restore(config: &Config, src: &Path) -> Result<()> {
    sqlite_only(config, "mssd restore")?;
    let (src_copy, data_dir) = (src.to_path_buf(), config.data_dir.clone());
    let verified = tokio::task::spawn_blocking(move || mssd_backup::restore(&src_copy, &data_dir))
        .await
        .map_err(|e| Error::Usage(format!("the restore task failed: {e}")))??;
    println!(
        "restored into {}: {}",
        config.data_dir.display(),
        summary(src, &verified)
    );
    audit(
        config,
        "store.restore",
        src,
        serde_json::json!({ "files": verified.files, "taken_at": verified.manifest.taken_at }),
    )
    .await
}

fn summary(dir: &Path, verified: &Verified) -> String {
    format!(
        "backup {} intact: {} files, {:.1} MB, taken at {} by mssd {} (schema {})",
        dir.display(),
        verified.files,
        verified.bytes as f64 / 1e6,
        rfc3339_ms(verified.manifest.taken_at),
        verified.manifest.mssd_version,
        verified.manifest.schema_version
    )
}

async fn audit(config: &Config, kind: &str, dir: &Path, detail: serde_json::Value) -> Result<()> {
    let store = store_open::open(config).await?;
    store
        .audit(AuditEvent {
            at: now_ms(),
            kind: kind.into(),
            actor: operator_actor(),
            subject: dir.display().to_string(),
            outcome: "done".into(),
            detail,
        })
        .await?;
    Ok(())
}
