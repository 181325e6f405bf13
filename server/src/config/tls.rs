//! `[tls]`: our certificate and key, the IGC-Santé anchors, CRLs (files and downloads) and
//! what a stale CRL does. Reloaded whole on SIGHUP.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mssd_certs::StaleCrl;

use super::TlsConfig;
use super::raw::RawTls;
use crate::error::Error;

/// How often CRLs are downloaded when `tls.crl_refresh` is not given. IGC-Santé publishes
/// its CRLs daily with a validity of several days: hourly finds a new one within the hour.
const DEFAULT_CRL_REFRESH: Duration = Duration::from_secs(3600);
/// How long an OCSP answer is used when `tls.ocsp_cache` is not given.
const DEFAULT_OCSP_CACHE: Duration = Duration::from_secs(3600);
/// Longest CRL URL accepted in `tls.crl_urls`.
const MAX_URL: usize = 2048;

pub(super) fn resolve_tls(
    raw: RawTls,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<TlsConfig, Error> {
    let in_data = |p: PathBuf| super::values::absolute(data_dir, &p);
    let stale_crl = match raw.stale_crl.as_deref() {
        None | Some("warn") => StaleCrl::Warn,
        Some("refuse") => StaleCrl::Refuse,
        Some(other) => {
            return Err(bad(
                "tls.stale_crl",
                format!("\"{other}\": use \"warn\" (keep using it, report it) or \"refuse\""),
            ));
        }
    };
    let http_url = |key: &str, url: String| {
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) || url.len() > MAX_URL {
            return Err(bad(
                key,
                format!("\"{url}\" is not an http:// or https:// URL"),
            ));
        }
        Ok(url)
    };
    let mut crl_urls = Vec::new();
    for (i, url) in raw.crl_urls.unwrap_or_default().into_iter().enumerate() {
        crl_urls.push(http_url(&format!("tls.crl_urls[{i}]"), url)?);
    }
    let ocsp = raw.ocsp.map(|url| http_url("tls.ocsp", url)).transpose()?;
    let ocsp_cache = match raw.ocsp_cache.as_deref() {
        None => DEFAULT_OCSP_CACHE,
        Some(text) => {
            let cache = super::parse_duration(text).map_err(|m| bad("tls.ocsp_cache", m))?;
            if cache < Duration::from_secs(60) {
                return Err(bad(
                    "tls.ocsp_cache",
                    "must be at least 1m: each answer is asked for again before it expires".into(),
                ));
            }
            cache
        }
    };
    let crl_refresh = match raw.crl_refresh.as_deref() {
        None => Some(DEFAULT_CRL_REFRESH),
        Some("off") => None,
        Some(text) => {
            let every = super::parse_duration(text).map_err(|m| bad("tls.crl_refresh", m))?;
            if every.is_zero() {
                return Err(bad(
                    "tls.crl_refresh",
                    "must be at least 1s, or \"off\" to download no CRL".into(),
                ));
            }
            Some(every)
        }
    };
    let tls = TlsConfig {
        certificate: in_data(raw.certificate.unwrap_or_else(|| "pki/server.pem".into())),
        private_key: in_data(raw.private_key.unwrap_or_else(|| "pki/server.key".into())),
        trust_anchors: raw
            .trust_anchors
            .unwrap_or_else(|| vec!["pki/root.pem".into()])
            .into_iter()
            .map(in_data)
            .collect(),
        crls: raw
            .crls
            .unwrap_or_default()
            .into_iter()
            .map(in_data)
            .collect(),
        accepted_policies: raw.accepted_policies.unwrap_or_default(),
        stale_crl,
        crl_urls,
        crl_refresh,
        ocsp,
        ocsp_cache,
    };
    if tls.trust_anchors.is_empty() {
        return Err(bad(
            "tls.trust_anchors",
            "name at least one IGC-Santé root: mssd never falls back to the system store".into(),
        ));
    }
    for (i, oid) in tls.accepted_policies.iter().enumerate() {
        if !super::values::is_dotted_oid(oid) {
            return Err(bad(
                &format!("tls.accepted_policies[{i}]"),
                format!("\"{oid}\" is not a dotted OID"),
            ));
        }
    }
    Ok(tls)
}
