//! From the file as written to a validated `Config`: every error names the key at fault.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawConfig, RawListeners};
use super::{
    AnnuaireSettings, Config, LdapSettings, Limits, Listeners, LogConfig, LogFormat, OidcConfig,
    QueueSettings, SmtpSettings, TlsConfig, TrustListConfig, UnknownRecipient,
};
use crate::error::{Error, Result};
use mssd_core::MailboxKind;

const DEFAULT_REFRESH: Duration = Duration::from_secs(3600);

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

    let in_data = |p: PathBuf| absolute(&data_dir, &p);
    let tls = TlsConfig {
        certificate: in_data(
            raw.tls
                .certificate
                .unwrap_or_else(|| "pki/server.pem".into()),
        ),
        private_key: in_data(
            raw.tls
                .private_key
                .unwrap_or_else(|| "pki/server.key".into()),
        ),
        trust_anchors: raw
            .tls
            .trust_anchors
            .unwrap_or_else(|| vec!["pki/root.pem".into()])
            .into_iter()
            .map(in_data)
            .collect(),
        crls: raw
            .tls
            .crls
            .unwrap_or_default()
            .into_iter()
            .map(in_data)
            .collect(),
        accepted_policies: raw.tls.accepted_policies.unwrap_or_default(),
    };
    if tls.trust_anchors.is_empty() {
        return Err(bad(
            "tls.trust_anchors",
            "name at least one IGC-Santé root: mssd never falls back to the system store".into(),
        ));
    }
    for (i, oid) in tls.accepted_policies.iter().enumerate() {
        if !is_dotted_oid(oid) {
            return Err(bad(
                &format!("tls.accepted_policies[{i}]"),
                format!("\"{oid}\" is not a dotted OID"),
            ));
        }
    }

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
            jwks: if o.jwks.contains("://") {
                o.jwks
            } else {
                absolute(&data_dir, Path::new(&o.jwks))
                    .display()
                    .to_string()
            },
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
    let smtp = SmtpSettings {
        max_message_size: max_message_size as usize,
        max_recipients: raw.smtp.max_recipients.unwrap_or(1000),
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
    let queue = QueueSettings {
        retry,
        expiry,
        poll,
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

    let limits = Limits {
        max_connections: raw.limits.max_connections.unwrap_or(4096),
        max_connections_per_ip: raw.limits.max_connections_per_ip.unwrap_or(64),
    };
    if limits.max_connections == 0 || limits.max_connections_per_ip == 0 {
        return Err(bad("limits", "connection limits must be at least 1".into()));
    }

    Ok(Config {
        origin: origin.to_string(),
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
    })
}

fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn is_dotted_oid(s: &str) -> bool {
    let mut arcs = s.split('.');
    s.contains('.') && arcs.all(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
}

const NO_AUDIENCE: &str = "required: the client id mssd is registered under at the issuer \
     (tokens issued to other services are refused)";

fn imap_settings(
    raw: &super::raw::RawImap,
    bad: &dyn Fn(&str, String) -> Error,
) -> Result<super::ImapSettings> {
    let max_literal_size = match &raw.max_literal_size {
        Some(text) => super::parse_size(text).map_err(|m| bad("imap.max_literal_size", m))?,
        None => 50 << 20,
    };
    if !(64 << 10..=1 << 30).contains(&max_literal_size) {
        return Err(bad(
            "imap.max_literal_size",
            "must be between 64K and 1G".into(),
        ));
    }
    let idle_timeout = match &raw.idle_timeout {
        Some(text) => super::parse_duration(text).map_err(|m| bad("imap.idle_timeout", m))?,
        None => Duration::from_secs(30 * 60),
    };
    if idle_timeout < Duration::from_secs(60) {
        return Err(bad(
            "imap.idle_timeout",
            "must be at least 1m (RFC 9051 asks for at least 30m)".into(),
        ));
    }
    let max_connections_per_user = raw.max_connections_per_user.unwrap_or(50);
    if max_connections_per_user == 0 {
        return Err(bad(
            "imap.max_connections_per_user",
            "must be at least 1".into(),
        ));
    }
    let login_timeout = match &raw.login_timeout {
        Some(text) => super::parse_duration(text).map_err(|m| bad("imap.login_timeout", m))?,
        None => Duration::from_secs(60),
    };
    if !(Duration::from_secs(1)..=Duration::from_secs(600)).contains(&login_timeout) {
        return Err(bad(
            "imap.login_timeout",
            "must be between 1s and 10m".into(),
        ));
    }
    let max_literals_in_flight = match &raw.max_literals_in_flight {
        Some(text) => super::parse_size(text).map_err(|m| bad("imap.max_literals_in_flight", m))?,
        None => 512 << 20,
    };
    if max_literals_in_flight < max_literal_size {
        return Err(bad(
            "imap.max_literals_in_flight",
            "must be at least imap.max_literal_size".into(),
        ));
    }
    Ok(super::ImapSettings {
        max_literal_size: u32::try_from(max_literal_size).unwrap_or(u32::MAX),
        idle_timeout,
        max_connections_per_user,
        login_timeout,
        max_literals_in_flight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config> {
        from_toml(text, "test.toml", Path::new("/etc/mssd"), false)
    }

    fn error_of(text: &str) -> String {
        match load(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn embedded_default_is_valid() {
        let c = from_toml(
            super::super::EMBEDDED_TOML,
            "embedded",
            Path::new("/tmp/x"),
            true,
        )
        .unwrap();
        assert_eq!(c.domains, vec!["hopital.test.mssante.fr"]);
        assert_eq!(c.citizen_domain.as_deref(), Some("patient.test.mssante.fr"));
        assert_eq!(c.data_dir, Path::new("/tmp/x/mssd-data"));
        assert_eq!(
            c.tls.certificate,
            Path::new("/tmp/x/mssd-data/pki/server.pem")
        );
        assert_eq!(c.listeners.smtp.unwrap().to_string(), "127.0.0.1:2525");
        assert_eq!(c.listeners.http.unwrap().to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let c = load("[server]\ndomains = [\"Hopital-A.MSSante.fr\"]\n").unwrap();
        assert_eq!(c.domains, vec!["hopital-a.mssante.fr"]);
        assert_eq!(c.hostname, "mail.hopital-a.mssante.fr");
        assert_eq!(c.data_dir, Path::new("/var/lib/mssd"));
        assert_eq!(
            c.tls.trust_anchors,
            vec![PathBuf::from("/var/lib/mssd/pki/root.pem")]
        );
        assert_eq!(c.listeners.smtp.unwrap().to_string(), "0.0.0.0:25");
        assert_eq!(c.trust_list.refresh, DEFAULT_REFRESH);
    }

    #[test]
    fn relative_data_dir_resolves_against_the_file() {
        let c = load(
            "[server]\ndomains=[\"a.fr\"]\ndata_dir=\"data\"\n[tls]\ncertificate=\"/abs/c.pem\"\n",
        )
        .unwrap();
        assert_eq!(c.data_dir, Path::new("/etc/mssd/data"));
        assert_eq!(c.tls.certificate, Path::new("/abs/c.pem"));
        assert_eq!(
            c.tls.private_key,
            Path::new("/etc/mssd/data/pki/server.key")
        );
    }

    #[test]
    fn listeners_section_lists_exactly_what_runs() {
        let c = load("[server]\ndomains=[\"a.fr\"]\n[listeners]\nsmtp=\"127.0.0.1:0\"\n").unwrap();
        assert!(c.listeners.smtp.is_some());
        assert!(c.listeners.imap.is_none() && c.listeners.http.is_none());
    }

    #[test]
    fn errors_name_the_key() {
        let cases: &[(&str, &[&str])] = &[
            (
                "[server]\ndomains=[\"a.fr\"]\nbogus=1\n",
                &["unknown field `bogus`", "line 3"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[tls]\ncertificat=\"x\"\n",
                &["unknown field `certificat`", "line 4"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[nope]\n",
                &["unknown field `nope`"],
            ),
            ("[server]\n", &["missing field `domains`"]),
            (
                "[server]\ndomains=[]\n",
                &["server.domains", "at least one"],
            ),
            (
                "[server]\ndomains=[\"a.fr\",\"A.fr\"]\n",
                &["server.domains[1]", "twice"],
            ),
            ("[server]\ndomains=[\"a b\"]\n", &["server.domains[0]"]),
            (
                "[server]\ndomains=[\"a.fr\"]\n[listeners]\nsmtp=\"localhost\"\n",
                &["listeners.smtp", "ip:port"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[trust_list]\nrefresh=\"60\"\n",
                &["trust_list.refresh", "no unit"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[trust_list]\nrefresh=\"10s\"\n",
                &["trust_list.refresh", "once a minute"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[tls]\ntrust_anchors=[]\n",
                &["tls.trust_anchors", "system store"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[tls]\naccepted_policies=[\"x.y\"]\n",
                &["tls.accepted_policies[0]"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[relay]\nroutes={\"b.fr\"=\"nohost\"}\n",
                &["relay.routes.\"b.fr\"", "host:port"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[citizen]\ndomain=\"a.fr\"\n",
                &["citizen.domain", "also in server.domains"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[log]\nformat=\"xml\"\n",
                &["log.format"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[limits]\nmax_connections=0\n",
                &["limits"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[auth.oidc]\nissuer=\"https://i\"\njwks=\"j.json\"\n",
                &["auth.oidc.audience", "required"],
            ),
            (
                "[server]\ndomains=[\"a.fr\"]\n[imap]\nlogin_timeout=\"1h\"\n",
                &["imap.login_timeout"],
            ),
        ];
        for (text, needles) in cases {
            let message = error_of(text);
            for needle in *needles {
                assert!(
                    message.contains(needle),
                    "{text:?}: {message:?} lacks {needle:?}"
                );
            }
            assert!(message.contains("test.toml"), "{message}");
        }
    }
}
