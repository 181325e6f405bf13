//! `mssd store migrate --from FILE --to URL`: copies an SQLite store into an empty PostgreSQL
//! database with `mssd_store::migrate_sqlite_to_postgres`, a progress bar per table, and a
//! summary of the verification. The target is shown as host:port/dbname only: a password in
//! the URL is never printed.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use mssd_store::{
    MigrationProgress, MigrationReport, MigrationStart, PostgresTarget, PostgresTls,
    migrate_sqlite_to_postgres, postgres_requires_tls, postgres_target_name,
};

use crate::cli::{StoreCommand, StoreMigrateArgs};
use crate::error::{Error, Result};

/// Ok(false) when the copy was made but verification found a difference.
pub async fn run(command: StoreCommand) -> Result<bool> {
    match command {
        StoreCommand::Migrate(args) => migrate(args).await,
    }
}

async fn migrate(args: StoreMigrateArgs) -> Result<bool> {
    let shown = postgres_target_name(&args.to)
        .map_err(|e| Error::Usage(format!("--to is not a PostgreSQL URL: {e}")))?;
    let password = args
        .password_file
        .as_deref()
        .map(read_password)
        .transpose()?;
    let tls = tls_for(&args.to, args.ca.as_deref())?;
    if !args.from.is_file() {
        return Err(Error::Usage(format!(
            "--from {}: no such file (the SQLite store is <data_dir>/mssd.sqlite3, or the \
             database of an `mssd backup`)",
            args.from.display()
        )));
    }
    if !args.yes && !confirmed(&args.from, &shown)? {
        println!("nothing done");
        return Ok(false);
    }
    let target = PostgresTarget {
        url: args.to.clone(),
        password,
        tls,
    };
    let mut bars = Bars::default();
    let report = migrate_sqlite_to_postgres(&args.from, &target, &mut bars).await;
    bars.clear();
    let report = report.map_err(|e| Error::Usage(format!("{e}\n{}", what_to_do(&e))))?;
    print_report(&report, &args.from, &shown);
    Ok(report.verified())
}

/// The next step for an operator, after a failure.
fn what_to_do(e: &mssd_store::Error) -> &'static str {
    match e {
        mssd_store::Error::BackendMigration(_) => "",
        mssd_store::Error::Postgres(_) => {
            "check the URL, the password, TLS (--ca) and that the server is up; what was \
             copied is kept: run the same command again to resume"
        }
        mssd_store::Error::Sqlite(_)
        | mssd_store::Error::Corrupt { .. }
        | mssd_store::Error::Io { .. } => {
            "the source could not be read whole: give --from a stopped server's mssd.sqlite3 (with \
             its blobs directory beside it) or the database of a verified `mssd backup`"
        }
        _ => "what was copied is kept: run the same command again to resume",
    }
}

fn read_password(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: format!("reading --password-file {}", path.display()),
        source,
    })?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// TLS with the roots of `--ca`; refused when the URL requires TLS and none is given.
fn tls_for(url: &str, ca: Option<&Path>) -> Result<PostgresTls> {
    let Some(ca) = ca else {
        if postgres_requires_tls(url)? {
            return Err(Error::Usage(
                "the URL requires TLS: give --ca FILE, the PEM certificate of the CA that \
                 signed the PostgreSQL server's certificate"
                    .into(),
            ));
        }
        return Ok(PostgresTls::Disabled);
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in mssd_certs::load_certs(ca)? {
        roots.add(cert).map_err(|e| {
            Error::Usage(format!("--ca {}: unusable certificate: {e}", ca.display()))
        })?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Usage(format!("TLS to PostgreSQL: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(PostgresTls::Rustls(Arc::new(config)))
}

fn confirmed(from: &Path, to: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "standard input is not a terminal: add --yes to confirm the migration".into(),
        ));
    }
    print!(
        "Copy the store {} into {to}? The server must be stopped (or copy from a backup). [y/N] ",
        from.display()
    );
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|source| Error::Io {
            what: "reading the confirmation".into(),
            source,
        })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "oui"))
}

/// One progress bar per table, on standard error.
#[derive(Default)]
struct Bars {
    bar: Option<ProgressBar>,
}

impl Bars {
    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl MigrationProgress for Bars {
    fn table_started(&mut self, table: &str, total_rows: u64, already: u64) {
        self.clear();
        let bar = ProgressBar::new(total_rows);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>24} [{bar:30}] {pos}/{len} rows, {msg} ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(table.to_owned());
        bar.set_position(already);
        bar.set_message("0 MB");
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
    }

    fn rows_copied(&mut self, _: &str, rows: u64, bytes: u64) -> mssd_store::Result<()> {
        if let Some(bar) = &self.bar {
            bar.inc(rows);
            let mb = bar
                .message()
                .trim_end_matches(" MB")
                .parse::<f64>()
                .unwrap_or(0.0)
                + bytes as f64 / 1e6;
            bar.set_message(format!("{mb:.1} MB"));
        }
        Ok(())
    }

    fn table_finished(&mut self, table: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            eprintln!("{table:>24} copied: {} rows", bar.position());
        }
    }

    fn verifying(&mut self, table: &str) {
        self.clear();
        let spinner = ProgressBar::new_spinner();
        spinner.set_message(format!("verifying {table}"));
        spinner.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(spinner);
    }
}

fn print_report(report: &MigrationReport, from: &Path, to: &str) {
    let how = match report.start {
        MigrationStart::Fresh => "copied",
        MigrationStart::Resumed => "resumed and copied",
        MigrationStart::AlreadyDone => "already migrated; verified again",
    };
    println!("{} -> {to}: {how}", from.display());
    println!(
        "{:<24} {:>12} {:>12}  {:<16}  check",
        "table", "sqlite rows", "pg rows", "digest"
    );
    for t in &report.tables {
        println!(
            "{:<24} {:>12} {:>12}  {:<16}  {}",
            t.table,
            t.source_rows,
            t.target_rows,
            &t.target_digest[..16.min(t.target_digest.len())],
            if t.matches() { "ok" } else { "DIFFERENT" }
        );
    }
    let audit = &report.target_audit;
    match (&audit.broken, &audit.head) {
        (None, Some((id, link))) => println!(
            "audit chain: {} records, verified, last record {id}, link {link}",
            audit.records
        ),
        (None, None) => println!("audit chain: empty"),
        (Some((id, why)), _) => println!("audit chain: broken at record {id}: {why}"),
    }
    if report.source_audit != report.target_audit {
        println!(
            "audit chain: the source's walk differs: {:?}",
            report.source_audit
        );
    }
    if report.rows_copied > 0 {
        println!(
            "{} rows, {:.1} MB copied in {:.1} s ({:.0} rows/s); verified in {:.1} s",
            report.rows_copied,
            report.bytes_copied as f64 / 1e6,
            report.copy_seconds,
            report.rows_copied as f64 / report.copy_seconds.max(0.001),
            report.verify_seconds
        );
    }
    if report.source_changed {
        println!(
            "the source changed during the migration: a server is writing to it. Stop it (or \
             copy from an `mssd backup`), then migrate into a new, empty database"
        );
    }
    if report.verified() {
        println!("verified: every table and the audit chain are identical");
    } else {
        println!(
            "verification FAILED: the tables marked DIFFERENT do not match; do not switch to \
             PostgreSQL. Drop the target database and migrate again from a stopped server's \
             store or a backup"
        );
    }
}
