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
    check_store(config, &mut report).await;
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
            "retry after {} (the last repeats); bounce after {}s",
            retry.join(", "),
            config.queue.expiry.as_secs()
        ),
    );
    check_not_yet_served(config, &mut report);

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
    for crl in tls.validator.crl_status(now) {
        let (level, state) = if crl.stale {
            (Level::Warn, "STALE: fetch a newer one")
        } else {
            (Level::Ok, "current")
        };
        report.add(
            level,
            "pki",
            format!(
                "CRL of {} ({} revoked), next update {}: {state}",
                crl.issuer,
                crl.revoked_count,
                crl.next_update.date()
            ),
        );
    }
}

async fn check_store(config: &Config, report: &mut Report) {
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
        return;
    }
    let store = match mssd_store::SqliteStore::open(&path, Default::default()) {
        Ok(store) => store,
        Err(e) => {
            report.add(Level::Fail, "store", e.to_string());
            return;
        }
    };
    use mssd_store::Store;
    match store.health().await {
        Ok(h) if h.healthy() => report.add(Level::Ok, "store", h.to_string()),
        Ok(h) => report.add(Level::Fail, "store", h.to_string()),
        Err(e) => report.add(Level::Fail, "store", e.to_string()),
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

/// Sections the configuration accepts whose features arrive with later parts of mssd:
/// say plainly that they are read but not acted on yet.
fn check_not_yet_served(config: &Config, report: &mut Report) {
    match &config.trust_list.source {
        Some(source) => report.add(
            Level::Warn,
            "trust_list",
            format!("source {source} (refresh every {}s) is configured, but this build does not load the liste blanche yet", config.trust_list.refresh.as_secs()),
        ),
        None => report.add(Level::Warn, "trust_list", "no [trust_list] source: no peer operator will be admitted once SMTP relay is enabled"),
    }
    if !config.relay_routes.is_empty() {
        let routes: Vec<String> = config
            .relay_routes
            .iter()
            .map(|(d, hop)| format!("{d} → {hop}"))
            .collect();
        report.add(
            Level::Warn,
            "relay",
            format!(
                "routes {} are configured; outbound delivery is not in this build yet",
                routes.join(", ")
            ),
        );
    }
    if let Some(oidc) = &config.oidc {
        report.add(
            Level::Warn,
            "auth.oidc",
            format!("issuer {} (JWKS {}, audience {}) is configured; token authentication is not in this build yet", oidc.issuer, oidc.jwks, oidc.audience.as_deref().unwrap_or("any")),
        );
    }
}
