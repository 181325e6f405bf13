//! `mssd doctor`: checks what the server needs before it can serve, one line per check,
//! and exits 1 if any check fails. Read-only: it creates nothing.

use std::time::Duration;

use rustls::pki_types::UnixTime;

use crate::config::Config;
use crate::error::Result;
use crate::tls_setup;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Default)]
struct Report {
    lines: Vec<(Level, String, String)>,
}

impl Report {
    fn add(&mut self, level: Level, area: &str, text: impl Into<String>) {
        self.lines.push((level, area.to_string(), text.into()));
    }

    fn failures(&self) -> usize {
        self.lines
            .iter()
            .filter(|(l, ..)| *l == Level::Fail)
            .count()
    }
}

const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 86_400);

/// Returns whether everything passed; the caller turns that into the exit status.
pub async fn run(config: &Config) -> Result<bool> {
    let mut report = Report::default();
    report.add(
        Level::Ok,
        "config",
        format!(
            "{}: domains {}, hostname {}, data dir {}",
            config.origin,
            config.domains.join(", "),
            config.hostname,
            config.data_dir.display()
        ),
    );
    check_tls(config, &mut report);
    check_file_modes(config, &mut report);
    let store = check_store(config, &mut report).await;
    check_listeners(config, &mut report);
    let retry: Vec<String> = config
        .queue
        .retry
        .iter()
        .map(|d| format!("{}s", d.as_secs()))
        .collect();
    report.add(
        Level::Ok,
        "queue",
        format!(
            "retry after {} (the last repeats); bounce after {}s; queue looked at every {}s",
            retry.join(", "),
            config.queue.expiry.as_secs(),
            config.queue.poll.as_secs()
        ),
    );
    if let Some(store) = &store {
        check_trust_list(config, store, &mut report).await;
        check_annuaire(config, store.as_ref(), &mut report).await;
    }
    check_auth_and_relay(config, store.as_deref(), &mut report).await;

    println!("mssd doctor");
    for (level, area, text) in &report.lines {
        let tag = match level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        println!("  {tag}  {area}: {text}");
    }
    let failures = report.failures();
    if failures == 0 {
        println!("healthy");
    } else {
        println!("{failures} check(s) failed");
    }
    Ok(failures == 0)
}

fn check_tls(config: &Config, report: &mut Report) {
    let tls = match tls_setup::load(&config.tls) {
        Ok(tls) => tls,
        Err(e) => {
            report.add(Level::Fail, "pki", e.to_string());
            return;
        }
    };
    let now = UnixTime::now();
    let left = tls.ours.not_after.unix_timestamp() - now.as_secs() as i64;
    let level = if left < EXPIRY_WARNING.as_secs() as i64 {
        Level::Warn
    } else {
        Level::Ok
    };
    report.add(
        level,
        "pki",
        format!(
            "server certificate {} valid until {} ({} days left)",
            tls.ours.subject,
            tls.ours.not_after.date(),
            left / 86_400
        ),
    );
    match (tls.chain.split_first(), &tls.ours.fqdn()) {
        (Some(_), Some(fqdn)) if *fqdn == config.hostname => {}
        (_, fqdn) => report.add(
            Level::Warn,
            "pki",
            format!(
                "server certificate names {} but server.hostname is {}",
                fqdn.unwrap_or("no host"),
                config.hostname
            ),
        ),
    }
    if let Some((leaf, intermediates)) = tls.chain.split_first() {
        match tls
            .validator
            .validate(leaf, intermediates, mssd_certs::Usage::ClientAuth, now)
        {
            Ok(_) => report.add(
                Level::Ok,
                "pki",
                "server certificate is also valid for client authentication (outbound relay)",
            ),
            Err(e) => report.add(
                Level::Fail,
                "pki",
                format!("server certificate cannot authenticate us to peers: {e}"),
            ),
        }
    }
    match mssd_certs::server_config(
        tls.chain.clone(),
        tls.key.clone_key(),
        tls.validator.clone(),
        mssd_certs::ClientAuth::Optional,
    ) {
        Ok(_) => report.add(Level::Ok, "pki", "private key matches the certificate"),
        Err(e) => report.add(Level::Fail, "pki", format!("TLS configuration: {e}")),
    }
    for subject in tls.validator.anchor_subjects() {
        report.add(Level::Ok, "pki", format!("trust anchor {subject}"));
    }
    // The CRLs the server downloaded and saved, checked again: those in force are listed
    // with the files', those whose CA no chain has shown yet apart.
    mssd_crl_fetch::CrlCache::new(config.data_dir.join("crls").join("fetched"))
        .restore_into(&tls.validator);
    let refuse = tls.validator.stale_crl_policy() == mssd_certs::StaleCrl::Refuse;
    let crls = tls.validator.crl_status(now);
    if crls.is_empty() {
        report.add(
            Level::Warn,
            "pki",
            "no CRL in force: revocation is not checked (tls.crls, tls.crl_urls or distribution points)",
        );
    }
    for anchor in tls.validator.anchors_without_crl() {
        report.add(
            Level::Warn,
            "pki",
            format!("no CRL of {anchor}: the CAs it issues are not revocation-checked"),
        );
    }
    for source in tls.validator.pending_crl_sources() {
        report.add(
            Level::Ok,
            "pki",
            format!("CRL from {source} saved, in force once a peer's chain shows its CA"),
        );
    }
    for crl in crls {
        let (level, state) = match (crl.stale, refuse) {
            (false, _) => (Level::Ok, "current"),
            (true, false) => (Level::Warn, "STALE: still used (tls.stale_crl = \"warn\")"),
            (true, true) => (
                Level::Fail,
                "STALE: its certificates are refused (tls.stale_crl = \"refuse\")",
            ),
        };
        let age_hours = (now.as_secs() as i64 - crl.this_update.unix_timestamp()) / 3600;
        report.add(
            level,
            "pki",
            format!(
                "CRL of {} from {} ({} revoked), issued {age_hours} h ago, next update {}: {state}",
                crl.issuer,
                crl.source,
                crl.revoked_count,
                crl.next_update.date()
            ),
        );
    }
}

