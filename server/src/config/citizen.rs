//! Resolution of `[citizen]`: the rules the SMTP sessions apply and how citizens log in.

use std::path::Path;

use mssd_core::Address;

use super::raw::RawCitizen;
use super::{CitizenOidcConfig, NotifyConfig};
use crate::error::{Error, Result};

pub(super) fn resolve_citizen(
    raw: Option<&RawCitizen>,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<mssd_citizen::CitizenPolicy> {
    let Some(raw) = raw else {
        return Ok(mssd_citizen::CitizenPolicy::default());
    };
    let provisioning = match raw.provisioning.as_deref() {
        None | Some("registered") => mssd_citizen::Provisioning::Registered,
        Some("auto") => mssd_citizen::Provisioning::Auto,
        Some(other) => {
            return Err(bad(
                "citizen.provisioning",
                format!("\"{other}\": use \"registered\" or \"auto\""),
            ));
        }
    };
    let first_contact_allowed = raw
        .first_contact_allowed
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, a)| {
            Address::parse(a).map(|a| a.canonical()).map_err(|e| {
                bad(
                    &format!("citizen.first_contact_allowed[{i}]"),
                    e.to_string(),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(mssd_citizen::CitizenPolicy {
        provisioning,
        first_contact_allowed,
        notify: raw.notify_url.is_some(),
    })
}

pub(super) fn resolve_notify(
    raw: Option<&RawCitizen>,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Option<NotifyConfig>> {
    let Some(url) = raw.and_then(|c| c.notify_url.clone()) else {
        return Ok(None);
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(bad(
            "citizen.notify_url",
            format!("{url:?}: give an http:// or https:// URL"),
        ));
    }
    let texts = raw
        .and_then(|c| c.notify_retry.clone())
        .unwrap_or_else(|| ["1s", "10s", "1m", "10m"].map(String::from).to_vec());
    if texts.is_empty() {
        return Err(bad(
            "citizen.notify_retry",
            "give at least one delay".into(),
        ));
    }
    let retry = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            super::parse_duration(t).map_err(|m| bad(&format!("citizen.notify_retry[{i}]"), m))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(NotifyConfig { url, retry }))
}

pub(super) fn resolve_citizen_oidc(
    raw: Option<&RawCitizen>,
    data_dir: &Path,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Option<CitizenOidcConfig>> {
    let Some(oidc) = raw.and_then(|c| c.oidc.as_ref()) else {
        return Ok(None);
    };
    if oidc.test_provider == Some(true) {
        if oidc.issuer.is_some() || oidc.jwks.is_some() || oidc.audience.is_some() {
            return Err(bad(
                "citizen.oidc.test_provider",
                "the TEST provider brings its own issuer, keys and audience: remove issuer, jwks and audience, or turn test_provider off".into(),
            ));
        }
        return Ok(Some(CitizenOidcConfig::TestProvider));
    }
    let need = |value: &Option<String>, key: &str| {
        value.clone().ok_or_else(|| {
            bad(
                &format!("citizen.oidc.{key}"),
                "missing (or set test_provider = true)".into(),
            )
        })
    };
    let jwks = oidc.jwks.as_ref().ok_or_else(|| {
        bad(
            "citizen.oidc.jwks",
            "missing: the issuer's JWKS file or https URL".into(),
        )
    })?;
    Ok(Some(CitizenOidcConfig::Issuer {
        issuer: need(&oidc.issuer, "issuer")?,
        jwks: super::http_client::resolve_jwks("citizen.oidc.jwks", jwks, data_dir, bad)?,
        jwks_refresh: super::http_client::resolve_jwks_refresh(
            "citizen.oidc.jwks_refresh",
            oidc.jwks_refresh.as_deref(),
            bad,
        )?,
        audience: need(&oidc.audience, "audience")?,
        ins_claim: oidc.ins_claim.clone().unwrap_or_else(|| "ins".into()),
    }))
}
