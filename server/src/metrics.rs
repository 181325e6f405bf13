//! Process metrics, rendered in the Prometheus text exposition format on `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters of one listener.
#[derive(Debug)]
pub struct ListenerMetrics {
    pub name: &'static str,
    pub accepted: AtomicU64,
    pub active: AtomicU64,
    pub refused_limit: AtomicU64,
    pub tls_failures: AtomicU64,
}

impl ListenerMetrics {
    fn new(name: &'static str) -> Self {
        ListenerMetrics {
            name,
            accepted: AtomicU64::new(0),
            active: AtomicU64::new(0),
            refused_limit: AtomicU64::new(0),
            tls_failures: AtomicU64::new(0),
        }
    }
}

pub const LISTENER_NAMES: [&str; 6] =
    ["smtp", "submission", "submissions", "imap", "imaps", "http"];

#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    listeners: Vec<ListenerMetrics>,
}

/// Figures read from other parts at scrape time.
pub struct Snapshot {
    pub store_writes: u64,
    pub store_commits: u64,
    pub store_healthy: bool,
    pub trust: mssd_trust_list::RefreshStatus,
    pub smtp_accepted: u64,
    pub smtp_bytes: u64,
    pub smtp_trust_refusals: u64,
    pub auth_failures: u64,
    /// IMAP: sessions, logins, commands since start.
    pub imap: (u64, u64, u64),
    pub queue: mssd_store::QueueSummary,
    /// Outbound (delivered, deferred, failed, refused peers, reports) since start.
    pub outbound: (u64, u64, u64, u64, u64),
    /// Entries of the national directory index in force and its size in bytes.
    pub directory: (u64, u64),
    /// Last import per file kind: (set, finished at, applied).
    pub imports: Vec<(String, i64, bool)>,
    pub cda: crate::metrics_cda::CdaFigures,
    pub tls: crate::metrics_tls::TlsFigures,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            listeners: LISTENER_NAMES
                .iter()
                .map(|n| ListenerMetrics::new(n))
                .collect(),
        }
    }
}

impl Metrics {
    pub fn listener(&self, name: &str) -> &ListenerMetrics {
        // LISTENER_NAMES is the closed set of names callers use; fall back to the first
        // rather than panic should a new listener forget to register.
        self.listeners
            .iter()
            .find(|l| l.name == name)
            .unwrap_or(&self.listeners[0])
    }