/// Opens the store as `serve` would (a missing SQLite file is not created): the other checks
/// read it.
async fn check_store(
    config: &Config,
    report: &mut Report,
) -> Option<std::sync::Arc<dyn mssd_store::Store>> {
    if config.store == crate::config::StoreBackend::Sqlite {
        let path = config.database_path();
        if !path.exists() {
            report.add(
                Level::Fail,
                "store",
                format!(
                    "no database at {} (start `mssd serve` once, or check server.data_dir)",
                    path.display()
                ),
            );
            return None;
        }
    }
    let store = match crate::store_open::open(config).await {
        Ok(store) => store,
        Err(e) => {
            report.add(Level::Fail, "store", e.to_string());
            return None;
        }
    };
    match store.health().await {
        Ok(h) if h.healthy() => report.add(Level::Ok, "store", h.to_string()),
        Ok(h) => report.add(Level::Fail, "store", h.to_string()),
        Err(e) => report.add(Level::Fail, "store", e.to_string()),
    }
    Some(store)
}

/// The data dir, database and keys must be owner-only (serve tightens them at start).
fn check_file_modes(config: &Config, report: &mut Report) {
    let loose = crate::file_modes::loose_modes(config);
    if loose.is_empty() {
        report.add(
            Level::Ok,
            "files",
            "data dir, database and private keys are owner-only".to_owned(),
        );
    }
    for fix in loose {
        report.add(
            Level::Fail,
            "files",
            format!(
                "{fix} (chmod {:o} it; mssd serve does at start)",
                fix.wanted
            ),
        );
    }
}

fn check_listeners(config: &Config, report: &mut Report) {
    let l = &config.listeners;
    let listed: Vec<String> = [
        ("smtp", l.smtp),
        ("submission", l.submission),
        ("submissions", l.submissions),
        ("imap", l.imap),
        ("imaps", l.imaps),
        ("http", l.http),
    ]
    .iter()
    .filter_map(|(name, addr)| addr.map(|a| format!("{name} {a}")))
    .collect();
    if listed.is_empty() {
        report.add(
            Level::Warn,
            "listeners",
            "none configured: the server would serve nothing",
        );
    } else {
        report.add(Level::Ok, "listeners", listed.join(", "));
    }
}

/// The liste blanche the server enforces (from the store) and how its last refresh went.
async fn check_trust_list(
    config: &Config,
    store: &std::sync::Arc<dyn mssd_store::Store>,
    report: &mut Report,
) {
    match &config.trust_list.source {
        Some(source) => report.add(
            Level::Ok,
            "trust_list",
            format!("source {source}, refreshed every {}s", config.trust_list.refresh.as_secs()),
        ),
        None => report.add(
            Level::Warn,
            "trust_list",
            "no [trust_list] source: the stored list is never refreshed (`mssd trust-list load` updates it)",
        ),
    }
    let trust = match crate::trust_setup::restore(config, store.clone()).await {
        Ok(trust) => trust,
        Err(e) => return report.add(Level::Fail, "trust_list", e.to_string()),
    };
    use mssd_trust_list::RestoreOutcome;
    match trust.status().restored {
        Some(RestoreOutcome::Restored {
            generated_at,
            domains,
        }) => {
            let age_days = (time::OffsetDateTime::now_utc() - generated_at).whole_days();
            let level = if age_days > 7 { Level::Warn } else { Level::Ok };
            report.add(
                level,
                "trust_list",
                format!("list of {generated_at} in force ({age_days} days old), {domains} domains"),
            );
        }
        Some(RestoreOutcome::Unusable { reason }) => report.add(
            Level::Fail,
            "trust_list",
            format!("the stored list is unusable, nothing is listed: {reason}"),
        ),
        Some(RestoreOutcome::NothingStored) | None => report.add(
            Level::Warn,
            "trust_list",
            "no list stored yet: no peer operator is admitted and no remote domain is reachable",
        ),
    }
    let Ok(Some(bytes)) = store.document(mssd_trust_list::STATUS_DOCUMENT).await else {
        return;
    };
    let Ok(status) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return;
    };
    let at = status["last_attempt"]
        .as_i64()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok());
    let at = at.map(|t| t.to_string()).unwrap_or_else(|| "?".into());
    let last = &status["last_result"];
    match last["result"].as_str() {
        Some("refused") => report.add(
            Level::Warn,
            "trust_list",
            format!(
                "last refresh ({at}) REFUSED ({}): {}; the previous list stays in force ({} refusals so far)",
                last["kind"].as_str().unwrap_or("?"),
                last["reason"].as_str().unwrap_or("?"),
                status["refused"]
            ),
        ),
        Some(result) => report.add(Level::Ok, "trust_list", format!("last refresh ({at}): {result}")),
        None => {}
    }
}

