//! SIGHUP: read the configuration again and apply what can change under running sessions:
//! `[tls]` (certificate, key, anchors, CRL files, policies, stale-CRL policy; an IGC-Santé
//! renewal without dropping a connection), `[relay] routes` and `[limits]`. Everything is
//! read and checked before anything changes: a reload that fails keeps the running
//! configuration, and says why in the log, the audit trail and `/metrics`. Sections that
//! need new sockets or a new store (listeners, data dir...) are named in the log as
//! waiting for a restart.

use std::sync::atomic::Ordering;

use mssd_store::AuditEvent;

use super::limits::LimitSettings;
use super::state::ServerState;
use crate::audit;
use crate::config::Config;
use crate::error::{Error, Result};

/// What one reload did.
struct Applied {
    certificate: String,
    waiting_for_restart: Vec<&'static str>,
}

pub async fn reload(state: &ServerState) {
    let status = &state.reloads;
    status
        .last_at
        .store(audit::now_ms() / 1000, Ordering::Relaxed);
    let (outcome, detail) = match apply(state) {
        Ok(applied) => {
            status.succeeded.fetch_add(1, Ordering::Relaxed);
            status.last_ok.store(true, Ordering::Relaxed);
            *status.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
            tracing::info!(certificate = %applied.certificate, "configuration reloaded (SIGHUP): tls, relay routes and limits in force");
            if !applied.waiting_for_restart.is_empty() {
                tracing::warn!(sections = ?applied.waiting_for_restart, "changed in the file but applied only at the next restart");
            }
            println!("mssd: configuration reloaded");
            (
                "ok",
                serde_json::json!({
                    "certificate": applied.certificate,
                    "waiting_for_restart": applied.waiting_for_restart,
                }),
            )
        }
        Err(e) => {
            status.failed.fetch_add(1, Ordering::Relaxed);
            status.last_ok.store(false, Ordering::Relaxed);
            let reason = e.to_string();
            *status.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.clone());
            tracing::error!(error = %reason, "configuration reload (SIGHUP) failed: the running configuration stays");
            println!("mssd: reload failed, running configuration kept: {reason}");
            ("failed", serde_json::json!({ "error": reason }))
        }
    };
    state
        .audit(AuditEvent {
            at: audit::now_ms(),
            kind: "config.reload".into(),
            actor: "SIGHUP".into(),
            subject: state.config.origin.clone(),
            outcome: outcome.into(),
            detail,
        })
        .await;
}

fn apply(state: &ServerState) -> Result<Applied> {
    let next = state.config.reread()?;
    // Checked first: nothing may change when one of them is wrong.
    let routes = mssd_smtp::outbound::Router::new(&next.relay_routes)
        .map_err(|e| Error::Usage(format!("relay.routes: {e}")))?;
    let ours = crate::tls_setup::reload(&state.tls, &next.tls)?;
    state.runner.replace_routes(routes);
    state.limits.replace(limit_settings(&next));
    Ok(Applied {
        certificate: format!("{} (until {})", ours.subject, ours.not_after.date()),
        waiting_for_restart: waiting_for_restart(&state.config, &next),
    })
}

pub fn limit_settings(config: &Config) -> LimitSettings {
    LimitSettings {
        max_total: config.limits.max_connections,
        max_per_ip: config.limits.max_connections_per_ip,
        mta_reserve: config.limits.mta_reserve,
        per_listener: config.limits.per_listener.clone(),
    }
}

/// Sections the reload does not apply that differ from the running ones.
fn waiting_for_restart(running: &Config, next: &Config) -> Vec<&'static str> {
    let differs =
        |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{a:?}") != format!("{b:?}");
    let mut sections = Vec::new();
    for (name, changed) in [
        (
            "server",
            differs(
                &(&running.hostname, &running.domains, &running.data_dir),
                &(&next.hostname, &next.domains, &next.data_dir),
            ),
        ),
        ("listeners", differs(&running.listeners, &next.listeners)),
        ("store", differs(&running.store, &next.store)),
        (
            "tls.ocsp, tls.ocsp_cache, tls.crl_refresh",
            differs(
                &(
                    &running.tls.ocsp,
                    running.tls.ocsp_cache,
                    running.tls.crl_refresh,
                ),
                &(&next.tls.ocsp, next.tls.ocsp_cache, next.tls.crl_refresh),
            ),
        ),
        ("trust_list", differs(&running.trust_list, &next.trust_list)),
        ("smtp", differs(&running.smtp, &next.smtp)),
        ("imap", differs(&running.imap, &next.imap)),
        ("queue", differs(&running.queue, &next.queue)),
        ("auth", differs(&running.oidc, &next.oidc)),
        ("cda", differs(&running.cda, &next.cda)),
        ("citizen", differs(&running.citizen, &next.citizen)),
        (
            "citizen.domain",
            differs(&running.citizen_domain, &next.citizen_domain),
        ),
        (
            "citizen.notify_url",
            differs(&running.citizen_notify, &next.citizen_notify),
        ),
        (
            "auth.password_kinds",
            differs(&running.password_kinds, &next.password_kinds),
        ),
        (
            "citizen.oidc",
            differs(&running.citizen_oidc, &next.citizen_oidc),
        ),
        ("annuaire", differs(&running.annuaire, &next.annuaire)),
        ("web", differs(&running.web, &next.web)),
        ("log", differs(&running.log, &next.log)),
        (
            "http_client",
            differs(&running.http_client, &next.http_client),
        ),
    ] {
        if changed {
            sections.push(name);
        }
    }
    sections
}
