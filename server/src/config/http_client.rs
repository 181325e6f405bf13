//! Resolution of `[http_client]` and of the `jwks` keys of `[auth.oidc]` and
//! `[citizen.oidc]`: what public downloads trust, and where an issuer's keys come from.

use std::path::Path;
use std::time::Duration;

use mssd_http_client::Anchors;

use super::raw::{OneOrMany, RawHttpClient};
use super::{HttpClientConfig, JwksLocation};
use crate::error::{Error, Result};

/// How often a JWKS URL is fetched when `jwks_refresh` is not given.
pub const DEFAULT_JWKS_REFRESH: Duration = Duration::from_secs(3600);
/// Bounds of `jwks_refresh`: not a loop hammering the issuer, not keys a week stale.
const JWKS_REFRESH_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(60)..=Duration::from_secs(86_400);

pub(super) fn resolve_http_client(
    raw: &RawHttpClient,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<HttpClientConfig> {
    let anchors = resolve_anchors("http_client.anchors", raw.anchors.as_ref(), data_dir, bad)?;
    Ok(HttpClientConfig { anchors })
}

/// An `anchors` key: "system" (also when absent), "webpki", or a list of PEM files (relative
/// to the data dir).
pub(super) fn resolve_anchors(
    key: &str,
    raw: Option<&OneOrMany>,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Anchors> {
    Ok(match raw {
        None => Anchors::System,
        Some(OneOrMany::One(name)) => match name.as_str() {
            "system" => Anchors::System,
            "webpki" => Anchors::WebPki,
            other => {
                return Err(bad(
                    key,
                    format!(
                        "\"{other}\": use \"system\", \"webpki\" or a list of PEM files, e.g. [\"{other}\"]"
                    ),
                ));
            }
        },
        Some(OneOrMany::Many(files)) => {
            if files.is_empty() {
                return Err(bad(
                    key,
                    "an empty list trusts nothing: name PEM files, or use \"system\" or \"webpki\""
                        .into(),
                ));
            }
            Anchors::Files(
                files
                    .iter()
                    .map(|f| super::values::absolute(data_dir, Path::new(f)))
                    .collect(),
            )
        }
    })
}

/// `text` with "://" is a URL, which must be https; anything else a file in the data dir.
pub(super) fn resolve_jwks(
    key: &str,
    text: &str,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<JwksLocation> {
    if text.trim().is_empty() {
        return Err(bad(
            key,
            "empty: give a JWKS file or an https:// URL".into(),
        ));
    }
    if text.contains("://") {
        let url = mssd_http_client::parse_https_url(text).map_err(|e| bad(key, e.to_string()))?;
        return Ok(JwksLocation::Url(url.to_string()));
    }
    Ok(JwksLocation::File(super::values::absolute(
        data_dir,
        Path::new(text),
    )))
}

pub(super) fn resolve_jwks_refresh(
    key: &str,
    value: Option<&str>,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Duration> {
    let Some(text) = value else {
        return Ok(DEFAULT_JWKS_REFRESH);
    };
    let refresh = super::parse_duration(text).map_err(|m| bad(key, m))?;
    if !JWKS_REFRESH_RANGE.contains(&refresh) {
        return Err(bad(key, "must be between 1m and 24h".into()));
    }
    Ok(refresh)
}

#[cfg(test)]
#[path = "http_client_tests.rs"]
mod tests;