    pub fn render(&self, snapshot: &Snapshot) -> String {
        let mut out = String::with_capacity(2048);
        let version = env!("CARGO_PKG_VERSION");
        gauge(
            &mut out,
            "mssd_build_info",
            "mssd version",
            &[(format!("version=\"{version}\""), 1.0)],
        );
        gauge(
            &mut out,
            "mssd_uptime_seconds",
            "seconds since the server started",
            &[(String::new(), self.started.elapsed().as_secs_f64())],
        );
        let per_listener = |f: &dyn Fn(&ListenerMetrics) -> u64| -> Vec<(String, f64)> {
            self.listeners
                .iter()
                .map(|l| (format!("listener=\"{}\"", l.name), f(l) as f64))
                .collect()
        };
        counter(
            &mut out,
            "mssd_connections_accepted_total",
            "connections accepted",
            &per_listener(&|l| l.accepted.load(Ordering::Relaxed)),
        );
        gauge(
            &mut out,
            "mssd_connections_active",
            "connections open now",
            &per_listener(&|l| l.active.load(Ordering::Relaxed)),
        );
        counter(
            &mut out,
            "mssd_connections_refused_limit_total",
            "connections refused by a connection limit",
            &per_listener(&|l| l.refused_limit.load(Ordering::Relaxed)),
        );
        counter(
            &mut out,
            "mssd_tls_handshake_failures_total",
            "TLS handshakes that failed (certificate refused, protocol error)",
            &per_listener(&|l| l.tls_failures.load(Ordering::Relaxed)),
        );
        counter(
            &mut out,
            "mssd_store_writes_total",
            "durable store writes acknowledged",
            &[(String::new(), snapshot.store_writes as f64)],
        );
        counter(
            &mut out,
            "mssd_store_commits_total",
            "store transactions committed (one WAL fsync each, shared by a group of writes)",
            &[(String::new(), snapshot.store_commits as f64)],
        );
        gauge(
            &mut out,
            "mssd_store_healthy",
            "1 when the store answered its health check",
            &[(
                String::new(),
                if snapshot.store_healthy { 1.0 } else { 0.0 },
            )],
        );
        render_trust(&mut out, &snapshot.trust);
        let one = |v: u64| [(String::new(), v as f64)];
        counter(
            &mut out,
            "mssd_smtp_messages_accepted_total",
            "messages acknowledged with 250 after a durable write",
            &one(snapshot.smtp_accepted),
        );
        counter(
            &mut out,
            "mssd_smtp_bytes_accepted_total",
            "bytes of the messages acknowledged",
            &one(snapshot.smtp_bytes),
        );
        counter(
            &mut out,
            "mssd_smtp_trust_refusals_total",
            "SMTP commands refused for trust (certificate, liste blanche, relay)",
            &one(snapshot.smtp_trust_refusals),
        );
        counter(
            &mut out,
            "mssd_auth_failures_total",
            "failed authentications (SMTP submission and IMAP)",
            &one(snapshot.auth_failures),
        );
        for (name, help, samples) in snapshot.cda.families() {
            counter(&mut out, name, help, &samples);
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for (name, help, kind, samples) in snapshot.tls.families(now) {
            family(&mut out, name, help, kind, &samples);
        }
        let (sessions, logins, commands) = snapshot.imap;
        counter(
            &mut out,
            "mssd_imap_sessions_total",
            "IMAP connections served",
            &one(sessions),
        );
        counter(
            &mut out,
            "mssd_imap_logins_total",
            "successful IMAP logins",
            &one(logins),
        );
        counter(
            &mut out,
            "mssd_imap_commands_total",
            "IMAP commands received",
            &one(commands),
        );
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let age = snapshot
            .queue
            .oldest_created_at
            .map_or(0, |t| (now - t).max(0));
        gauge(
            &mut out,
            "mssd_queue_depth",
            "messages in the outbound queue",
            &one(snapshot.queue.depth),
        );
        gauge(
            &mut out,
            "mssd_queue_oldest_age_seconds",
            "age of the oldest queued message (0: empty)",
            &one(age as u64),
        );
        let (delivered, deferred, failed, refused, reports) = snapshot.outbound;
        let results = [
            ("delivered", delivered),
            ("deferred", deferred),
            ("failed", failed),
            ("peer_refused", refused),
        ];
        let samples: Vec<(String, f64)> = results
            .iter()
            .map(|(r, n)| (format!("result=\"{r}\""), *n as f64))
            .collect();
        counter(
            &mut out,
            "mssd_outbound_recipients_total",
            "outbound delivery outcomes per recipient since start",
            &samples,
        );
        counter(
            &mut out,
            "mssd_dsn_generated_total",
            "delivery status notifications generated",
            &one(reports),
        );
        gauge(
            &mut out,
            "mssd_annuaire_entries",
            "mailboxes of the national directory in force",
            &one(snapshot.directory.0),
        );
        gauge(
            &mut out,
            "mssd_annuaire_index_bytes",
            "memory of the national directory index",
            &one(snapshot.directory.1),
        );
        let at: Vec<(String, f64)> = snapshot
            .imports
            .iter()
            .map(|(set, t, _)| (format!("set=\"{set}\""), *t as f64))
            .collect();
        let ok: Vec<(String, f64)> = snapshot
            .imports
            .iter()
            .map(|(set, _, applied)| (format!("set=\"{set}\""), if *applied { 1.0 } else { 0.0 }))
            .collect();
        if !at.is_empty() {
            gauge(
                &mut out,
                "mssd_annuaire_last_import_timestamp_seconds",
                "when the last import of each file kind finished",
                &at,
            );
            gauge(
                &mut out,
                "mssd_annuaire_last_import_success",
                "1 when the last import was applied, 0 when refused",
                &ok,
            );
        }
        out
    }
}

/// The liste blanche in force and how its refreshes went.
fn render_trust(out: &mut String, status: &mssd_trust_list::RefreshStatus) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    let ts = |t: Option<time::OffsetDateTime>| t.map_or(0.0, |t| t.unix_timestamp() as f64);
    gauge(
        out,
        "mssd_trust_list_domains",
        "domains of the liste blanche in force",
        &[(String::new(), status.domains as f64)],
    );
    gauge(
        out,
        "mssd_trust_list_entries",
        "(domain, operator DN) entries in force",
        &[(String::new(), status.entries as f64)],
    );
    gauge(
        out,
        "mssd_trust_list_generated_timestamp_seconds",
        "DateDeGeneration of the list in force (0: none)",
        &[(String::new(), ts(status.generated_at))],
    );
    let age = status
        .generated_at
        .map_or(0.0, |g| now - g.unix_timestamp() as f64);
    gauge(
        out,
        "mssd_trust_list_age_seconds",
        "age of the list in force by its DateDeGeneration (0: none)",
        &[(String::new(), age)],
    );
    gauge(
        out,
        "mssd_trust_list_last_success_timestamp_seconds",
        "last refresh that accepted or confirmed the list (0: never)",
        &[(String::new(), ts(status.last_success))],
    );
    let results = [
        ("accepted", status.accepted),
        ("unchanged", status.unchanged),
        ("refused", status.refused),
    ];
    let samples: Vec<(String, f64)> = results
        .iter()
        .map(|(r, n)| (format!("result=\"{r}\""), *n as f64))
        .collect();
    counter(
        out,
        "mssd_trust_list_refresh_total",
        "refresh attempts by result",
        &samples,
    );
    let refused: Vec<(String, f64)> = status
        .refused_by_kind
        .iter()
        .map(|(k, n)| (format!("kind=\"{k}\""), *n as f64))
        .collect();
    if !refused.is_empty() {
        counter(
            out,
            "mssd_trust_list_refused_total",
            "refused refreshes by reason; the previous list stayed in force",
            &refused,
        );
    }
}

