//! The certificate side of `/metrics`: each CRL in force (age, next update, stale), the CRL
//! downloads, and the configuration reloads (SIGHUP).

use mssd_certs::CrlStatus;
use mssd_crl_fetch::SourceStatus;

use crate::metrics_cda::escape_label;

/// Read at scrape time.
#[derive(Debug, Default, Clone)]
pub struct TlsFigures {
    pub crls: Vec<CrlStatus>,
    pub sources: Vec<SourceStatus>,
    pub reloads_succeeded: u64,
    pub reloads_failed: u64,
    pub last_reload_ok: bool,
    pub last_reload_at: i64,
    /// OCSP: (certificates followed, revoked now, answers, failed requests).
    pub ocsp: Option<(u64, u64, u64, u64)>,
}

/// One family: name, help, type, samples (labels, value).
pub type Family = (&'static str, &'static str, &'static str, Vec<(String, f64)>);

impl TlsFigures {
    pub fn families(&self, now: i64) -> Vec<Family> {
        let crl_label = |c: &CrlStatus| {
            format!(
                "issuer=\"{}\",source=\"{}\"",
                escape_label(&c.issuer.to_string()),
                escape_label(&c.source)
            )
        };
        let per_crl = |f: &dyn Fn(&CrlStatus) -> f64| -> Vec<(String, f64)> {
            self.crls.iter().map(|c| (crl_label(c), f(c))).collect()
        };
        let per_source = |f: &dyn Fn(&SourceStatus) -> f64| -> Vec<(String, f64)> {
            self.sources
                .iter()
                .map(|s| (format!("url=\"{}\"", escape_label(&s.url)), f(s)))
                .collect()
        };
        let ts = |t: Option<time::OffsetDateTime>| t.map_or(0.0, |t| t.unix_timestamp() as f64);
        let one = |v: f64| vec![(String::new(), v)];
        let (followed, revoked, answers, failures) = self.ocsp.unwrap_or_default();
        let mut families = vec![
            (
                "mssd_crl_age_seconds",
                "seconds since the thisUpdate of each CRL in force",
                "gauge",
                per_crl(&|c| (now - c.this_update.unix_timestamp()) as f64),
            ),
            (
                "mssd_crl_next_update_timestamp_seconds",
                "nextUpdate of each CRL in force",
                "gauge",
                per_crl(&|c| c.next_update.unix_timestamp() as f64),
            ),
            (
                "mssd_crl_stale",
                "1 when the CRL's nextUpdate has passed",
                "gauge",
                per_crl(&|c| f64::from(u8::from(c.stale))),
            ),
            (
                "mssd_crl_revoked_certificates",
                "certificates each CRL in force revokes",
                "gauge",
                per_crl(&|c| c.revoked_count as f64),
            ),
            (
                "mssd_crl_download_failures_total",
                "failed CRL downloads by source (the last good CRL stayed)",
                "counter",
                per_source(&|s| s.failures as f64),
            ),
            (
                "mssd_crl_download_last_success_timestamp_seconds",
                "last download of each source that gave a usable CRL",
                "gauge",
                per_source(&|s| ts(s.last_success)),
            ),
            (
                "mssd_config_reloads_total",
                "configuration reloads (SIGHUP) that took effect",
                "counter",
                one(self.reloads_succeeded as f64),
            ),
            (
                "mssd_config_reload_failures_total",
                "configuration reloads refused; the running configuration stayed",
                "counter",
                one(self.reloads_failed as f64),
            ),
            (
                "mssd_config_last_reload_success",
                "0 while the last reload failed (the file differs from what runs)",
                "gauge",
                one(f64::from(u8::from(self.last_reload_ok))),
            ),
            (
                "mssd_config_last_reload_timestamp_seconds",
                "when the last reload was attempted; 0 before any",
                "gauge",
                one(self.last_reload_at as f64),
            ),
        ];
        if self.ocsp.is_some() {
            families.extend([
                (
                    "mssd_ocsp_certificates",
                    "peer certificates followed by OCSP",
                    "gauge",
                    one(followed as f64),
                ),
                (
                    "mssd_ocsp_revoked_certificates",
                    "of those, revoked by a current answer",
                    "gauge",
                    one(revoked as f64),
                ),
                (
                    "mssd_ocsp_answers_total",
                    "answers received from the responder",
                    "counter",
                    one(answers as f64),
                ),
                (
                    "mssd_ocsp_failures_total",
                    "requests without a usable answer",
                    "counter",
                    one(failures as f64),
                ),
            ]);
        }
        families
    }
}