/// The national directory in force and the last LDAP sync the server recorded.
async fn check_annuaire(config: &Config, store: &dyn mssd_store::Store, report: &mut Report) {
    match store.directory_status().await {
        Ok(sets) if sets.is_empty() => report.add(
            Level::Warn,
            "annuaire",
            "no national directory imported: `mssd annuaire import FILE` or [annuaire] source",
        ),
        Ok(sets) => {
            for set in sets {
                let at = time::OffsetDateTime::from_unix_timestamp(set.imported_at)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                report.add(
                    Level::Ok,
                    "annuaire",
                    format!(
                        "{}: {} entries from {} imported {at}",
                        set.set.as_str(),
                        set.entries,
                        set.source
                    ),
                );
            }
        }
        Err(e) => report.add(Level::Fail, "annuaire", e.to_string()),
    }
    for set in ["mailboxes", "professionals"] {
        let name = format!("annuaire/last-import-{set}.json");
        let Ok(Some(bytes)) = store.document(&name).await else {
            continue;
        };
        let Ok(r) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let at = r["finished_at"]
            .as_i64()
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok());
        let at = at.map(|t| t.to_string()).unwrap_or_default();
        let source = r["source"].as_str().unwrap_or("?");
        if r["replaced"].as_bool().unwrap_or(false) {
            report.add(
                Level::Ok,
                "annuaire",
                format!("last {set} import ({at}) of {source}: applied"),
            );
        } else {
            let why = r["refused"].as_str().unwrap_or("not applied");
            report.add(
                Level::Warn,
                "annuaire",
                format!("last {set} import ({at}) of {source} REFUSED: {why}"),
            );
        }
    }
    if config.annuaire.ldap.is_some()
        && let Ok(Some(bytes)) = store
            .document(crate::annuaire_setup::LDAP_STATUS_DOCUMENT)
            .await
        && let Ok(status) = serde_json::from_slice::<serde_json::Value>(&bytes)
    {
        let ok = status["result"] == "ok";
        let text = if ok {
            &status["summary"]
        } else {
            &status["error"]
        };
        report.add(
            if ok { Level::Ok } else { Level::Warn },
            "annuaire.ldap",
            format!(
                "last sync {}: {}",
                if ok { "ok" } else { "FAILED" },
                text.as_str().unwrap_or("?")
            ),
        );
    }
}

/// Token authentication (issuers' keys, kept or fetched) and static routes, as configured.
async fn check_auth_and_relay(
    config: &Config,
    store: Option<&dyn mssd_store::Store>,
    report: &mut Report,
) {
    if !config.relay_routes.is_empty() {
        let routes: Vec<String> = config
            .relay_routes
            .iter()
            .map(|(d, hop)| format!("{d} → {hop}"))
            .collect();
        report.add(
            Level::Ok,
            "relay",
            format!("static routes {}", routes.join(", ")),
        );
    }
    use crate::jwks_doctor::{Health, check};
    use crate::jwks_source::Issuer;
    let mut issuers = Vec::new();
    if let Some(oidc) = &config.oidc {
        issuers.push((
            Issuer::Professional,
            &oidc.issuer,
            &oidc.jwks,
            &oidc.audience,
        ));
    }
    if let Some(crate::config::CitizenOidcConfig::Issuer {
        issuer,
        jwks,
        audience,
        ..
    }) = &config.citizen_oidc
    {
        issuers.push((Issuer::Citizen, issuer, jwks, audience));
    }
    for (which, issuer, jwks, audience) in issuers {
        let (health, text) = check(config, store, which, jwks).await;
        let level = match health {
            Health::Ok => Level::Ok,
            Health::Stale => Level::Warn,
            Health::Missing => Level::Fail,
        };
        report.add(
            level,
            which.section(),
            format!("issuer {issuer}, audience {audience}: {text}"),
        );
    }
}
