//! Resolution of `[web]` and of the web sign-in keys of `[citizen.oidc]`.

use std::path::Path;
use std::time::Duration;

use super::raw::{RawCitizen, RawWeb};
use super::{SignInEndpoints, WebConfig};
use crate::error::{Error, Result};

pub(super) fn resolve_web(
    raw: &RawWeb,
    citizen: Option<&RawCitizen>,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<WebConfig> {
    let public_url = match &raw.public_url {
        Some(url) if !url.starts_with("https://") => {
            return Err(bad(
                "web.public_url",
                format!("{url:?}: give the https:// URL citizens use"),
            ));
        }
        other => other.as_ref().map(|u| u.trim_end_matches('/').to_string()),
    };
    let max_body = match &raw.max_body {
        Some(text) => super::parse_size(text).map_err(|m| bad("web.max_body", m))? as usize,
        None => 1024 * 1024,
    };
    if max_body < 64 * 1024 {
        return Err(bad(
            "web.max_body",
            "must be at least 64K (a reply is up to 64 KiB)".into(),
        ));
    }
    let duration = |key: &str, value: &Option<String>, default: u64| -> Result<Duration> {
        match value {
            Some(text) => super::parse_duration(text).map_err(|m| bad(key, m)),
            None => Ok(Duration::from_secs(default)),
        }
    };
    let positive = |key: &str, value: Option<u32>, default: u32| -> Result<u32> {
        match value {
            Some(0) => Err(bad(key, "must be at least 1".into())),
            Some(n) => Ok(n),
            None => Ok(default),
        }
    };
    Ok(WebConfig {
        public_url,
        max_body,
        per_ip_rate: positive(
            "web.requests_per_second_per_ip",
            raw.requests_per_second_per_ip,
            100,
        )?,
        per_ip_burst: positive("web.burst_per_ip", raw.burst_per_ip, 400)?,
        session_idle: duration("web.session_idle", &raw.session_idle, 30 * 60)?,
        session_max: duration("web.session_max", &raw.session_max, 12 * 3600)?,
        sign_in: sign_in(citizen, data_dir, bad)?,
    })
}

fn sign_in(
    citizen: Option<&RawCitizen>,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Option<SignInEndpoints>> {
    let Some(oidc) = citizen.and_then(|c| c.oidc.as_ref()) else {
        return Ok(None);
    };
    let given = [
        &oidc.authorization_endpoint,
        &oidc.token_endpoint,
        &oidc.client_id,
    ];
    if given.iter().all(|v| v.is_none()) {
        return Ok(None);
    }
    if oidc.test_provider == Some(true) {
        return Err(bad(
            "citizen.oidc.authorization_endpoint",
            "the TEST provider brings its own sign-in: remove the endpoints, or turn test_provider off".into(),
        ));
    }
    let need = |value: &Option<String>, key: &str| -> Result<String> {
        value.clone().ok_or_else(|| {
            bad(
                &format!("citizen.oidc.{key}"),
                "missing: web sign-in needs authorization_endpoint, token_endpoint and client_id"
                    .into(),
            )
        })
    };
    let https_url = |value: &Option<String>, key: &str| -> Result<String> {
        let url = need(value, key)?;
        if !url.starts_with("https://") {
            return Err(bad(
                &format!("citizen.oidc.{key}"),
                format!("{url:?}: give an https:// URL"),
            ));
        }
        Ok(url)
    };
    let client_secret = match &oidc.client_secret_file {
        Some(file) => {
            let path = data_dir.join(file);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                bad(
                    "citizen.oidc.client_secret_file",
                    format!("{}: {e}", path.display()),
                )
            })?;
            Some(text.trim().to_string())
        }
        None => None,
    };
    Ok(Some(SignInEndpoints {
        authorization_endpoint: https_url(&oidc.authorization_endpoint, "authorization_endpoint")?,
        token_endpoint: https_url(&oidc.token_endpoint, "token_endpoint")?,
        client_id: need(&oidc.client_id, "client_id")?,
        client_secret,
        scope: oidc.scope.clone().unwrap_or_else(|| "openid".into()),
    }))
}
