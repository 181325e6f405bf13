//! mssd configuration: the TOML contract of `docs`/README, the embedded default, and the
//! validated form the rest of the server uses.

mod cda;
mod citizen;
mod duration;
mod http_client;
mod raw;
mod resolve;
mod sections;
mod size;
mod store;
mod tls;
mod values;
mod web;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use duration::parse_duration;
pub use size::parse_size;

use crate::error::{Error, Result};

/// The embedded default configuration, as TOML (also written to the data dir on first start).
pub const EMBEDDED_TOML: &str = include_str!("embedded.toml");

/// A validated configuration: paths resolved, addresses parsed, domains normalised.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where this configuration came from, for messages ("embedded default" or the file).
    pub origin: String,
    /// The file read (`--config`), which SIGHUP reads again; `None` for the embedded default.
    pub file: Option<PathBuf>,
    pub embedded: bool,
    pub hostname: String,
    /// Our mail domains, normalised (lower-case A-labels).
    pub domains: Vec<String>,
    pub data_dir: PathBuf,
    pub tls: TlsConfig,
    pub listeners: Listeners,
    pub trust_list: TrustListConfig,
    /// Static next hops: domain → host:port.
    pub relay_routes: BTreeMap<String, String>,
    pub citizen_domain: Option<String>,
    pub oidc: Option<OidcConfig>,
    pub log: LogConfig,
    pub limits: Limits,
    pub smtp: SmtpSettings,
    pub imap: ImapSettings,
    pub queue: QueueSettings,
    /// Mailbox kinds that may log in with a password.
    pub password_kinds: Vec<mssd_core::MailboxKind>,
    pub annuaire: AnnuaireSettings,
    /// `[cda]`: health documents.
    pub cda: mssd_cda::CdaPolicy,
    /// `[citizen]` rules: provisioning, first contacts.
    pub citizen: mssd_citizen::CitizenPolicy,
    /// `[citizen.oidc]`: how citizens log in.
    pub citizen_oidc: Option<CitizenOidcConfig>,
    /// `[citizen] notify_url` and its retry delays.
    pub citizen_notify: Option<NotifyConfig>,
    /// `[web]` and the web sign-in of `[citizen.oidc]`.
    pub web: WebConfig,
    /// `[http_client]`: the roots of public downloads (ANS files, JWKS, token endpoint).
    pub http_client: HttpClientConfig,
    /// `[store]`: SQLite in the data dir, or PostgreSQL.
    pub store: StoreBackend,
}

/// Where mailboxes, queue and audit trail are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreBackend {
    /// `mssd.sqlite3` in the data dir (the embedded default).
    Sqlite,
    Postgres(PostgresSettings),
}

/// `[store] backend = "postgres"`: a database several nodes may share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresSettings {
    /// A libpq URL with no password in it.
    pub url: String,
    /// The file holding the password, read when the store is opened.
    pub password_file: Option<PathBuf>,
    pub pool_size: usize,
    /// Roots the database's TLS certificate must chain to (when the URL asks for TLS).
    pub anchors: mssd_http_client::Anchors,
}

/// The client for public HTTPS sources: never used for MSSanté peers (IGC-Santé only).
#[derive(Debug, Clone)]
pub struct HttpClientConfig {
    /// Read only when something is downloaded.
    pub anchors: mssd_http_client::Anchors,
}

/// Where an issuer's signing keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksLocation {
    /// A file (resolved against the data dir), read at start.
    File(PathBuf),
    /// An https URL: fetched with `[http_client]`, kept in the store, refreshed.
    Url(String),
}

impl std::fmt::Display for JwksLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwksLocation::File(path) => write!(f, "{}", path.display()),
            JwksLocation::Url(url) => f.write_str(url),
        }
    }
}

/// The HTTPS side: the web mailbox and the API.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub public_url: Option<String>,
    pub max_body: usize,
    pub per_ip_rate: u32,
    pub per_ip_burst: u32,
    pub session_idle: Duration,
    pub session_max: Duration,
    /// A real provider's endpoints for web sign-in (code + PKCE); `None` with the TEST
    /// provider or without `[citizen.oidc]` endpoints.
    pub sign_in: Option<SignInEndpoints>,
}

#[derive(Debug, Clone)]
pub struct SignInEndpoints {
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scope: String,
}

/// What SMTP does with a recipient at a listed domain the national directory does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownRecipient {
    Off,
    Warn,
    Refuse,
}

#[derive(Debug, Clone)]
pub struct AnnuaireSettings {
    pub source: Option<String>,
    pub refresh: Duration,
    pub max_removal_share: f64,
    pub max_extracted_size: u64,
    pub max_lines: u64,
    pub unknown_recipient: UnknownRecipient,
    pub ldap: Option<LdapSettings>,
}

