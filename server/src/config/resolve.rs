//! From the file as written to a validated `Config`: every error names the key at fault.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawConfig, RawListeners};
use super::sections::{imap_settings, resolve_limits};
use super::values::absolute;
use super::{
    AnnuaireSettings, Config, LdapSettings, Listeners, LogConfig, LogFormat, OidcConfig,
    QueueSettings, SmtpSettings, TrustListConfig, UnknownRecipient,
};
use crate::error::{Error, Result};
use mssd_core::MailboxKind;

const DEFAULT_REFRESH: Duration = Duration::from_secs(3600);
const NO_AUDIENCE: &str = "required: the client id mssd is registered under at the issuer \
     (tokens issued to other services are refused)";

pub fn from_toml(text: &str, origin: &str, base: &Path, embedded: bool) -> Result<Config> {
    // toml's error names the unknown or mistyped key with its line and column.
    let raw: RawConfig = toml::from_str(text).map_err(|e| Error::Config {
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    let bad = |key: &str, message: String| Error::Config {
        origin: origin.to_string(),
        message: format!("{key}: {message}"),
    };

    if raw.server.domains.is_empty() {
        return Err(bad(
            "server.domains",
            "list at least one mail domain we host".into(),
        ));
    }
    let mut domains = Vec::new();
    for (i, domain) in raw.server.domains.iter().enumerate() {
        let normalised = mssd_core::normalize_domain(domain)
            .map_err(|e| bad(&format!("server.domains[{i}]"), e.to_string()))?;
        if domains.contains(&normalised) {
            return Err(bad(
                &format!("server.domains[{i}]"),
                format!("\"{domain}\" is listed twice"),
            ));
        }
        domains.push(normalised);
    }
    let hostname = match raw.server.hostname {
        Some(h) => {
            mssd_core::normalize_domain(&h).map_err(|e| bad("server.hostname", e.to_string()))?
        }
        None => format!("mail.{}", domains[0]),
    };
    let data_dir = absolute(
        base,
        &raw.server
            .data_dir
            .unwrap_or_else(|| PathBuf::from("/var/lib/mssd")),
    );

    let tls = super::tls::resolve_tls(raw.tls, &data_dir, &bad)?;

    let listeners = resolve_listeners(raw.listeners, &bad)?;

    let refresh = match raw.trust_list.refresh {
        Some(text) => super::parse_duration(&text).map_err(|m| bad("trust_list.refresh", m))?,
        None => DEFAULT_REFRESH,
    };
    if refresh < Duration::from_secs(60) {
        return Err(bad(
            "trust_list.refresh",
            "refresh at most once a minute".into(),
        ));
    }

    let max_removal_share = raw.trust_list.max_removal_share.unwrap_or(0.20);
    if !(0.0..=1.0).contains(&max_removal_share) {
        return Err(bad(
            "trust_list.max_removal_share",
            format!("{max_removal_share} must be between 0 and 1"),
        ));
    }

    let mut relay_routes = BTreeMap::new();
    for (domain, hop) in raw.relay.routes {
        let key = format!("relay.routes.\"{domain}\"");
        let domain = mssd_core::normalize_domain(&domain).map_err(|e| bad(&key, e.to_string()))?;
        if !hop
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
        {
            return Err(bad(&key, format!("\"{hop}\" must be host:port")));
        }
        relay_routes.insert(domain, hop);
    }

    let citizen = super::citizen::resolve_citizen(raw.citizen.as_ref(), &bad)?;
    let citizen_oidc = super::citizen::resolve_citizen_oidc(raw.citizen.as_ref(), &data_dir, &bad)?;
    let web = super::web::resolve_web(&raw.web, raw.citizen.as_ref(), &data_dir, &bad)?;
    let http_client = super::http_client::resolve_http_client(&raw.http_client, &data_dir, &bad)?;
    let store = super::store::resolve_store(&raw.store, &data_dir, &bad)?;
    let citizen_notify = super::citizen::resolve_notify(raw.citizen.as_ref(), &bad)?;
    let citizen_domain = match raw.citizen {
        Some(c) => {
            let d = mssd_core::normalize_domain(&c.domain)
                .map_err(|e| bad("citizen.domain", e.to_string()))?;
            if domains.contains(&d) {
                return Err(bad(
                    "citizen.domain",
                    format!("\"{d}\" is also in server.domains"),
                ));
            }
            Some(d)
        }
        None => None,
    };

    let oidc = match raw.auth.oidc {
        None => None,
        // Without an audience any token of the issuer (Pro Santé Connect serves many
        // services) would open mailboxes here.
        Some(o) => Some(OidcConfig {
            audience: o
                .audience
                .filter(|a| !a.trim().is_empty())
                .ok_or_else(|| bad("auth.oidc.audience", NO_AUDIENCE.into()))?,
            issuer: o.issuer,
            // A relative JWKS file is relative to the data dir, like the TLS files.
            jwks: super::http_client::resolve_jwks("auth.oidc.jwks", &o.jwks, &data_dir, &bad)?,
            jwks_refresh: super::http_client::resolve_jwks_refresh(
                "auth.oidc.jwks_refresh",
                o.jwks_refresh.as_deref(),
                &bad,
            )?,
        }),
    };
    let password_kinds = match raw.auth.password_kinds {
        None => vec![
            MailboxKind::Per,
            MailboxKind::Org,
            MailboxKind::App,
            MailboxKind::Cab,
        ],
        Some(kinds) => kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                MailboxKind::parse(k)
                    .map_err(|e| bad(&format!("auth.password_kinds[{i}]"), e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?,
    };

    let max_message_size = match raw.smtp.max_message_size {
        Some(text) => super::parse_size(&text).map_err(|m| bad("smtp.max_message_size", m))?,
        None => 50 << 20,
    };
    if !(64 << 10..=1 << 30).contains(&max_message_size) {
        return Err(bad(
            "smtp.max_message_size",
            "must be between 64K and 1G".into(),
        ));
    }
    let imap = imap_settings(&raw.imap, &bad)?;
    let timeout = |key: &str, text: &Option<String>, default: u64| -> Result<Duration> {
        let value = match text {
            Some(text) => super::parse_duration(text).map_err(|m| bad(key, m))?,
            None => Duration::from_secs(default),
        };
        if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&value) {
            return Err(bad(key, "must be between 1s and 1h".into()));
        }
        Ok(value)
    };
    let smtp = SmtpSettings {
        max_message_size: max_message_size as usize,
        max_recipients: raw.smtp.max_recipients.unwrap_or(1000),
        command_timeout: timeout("smtp.command_timeout", &raw.smtp.command_timeout, 300)?,
        data_timeout: timeout("smtp.data_timeout", &raw.smtp.data_timeout, 180)?,
        login_timeout: timeout("smtp.login_timeout", &raw.smtp.login_timeout, 120)?,
    };
    if smtp.max_recipients < 100 {
        return Err(bad(
            "smtp.max_recipients",
            "RFC 5321 §4.5.3.1.8 requires at least 100".into(),
        ));
    }
    let retry_texts = raw.queue.retry.unwrap_or_else(|| {
        ["1m", "5m", "15m", "30m", "1h", "2h", "4h"]
            .map(String::from)
            .to_vec()
    });
    if retry_texts.is_empty() {
        return Err(bad("queue.retry", "give at least one delay".into()));
    }
    let retry = retry_texts
        .iter()
        .enumerate()
        .map(|(i, t)| super::parse_duration(t).map_err(|m| bad(&format!("queue.retry[{i}]"), m)))
        .collect::<Result<Vec<_>>>()?;
    let expiry = match raw.queue.expiry {
        Some(text) => super::parse_duration(&text).map_err(|m| bad("queue.expiry", m))?,
        None => Duration::from_secs(5 * 86_400),
    };
    let poll = match raw.queue.poll {
        Some(text) => super::parse_duration(&text).map_err(|m| bad("queue.poll", m))?,
        None => Duration::from_secs(30),
    };
    if poll.is_zero() {
        return Err(bad("queue.poll", "must be at least 1s".into()));
    }
    let lease = match raw.queue.lease {
        Some(text) => super::parse_duration(&text).map_err(|m| bad("queue.lease", m))?,
        None => mssd_smtp::outbound::DEFAULT_LEASE,
    };
    // Shorter than one attempt, a lease would end while its entry is still being sent.
    if lease < Duration::from_secs(60) {
        return Err(bad(
            "queue.lease",
            "must be at least 1m, longer than any delivery attempt".into(),
        ));
    }
    let queue = QueueSettings {
        retry,
        expiry,
        poll,
        lease,
    };
    let annuaire = annuaire_settings(raw.annuaire, &data_dir, &tls.trust_anchors, &bad)?;

    let format = match raw.log.format.as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err(bad(
                "log.format",
                format!("\"{other}\": use \"text\" or \"json\""),
            ));
        }
    };
    let log = LogConfig {
        format,
        level: raw.log.level.unwrap_or_else(|| "info".into()),
    };

    let limits = resolve_limits(raw.limits, &bad)?;
    let cda = super::cda::resolve_cda(raw.cda, &bad)?;

    Ok(Config {
        origin: origin.to_string(),
        file: None,
        embedded,
        hostname,
        domains,
        data_dir,
        tls,
        listeners,
        trust_list: TrustListConfig {
            source: raw.trust_list.source,
            refresh,
            sha256: raw.trust_list.sha256,
            max_removal_share,
        },
        relay_routes,
        citizen_domain,
        oidc,
        log,
        limits,
        smtp,
        imap,
        queue,
        password_kinds,
        annuaire,
        cda,
        citizen,
        citizen_oidc,
        web,
        citizen_notify,
        http_client,
        store,
    })
}

fn annuaire_settings(
    raw: super::raw::RawAnnuaire,
    data_dir: &Path,
    trust_anchors: &[PathBuf],
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<AnnuaireSettings> {
    let duration = |key: &str, value: Option<String>, default: u64| -> Result<Duration> {
        match value {
            Some(text) => super::parse_duration(&text).map_err(|m| bad(key, m)),
            None => Ok(Duration::from_secs(default)),
        }
    };
    let share = |key: &str, value: Option<f64>, default: f64| -> Result<f64> {
        let share = value.unwrap_or(default);
        if (0.0..=1.0).contains(&share) {
            Ok(share)
        } else {
            Err(bad(key, format!("{share} must be between 0 and 1")))
        }
    };
    let unknown_recipient = match raw.unknown_recipient.as_deref() {
        None | Some("warn") => UnknownRecipient::Warn,
        Some("off") => UnknownRecipient::Off,
        Some("refuse") => UnknownRecipient::Refuse,
        Some(other) => {
            return Err(bad(
                "annuaire.unknown_recipient",
                format!("\"{other}\": use \"off\", \"warn\" or \"refuse\""),
            ));
        }
    };
    let ldap = match raw.ldap {
        None => None,
        Some(l) => {
            let bind_password = match (l.bind_password, l.bind_password_file) {
                (Some(p), None) => p,
                (None, Some(file)) => {
                    let file = absolute(data_dir, &file);
                    let text = std::fs::read_to_string(&file).map_err(|e| {
                        bad(
                            "annuaire.ldap.bind_password_file",
                            format!("{}: {e}", file.display()),
                        )
                    })?;
                    text.lines().next().unwrap_or_default().to_string()
                }
                _ => {
                    return Err(bad(
                        "annuaire.ldap",
                        "give bind_password or bind_password_file (one of them)".into(),
                    ));
                }
            };
            Some(LdapSettings {
                url: l.url,
                starttls: l.starttls,
                bind_dn: l.bind_dn,
                bind_password,
                base_dn: l.base_dn,
                filter: l.filter,
                page_size: l.page_size.unwrap_or(500),
                timeout: duration("annuaire.ldap.timeout", l.timeout, 10)?,
                pool_size: l.pool_size.unwrap_or(4).max(1),
                anchors: l
                    .anchors
                    .map(|a| a.iter().map(|p| absolute(data_dir, p)).collect())
                    .unwrap_or_else(|| trust_anchors.to_vec()),
                full_sync: duration("annuaire.ldap.full_sync", l.full_sync, 86_400)?,
                incremental_sync: duration(
                    "annuaire.ldap.incremental_sync",
                    l.incremental_sync,
                    300,
                )?,
                provision: l.provision,
                password_auth: l.password_auth,
                attributes: l.attributes,
                groups: l.groups,
                max_suspend_share: share(
                    "annuaire.ldap.max_suspend_share",
                    l.max_suspend_share,
                    0.10,
                )?,
            })
        }
    };
    Ok(AnnuaireSettings {
        source: raw.source,
        refresh: duration("annuaire.refresh", raw.refresh, 86_400)?,
        max_removal_share: share("annuaire.max_removal_share", raw.max_removal_share, 0.10)?,
        max_extracted_size: match &raw.max_extracted_size {
            Some(text) => {
                super::parse_size(text).map_err(|m| bad("annuaire.max_extracted_size", m))?
            }
            None => mssd_annuaire::extraction::DEFAULT_MAX_BYTES,
        },
        max_lines: match raw.max_lines {
            Some(0) => return Err(bad("annuaire.max_lines", "must be at least 1".into())),
            Some(n) => n,
            None => mssd_annuaire::extraction::DEFAULT_MAX_LINES,
        },
        unknown_recipient,
        ldap,
    })
}

fn resolve_listeners(
    raw: Option<RawListeners>,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<Listeners> {
    let raw = raw.unwrap_or_else(|| RawListeners {
        smtp: Some("0.0.0.0:25".into()),
        submission: Some("0.0.0.0:587".into()),
        submissions: Some("0.0.0.0:465".into()),
        imap: Some("0.0.0.0:143".into()),
        imaps: Some("0.0.0.0:993".into()),
        http: Some("127.0.0.1:8080".into()),
        https: Some("0.0.0.0:443".into()),
    });
    let parse = |key: &str, value: Option<String>| -> Result<Option<SocketAddr>> {
        value
            .map(|v| {
                v.parse::<SocketAddr>().map_err(|_| {
                    bad(
                        &format!("listeners.{key}"),
                        format!("\"{v}\" must be ip:port, e.g. \"0.0.0.0:25\""),
                    )
                })
            })
            .transpose()
    };
    Ok(Listeners {
        smtp: parse("smtp", raw.smtp)?,
        submission: parse("submission", raw.submission)?,
        submissions: parse("submissions", raw.submissions)?,
        imap: parse("imap", raw.imap)?,
        imaps: parse("imaps", raw.imaps)?,
        http: parse("http", raw.http)?,
        https: parse("https", raw.https)?,
    })
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
