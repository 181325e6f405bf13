//! The operator's LDAP directory as configured in `[annuaire.ldap]`: the sync loop (full
//! syncs see deletions, incremental ones follow modifyTimestamp), provisioning of our
//! mailboxes from it, and LDAP-bind password checks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mssd_annuaire::ldap::{LdapConfig, LdapPasswordVerifier, LdapSync, ProvisionConfig, SyncMode};
use mssd_auth::{Argon2Verifier, PasswordVerifier};
use mssd_store::Store;

use crate::config::{Config, LdapSettings};
use crate::error::{Error, Result};
use crate::exclusive_jobs;

/// Where the server records how its last LDAP sync went, for `mssd doctor`.
pub const LDAP_STATUS_DOCUMENT: &str = "annuaire/ldap-status.json";

pub fn ldap_config(settings: &LdapSettings) -> Result<LdapConfig> {
    let mut anchors = Vec::new();
    for path in &settings.anchors {
        anchors.extend(mssd_certs::load_certs(path)?);
    }
    let mut config = LdapConfig::new(
        settings.url.clone(),
        settings.bind_dn.clone(),
        settings.bind_password.clone(),
        settings.base_dn.clone(),
        anchors,
    );
    config.starttls = settings.starttls;
    if let Some(filter) = &settings.filter {
        config.filter = filter.clone();
    }
    if let Some(attributes) = &settings.attributes {
        config.attributes = attributes.clone();
    }
    config.groups = settings.groups.clone();
    config.page_size = settings.page_size;
    config.timeout = settings.timeout;
    config.pool_size = settings.pool_size;
    config.validate().map_err(ldap_error)?;
    Ok(config)
}

/// With `password_auth`, passwords are checked by an LDAP bind, the stored argon2 hash being
/// the fallback for mailboxes the directory does not know.
pub fn password_verifier(config: &Config) -> Result<Option<Arc<dyn PasswordVerifier>>> {
    let Some(settings) = config.annuaire.ldap.as_ref().filter(|l| l.password_auth) else {
        return Ok(None);
    };
    let verifier = LdapPasswordVerifier::new(ldap_config(settings)?)
        .map_err(ldap_error)?
        .with_fallback(Arc::new(Argon2Verifier::new()));
    Ok(Some(Arc::new(verifier)))
}

fn provision_config(config: &Config, settings: &LdapSettings) -> ProvisionConfig {
    let mut provision = ProvisionConfig::new(config.domains.clone());
    provision.max_suspend_share = settings.max_suspend_share;
    provision
}

/// One sync, then provisioning when configured. Returns a one-line summary.
pub async fn sync_once(
    config: &Config,
    store: &dyn Store,
    full: bool,
    force: bool,
) -> Result<String> {
    let Some(settings) = &config.annuaire.ldap else {
        return Err(Error::Usage(
            "no [annuaire.ldap] section in the configuration".into(),
        ));
    };
    let sync = LdapSync::new(ldap_config(settings)?).map_err(ldap_error)?;
    let mode = if full {
        SyncMode::Full
    } else {
        SyncMode::Incremental
    };
    let (mirror, report) = sync.sync(store, mode).await.map_err(ldap_error)?;
    let mut summary = format!(
        "{} sync: {} entries read, +{} ~{} -{}, {} skipped",
        if report.full { "full" } else { "incremental" },
        report.entries_read,
        report.added,
        report.changed,
        report.removed,
        report.skipped.len()
    );
    if settings.provision {
        let done = mssd_annuaire::ldap::provision(
            store,
            &mirror,
            &provision_config(config, settings),
            force,
        )
        .await
        .map_err(ldap_error)?;
        summary.push_str(&format!(
            "; provisioning: {} created, {} suspended, {} resumed, {} granted, {} revoked",
            done.created, done.suspended, done.resumed, done.granted, done.revoked
        ));
    }
    Ok(summary)
}