#[derive(Debug, Clone)]
pub struct LdapSettings {
    pub url: String,
    pub starttls: bool,
    pub bind_dn: String,
    pub bind_password: String,
    pub base_dn: String,
    pub filter: Option<String>,
    pub page_size: i32,
    pub timeout: Duration,
    pub pool_size: usize,
    pub anchors: Vec<PathBuf>,
    pub full_sync: Duration,
    pub incremental_sync: Duration,
    pub provision: bool,
    pub password_auth: bool,
    pub attributes: Option<mssd_annuaire::ldap::AttributeMap>,
    pub groups: Option<mssd_annuaire::ldap::GroupMapping>,
    pub max_suspend_share: f64,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub max_message_size: usize,
    pub max_recipients: usize,
    pub command_timeout: Duration,
    pub data_timeout: Duration,
    pub login_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub max_literal_size: u32,
    pub idle_timeout: Duration,
    pub max_connections_per_user: usize,
    pub login_timeout: Duration,
    pub max_literals_in_flight: u64,
}

#[derive(Debug, Clone)]
pub struct QueueSettings {
    pub retry: Vec<Duration>,
    pub expiry: Duration,
    pub poll: Duration,
    /// How long a queue round holds the entries it claimed (see `OutboundConfig::lease`).
    pub lease: Duration,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
    pub trust_anchors: Vec<PathBuf>,
    pub crls: Vec<PathBuf>,
    pub accepted_policies: Vec<String>,
    /// What a CRL past its nextUpdate does (`tls.stale_crl`).
    pub stale_crl: mssd_certs::StaleCrl,
    /// CRLs downloaded besides the certificates' distribution points.
    pub crl_urls: Vec<String>,
    /// How often CRLs are downloaded; `None`: never (`"off"`).
    pub crl_refresh: Option<std::time::Duration>,
    /// The OCSP responder (`tls.ocsp`); `None`: CRLs only.
    pub ocsp: Option<String>,
    /// How long an OCSP answer is used.
    pub ocsp_cache: std::time::Duration,
}

/// Listener addresses; `None` disables that listener.
#[derive(Debug, Clone, Default)]
pub struct Listeners {
    pub smtp: Option<SocketAddr>,
    pub submission: Option<SocketAddr>,
    pub submissions: Option<SocketAddr>,
    pub imap: Option<SocketAddr>,
    pub imaps: Option<SocketAddr>,
    /// Plain HTTP, for loopback monitoring: `/healthz`, `/metrics`, `/annuaire/search`.
    pub http: Option<SocketAddr>,
    /// HTTPS (HTTP/1.1 and HTTP/2): the same, the API and the web mailbox.
    pub https: Option<SocketAddr>,
}

#[derive(Debug, Clone)]
pub struct TrustListConfig {
    pub source: Option<String>,
    pub refresh: Duration,
    pub sha256: Option<String>,
    pub max_removal_share: f64,
}

#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub url: String,
    /// Delays between attempts; the last repeats.
    pub retry: Vec<Duration>,
}

#[derive(Debug, Clone)]
pub enum CitizenOidcConfig {
    /// A real issuer: its JWKS (a resolved file or a URL), audience and INS claim.
    Issuer {
        issuer: String,
        jwks: JwksLocation,
        jwks_refresh: Duration,
        audience: String,
        ins_claim: String,
    },
    /// The TEST provider of `citizen_idp.rs`.
    TestProvider,
}

#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub jwks: JwksLocation,
    /// How often a JWKS URL is fetched again (`jwks_refresh`).
    pub jwks_refresh: Duration,
    pub audience: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub mta_reserve: usize,
    /// Cap per listener name.
    pub per_listener: std::collections::HashMap<&'static str, usize>,
}

impl Config {
    /// The embedded default, with `./mssd-data` resolved against the working directory.
    pub fn embedded() -> Result<Config> {
        let cwd = std::env::current_dir().map_err(|source| Error::Io {
            what: "reading the working directory".into(),
            source,
        })?;
        resolve::from_toml(EMBEDDED_TOML, "embedded default", &cwd, true)
    }

    /// Loads a file; relative `data_dir` resolves against the file's folder.
    pub fn from_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            what: format!("reading configuration {}", path.display()),
            source,
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut config = resolve::from_toml(&text, &path.display().to_string(), base, false)?;
        config.file = Some(path.to_path_buf());
        Ok(config)
    }

    /// The same source again (the file, or the embedded default), for a reload.
    pub fn reread(&self) -> Result<Config> {
        match &self.file {
            Some(path) => Config::from_file(path),
            None => Config::embedded(),
        }
    }

    /// `--config FILE` when given, else the embedded default.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        match path {
            Some(path) => Config::from_file(path),
            None => Config::embedded(),
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("mssd.sqlite3")
    }

    pub fn pki_dir(&self) -> PathBuf {
        self.data_dir.join("pki")
    }

    /// The first domain, used for defaults such as the demo mailbox.
    pub fn primary_domain(&self) -> &str {
        &self.domains[0]
    }

    pub fn hosts_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d == domain)
    }
}
