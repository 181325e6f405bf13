//! `mssd annuaire import|lookup|export|status|red-list`: the national directory for operators.
//! `import` applies the same safety rules as the scheduled refresh (unless `--force`); the
//! running server picks the new directory up at its next reload.

use std::path::PathBuf;

use clap::Subcommand;
use mssd_annuaire::extraction::{ProgressMode, report_document};
use mssd_annuaire::{Directory, ExportOptions, ImportOptions, ImportReport, export, import_file};
use mssd_core::Address;
use mssd_store::{DirectorySet, Store};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::exclusive_jobs;
use crate::store_open;

#[derive(Debug, Subcommand)]
pub enum AnnuaireCommand {
    /// Import an Extraction_Correspondance_MSSante or PS_LibreAcces_Personne_activite file
    /// (plain or zipped); the directory in force is replaced only if the file is accepted.
    Import {
        file: PathBuf,
        /// Apply an empty file or one removing more than `annuaire.max_removal_share` of the
        /// entries (never a Latin-1 file or one missing required columns).
        #[arg(long)]
        force: bool,
    },
    /// Search the directory: address, RPPS / ADELI / idNat_PS, FINESS / SIRET / idNat_Struct,
    /// or a name or structure-name prefix. Red-listed entries are never shown.
    Lookup {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Write our mailboxes as FHIR Patch documents for publication to the national directory.
    Export {
        /// idNat_Struct of our structure, the target of ORG, APP and CAB mailboxes.
        #[arg(long, value_name = "IDNAT_STRUCT")]
        structure_id: Option<String>,
    },
    /// The directory in force and the last import of each file.
    Status,
    /// Sync from the operator's LDAP directory (`[annuaire.ldap]`) now, then provision our
    /// mailboxes when configured.
    Sync {
        /// A full sync (sees deleted entries) instead of an incremental one.
        #[arg(long)]
        full: bool,
        /// Provision even when more than `max_suspend_share` of the mailboxes would be suspended.
        #[arg(long)]
        force: bool,
    },
    /// Red-list one of our mailboxes (never published nor shown), or lift it with `--off`.
    RedList {
        address: String,
        #[arg(long)]
        off: bool,
    },
}

/// Ok(false): `lookup` found nothing.
pub async fn run(config: &Config, command: AnnuaireCommand) -> Result<bool> {
    let store = store_open::open(config).await?;
    match command {
        AnnuaireCommand::Import { file, force } => {
            let held =
                exclusive_jobs::hold_for_command(store.as_ref(), exclusive_jobs::ANNUAIRE_IMPORT)
                    .await?;
            let done = import(config, store.as_ref(), &file, force).await;
            held.release().await;
            done
        }
        AnnuaireCommand::Lookup { query, limit, json } => {
            lookup(store.as_ref(), &query, limit, json).await
        }
        AnnuaireCommand::Export { structure_id } => {
            let options = ExportOptions {
                structure_id,
                services: Vec::new(),
            };
            let bundle = export(store.as_ref(), &options).await.map_err(annuaire)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&bundle).unwrap_or_default()
            );
            Ok(true)
        }
        AnnuaireCommand::Status => status(store.as_ref()).await,
        AnnuaireCommand::Sync { full, force } => {
            let held =
                exclusive_jobs::hold_for_command(store.as_ref(), exclusive_jobs::LDAP_SYNC).await?;
            let summary =
                crate::annuaire_setup::sync_once(config, store.as_ref(), full, force).await;
            held.release().await;
            println!("{}", summary?);
            Ok(true)
        }
        AnnuaireCommand::RedList { address, off } => {
            let address = Address::parse(&address)?;
            store.set_red_listed(&address, !off).await?;
            println!(
                "{} {}",
                address.redacted(),
                if off {
                    "is no longer red-listed"
                } else {
                    "is red-listed"
                }
            );
            Ok(true)
        }
    }
}

async fn import(
    config: &Config,
    store: &dyn Store,
    file: &std::path::Path,
    force: bool,
) -> Result<bool> {
    let options = ImportOptions {
        force,
        max_removal_share: config.annuaire.max_removal_share,
        max_bytes: config.annuaire.max_extracted_size,
        max_lines: config.annuaire.max_lines,
        progress: ProgressMode::Auto,
        ..ImportOptions::default()
    };
    match import_file(store, file, &options).await {
        Ok(report) => {
            print_report(&report);
            Ok(true)
        }
        Err(mssd_annuaire::Error::Refused { reason, report }) => {
            print_report(&report);
            Err(Error::Usage(format!(
                "import refused, the directory in force is unchanged: {reason}"
            )))
        }
        Err(e) => Err(annuaire(e)),
    }
}

fn print_report(r: &ImportReport) {
    let c = &r.counts;
    println!(
        "{}: {} lines ({} blank), {} accepted, {} malformed, {} merged duplicates, {} entries",
        r.file.as_str(),
        c.lines,
        c.blank_lines,
        c.accepted,
        c.malformed,
        r.merged,
        r.entries
    );
    println!(
        "changes against the directory in force ({} entries): +{} added, -{} removed, ~{} changed",
        r.diff.previous, r.diff.added, r.diff.removed, r.diff.changed
    );
    for m in &c.malformed_lines {
        println!("  line {}: {}", m.line, m.reason);
    }
    if c.malformed > c.malformed_lines.len() as u64 {
        println!(
            "  … {} more malformed lines",
            c.malformed - c.malformed_lines.len() as u64
        );
    }
    if r.replaced {
        println!(
            "applied{} in {:.1} s",
            if r.forced { " (forced)" } else { "" },
            r.elapsed_ms as f64 / 1000.0
        );
    }
}

async fn lookup(store: &dyn Store, query: &str, limit: usize, json: bool) -> Result<bool> {
    let directory = Directory::load(store).await.map_err(annuaire)?;
    let hits = directory.lookup(query, limit);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&hits).unwrap_or_default()
        );
    } else {
        for e in &hits {
            let name = [e.civility(), e.first_name(), e.last_name()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            println!(
                "{}\t{}\t{}\t{}\t{}",
                e.address(),
                e.kind().as_str(),
                e.id_nat_ps().unwrap_or("-"),
                if name.is_empty() { "-" } else { &name },
                e.structure_name().unwrap_or("-")
            );
        }
    }
    Ok(!hits.is_empty())
}

async fn status(store: &dyn Store) -> Result<bool> {
    let sets = store.directory_status().await?;
    for set in DirectorySet::ALL {
        match sets.iter().find(|s| s.set == set) {
            Some(s) => println!(
                "{}: {} entries, imported at {} (unix) from {}",
                set.as_str(),
                s.entries,
                s.imported_at,
                s.source
            ),
            None => println!("{}: never imported", set.as_str()),
        }
        if let Some(bytes) = store.document(&report_document(set)).await?
            && let Ok(last) = serde_json::from_slice::<ImportReport>(&bytes)
        {
            println!(
                "  last import at {}: {}",
                last.finished_at,
                last.refused
                    .as_deref()
                    .map_or_else(|| "applied".to_owned(), |r| format!("refused: {r}"))
            );
        }
    }
    Ok(true)
}

fn annuaire(e: mssd_annuaire::Error) -> Error {
    Error::Usage(e.to_string())
}