fn counter(out: &mut String, name: &str, help: &str, samples: &[(String, f64)]) {
    family(out, name, help, "counter", samples)
}

fn gauge(out: &mut String, name: &str, help: &str, samples: &[(String, f64)]) {
    family(out, name, help, "gauge", samples)
}

fn family(out: &mut String, name: &str, help: &str, kind: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.listener("smtp").accepted.fetch_add(3, Ordering::Relaxed);
        let text = m.render(&Snapshot {
            store_writes: 7,
            store_commits: 2,
            store_healthy: true,
            trust: mssd_trust_list::RefreshStatus {
                domains: 3,
                refused: 1,
                ..Default::default()
            },
            smtp_accepted: 5,
            smtp_bytes: 500,
            smtp_trust_refusals: 2,
            cda: crate::metrics_cda::CdaFigures {
                by_code: vec![("11502-2".into(), 3), ("a\"b".into(), 1)],
                ..Default::default()
            },
            tls: crate::metrics_tls::TlsFigures {
                reloads_failed: 1,
                ..Default::default()
            },
            auth_failures: 1,
            imap: (4, 3, 20),
            queue: mssd_store::QueueSummary {
                depth: 4,
                oldest_created_at: Some(0),
            },
            outbound: (1, 2, 3, 4, 5),
            directory: (6, 7),
            imports: vec![("mailboxes".into(), 10, false)],
        });
        assert!(
            text.contains("mssd_config_reload_failures_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("mssd_config_last_reload_success 0\n"),
            "{text}"
        );
        assert!(
            text.contains("mssd_annuaire_last_import_success{set=\"mailboxes\"} 0\n"),
            "{text}"
        );
        assert!(text.contains("mssd_annuaire_entries 6\n"));
        assert!(text.contains("mssd_queue_depth 4\n"));
        assert!(text.contains("mssd_outbound_recipients_total{result=\"deferred\"} 2\n"));
        assert!(text.contains("mssd_trust_list_domains 3\n"), "{text}");
        assert!(text.contains("mssd_trust_list_refresh_total{result=\"refused\"} 1\n"));
        assert!(text.contains("mssd_smtp_messages_accepted_total 5\n"));
        assert!(text.contains("mssd_cda_documents_by_code_total{code=\"11502-2\"} 3\n"));
        assert!(text.contains("mssd_cda_documents_by_code_total{code=\"a\\\"b\"} 1\n"));
        assert!(text.contains("mssd_imap_logins_total 3\n"));
        assert!(text.contains("# TYPE mssd_connections_accepted_total counter\n"));
        assert!(text.contains("mssd_connections_accepted_total{listener=\"smtp\"} 3\n"));
        assert!(text.contains("mssd_connections_accepted_total{listener=\"imap\"} 0\n"));
        assert!(text.contains("mssd_store_writes_total 7\n"));
        assert!(text.contains("mssd_store_commits_total 2\n"));
        assert!(text.contains("mssd_store_healthy 1\n"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