/// Full sync at start and every `full_sync`, incremental ones every `incremental_sync`;
/// each outcome is logged and recorded. A failure keeps the last good mirror.
pub fn spawn_ldap_loop(
    config: Arc<Config>,
    store: Arc<dyn Store>,
) -> Option<tokio::task::JoinHandle<()>> {
    let settings = config.annuaire.ldap.clone()?;
    Some(tokio::spawn(async move {
        let mut last_full: Option<Instant> = None;
        loop {
            let full = last_full.is_none_or(|t| t.elapsed() >= settings.full_sync);
            let sync = sync_once(&config, store.as_ref(), full, false);
            // Another node syncing writes the mirror, mailboxes and status for all.
            let Some(outcome) =
                exclusive_jobs::run_scheduled(store.as_ref(), exclusive_jobs::LDAP_SYNC, sync)
                    .await
            else {
                tokio::time::sleep(settings.incremental_sync.max(Duration::from_secs(1))).await;
                continue;
            };
            let status = match &outcome {
                Ok(summary) => {
                    if full {
                        last_full = Some(Instant::now());
                    }
                    tracing::info!(%summary, "LDAP sync");
                    serde_json::json!({ "at": now(), "result": "ok", "summary": summary })
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LDAP sync failed; the last good directory stays");
                    serde_json::json!({ "at": now(), "result": "failed", "error": e.to_string() })
                }
            };
            if let Err(e) = store
                .put_document(LDAP_STATUS_DOCUMENT, status.to_string().into_bytes())
                .await
            {
                tracing::warn!(error = %e, "could not record the LDAP sync status");
            }
            tokio::time::sleep(settings.incremental_sync.max(Duration::from_secs(1))).await;
        }
    }))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn ldap_error(e: mssd_annuaire::Error) -> Error {
    Error::Usage(format!("LDAP: {e}"))
}

/// The national directory index, as SMTP's unknown-recipient check sees it.
#[derive(Debug)]
pub struct DirectoryLookup(pub mssd_annuaire::SharedDirectory);

impl mssd_smtp::KnownRecipients for DirectoryLookup {
    fn knows(&self, address: &mssd_core::Address) -> Option<bool> {
        let directory = self.0.get();
        (!directory.is_empty()).then(|| directory.knows(address))
    }
}

/// The index of the directory in force, built from the store.
pub async fn load_directory(store: &dyn Store) -> Result<mssd_annuaire::SharedDirectory> {
    let directory = mssd_annuaire::Directory::load(store)
        .await
        .map_err(annuaire_error)?;
    Ok(mssd_annuaire::SharedDirectory::new(directory))
}

/// Imports the configured national extraction(s) now and every `annuaire.refresh`: an https
/// URL (checked with the `[http_client]` anchors), a file, or a directory where the newest
/// `Extraction_Correspondance_MSSante_*` and `PS_LibreAcces_Personne_activite_*` files are
/// taken. Accepted imports are put in force in `shared`; refusals keep the directory.
pub fn spawn_import_loop(
    config: Arc<Config>,
    store: Arc<dyn Store>,
    shared: mssd_annuaire::SharedDirectory,
) -> Option<tokio::task::JoinHandle<()>> {
    let source = config.annuaire.source.clone()?;
    Some(tokio::spawn(async move {
        loop {
            let import = import_from_source(&config, store.as_ref(), &source);
            // Another node importing: `serve::store_watch` puts its import in force here.
            let outcome = exclusive_jobs::run_scheduled(
                store.as_ref(),
                exclusive_jobs::ANNUAIRE_IMPORT,
                import,
            )
            .await;
            match outcome {
                Some(Ok(accepted)) if accepted > 0 => match shared.reload(store.as_ref()).await {
                    Ok(entries) => tracing::info!(entries, "national directory reloaded"),
                    Err(e) => tracing::warn!(error = %e, "national directory reload failed"),
                },
                None | Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "national directory refresh failed; the directory in force stays")
                }
            }
            tokio::time::sleep(config.annuaire.refresh.max(Duration::from_secs(60))).await;
        }
    }))
}

/// Returns how many files were accepted.
async fn import_from_source(config: &Config, store: &dyn Store, source: &str) -> Result<usize> {
    let files = if source.starts_with("https://") {
        vec![download(config, source).await?]
    } else {
        let path = config.data_dir.join(source);
        if path.is_dir() {
            newest_extractions(&path)?
        } else {
            vec![path]
        }
    };
    let mut accepted = 0;
    for file in files {
        let options = mssd_annuaire::ImportOptions {
            max_removal_share: config.annuaire.max_removal_share,
            max_bytes: config.annuaire.max_extracted_size,
            max_lines: config.annuaire.max_lines,
            progress: mssd_annuaire::extraction::ProgressMode::Lines,
            source: Some(source.to_string()),
            ..Default::default()
        };
        match mssd_annuaire::import_file(store, &file, &options).await {
            Ok(report) if report.replaced => accepted += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "national directory import refused")
            }
        }
    }
    Ok(accepted)
}

/// The newest file of each extraction kind in `dir` (their names end in a timestamp).
fn newest_extractions(dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        what: format!("reading {}", dir.display()),
        source,
    })?;
    let names: Vec<std::path::PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let newest = |prefix: &str| {
        names
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .max()
            .cloned()
    };
    Ok([
        "Extraction_Correspondance_MSSante_",
        "PS_LibreAcces_Personne_activite_",
    ]
    .iter()
    .filter_map(|prefix| newest(prefix))
    .collect())
}

/// Downloads into the data dir with the liste blanche's fetcher: the `[http_client]` anchors
/// (the national extractions are served with a public-PKI certificate), bounded.
async fn download(config: &Config, url: &str) -> Result<std::path::PathBuf> {
    let options = mssd_trust_list::FetchOptions {
        max_bytes: 2 << 30,
        ..Default::default()
    };
    let fetcher = crate::http_setup::fetcher(config, options, true, "annuaire.source")?;
    let location = mssd_trust_list::Location::parse(url)
        .map_err(|e| Error::Usage(format!("annuaire.source: {e}")))?;
    let bytes = fetcher
        .fetch(&location)
        .await
        .map_err(|e| Error::Usage(format!("annuaire.source {url}: {e}")))?;
    let name = url
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("extraction.zip");
    let path = config.data_dir.join("annuaire-download").join(name);
    let io = |source| Error::Io {
        what: format!("writing {}", path.display()),
        source,
    };
    std::fs::create_dir_all(path.parent().unwrap_or(&config.data_dir)).map_err(io)?;
    std::fs::write(&path, bytes).map_err(io)?;
    Ok(path)
}

fn annuaire_error(e: mssd_annuaire::Error) -> Error {
    Error::Usage(format!("annuaire: {e}"))
}
