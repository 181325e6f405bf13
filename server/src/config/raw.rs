//! The configuration file as written: serde structs that reject unknown keys.
//! Validation and path resolution happen in `resolve.rs`; nothing here interprets values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub server: RawServer,
    #[serde(default)]
    pub tls: RawTls,
    /// Absent: the production defaults. Present: exactly the listeners it names.
    pub listeners: Option<RawListeners>,
    #[serde(default)]
    pub trust_list: RawTrustList,
    #[serde(default)]
    pub relay: RawRelay,
    pub citizen: Option<RawCitizen>,
    #[serde(default)]
    pub auth: RawAuth,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub smtp: RawSmtp,
    #[serde(default)]
    pub imap: RawImap,
    #[serde(default)]
    pub queue: RawQueue,
    #[serde(default)]
    pub annuaire: RawAnnuaire,
    #[serde(default)]
    pub cda: RawCda,
    #[serde(default)]
    pub web: RawWeb,
    #[serde(default)]
    pub http_client: RawHttpClient,
    #[serde(default)]
    pub store: RawStore,
}

/// `[store]`: where mailboxes, queue and audit trail are kept.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// "sqlite" (default: mssd.sqlite3 in data_dir) or "postgres".
    pub backend: Option<String>,
    /// PostgreSQL: a libpq URL without password, e.g. "postgresql://mssd@db/mssd?sslmode=require".
    pub url: Option<String>,
    /// PostgreSQL: a file holding the role's password (relative to data_dir).
    pub password_file: Option<PathBuf>,
    /// PostgreSQL: connections kept by this node.
    pub pool_size: Option<i64>,
    /// PostgreSQL: roots TLS to the database is checked against: "system", "webpki" or PEM files.
    pub anchors: Option<OneOrMany>,
}

/// `[http_client]`: how public HTTPS downloads are checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpClient {
    /// "system" (default), "webpki", or a list of PEM files (relative to data_dir).
    pub anchors: Option<OneOrMany>,
}

/// `[web]`: the HTTPS side (web mailbox, API).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    /// The URL citizens use, e.g. "https://messagerie.example.fr" (sign-in redirect).
    pub public_url: Option<String>,
    /// Largest request body, e.g. "1M".
    pub max_body: Option<String>,
    pub requests_per_second_per_ip: Option<u32>,
    pub burst_per_ip: Option<u32>,
    /// Web sessions end after this long without a request, and after this long at most.
    pub session_idle: Option<String>,
    pub session_max: Option<String>,
}

/// `[cda]`: health documents in IHE_XDM.zip.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCda {
    /// INS OIDs that make `X-MSS-INS: O` (and, on the citizen side, a usable INS).
    pub accepted_ins_oids: Option<Vec<String>>,
    /// "warn" (default) or "refuse".
    pub header_mismatch: Option<String>,
    /// "accept" (default) or "refuse".
    pub malformed: Option<String>,
    #[serde(default)]
    pub limits: RawCdaLimits,
    #[serde(default)]
    pub routes: Vec<RawCdaRoute>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCdaLimits {
    pub max_entries: Option<usize>,
    /// e.g. "20M".
    pub max_entry_size: Option<String>,
    pub max_total_size: Option<String>,
    pub max_ratio: Option<u64>,
    pub max_xml_nodes: Option<u32>,
}

/// One `[[cda.routes]]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCdaRoute {
    pub mailboxes: OneOrMany,
    pub codes: Option<Vec<String>>,
    /// "copy" (default) or "redirect".
    pub action: Option<String>,
    pub to: String,
}

/// A string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub hostname: Option<String>,
    /// The only key a configuration file must give: which mail domains we host.
    pub domains: Vec<String>,
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
    pub trust_anchors: Option<Vec<PathBuf>>,
    pub crls: Option<Vec<PathBuf>>,
    /// Certificate policy OIDs accepted for peers and users; empty accepts any.
    pub accepted_policies: Option<Vec<String>>,
    /// "warn" (default) or "refuse": what a CRL past its nextUpdate does.
    pub stale_crl: Option<String>,
    /// CRLs to download besides the certificates' distribution points.
    pub crl_urls: Option<Vec<String>>,
    /// How often CRLs are downloaded, e.g. "1h"; "off" downloads none.
    pub crl_refresh: Option<String>,
    /// An OCSP responder URL asked about the certificates peers present.
    pub ocsp: Option<String>,
    /// How long an OCSP answer is used, e.g. "1h".
    pub ocsp_cache: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListeners {
    pub smtp: Option<String>,
    pub submission: Option<String>,
    pub submissions: Option<String>,
    pub imap: Option<String>,
    pub imaps: Option<String>,
    pub http: Option<String>,
    pub https: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrustList {
    pub source: Option<String>,
    pub refresh: Option<String>,
    /// The expected SHA-256: hex, or a URL / file whose content starts with it.
    pub sha256: Option<String>,
    /// Refuse a new list that removes more than this share of the domains (0..1).
    pub max_removal_share: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelay {
    #[serde(default)]
    pub routes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCitizen {
    pub domain: String,
    /// "registered" (default) or "auto".
    pub provisioning: Option<String>,
    /// Mailboxes a citizen may write to first (e.g. a pharmacy's ORG mailbox).
    pub first_contact_allowed: Option<Vec<String>>,
    /// The citizens' identity provider.
    pub oidc: Option<RawCitizenOidc>,
    /// POSTed (JSON: notification id, mailbox id, counts) for each delivery to a citizen.
    pub notify_url: Option<String>,
    /// Delays between attempts, e.g. ["1s", "10s", "1m"]; the last repeats.
    pub notify_retry: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCitizenOidc {
    pub issuer: Option<String>,
    /// A JWKS file (relative to data_dir) or an https URL.
    pub jwks: Option<String>,
    /// How often a JWKS URL is fetched again, e.g. "1h".
    pub jwks_refresh: Option<String>,
    pub audience: Option<String>,
    /// The claim holding the INS; default "ins".
    pub ins_claim: Option<String>,
    /// A TEST provider kept in the data dir (`mssd citizen token INS`): never in production.
    pub test_provider: Option<bool>,
    /// Web sign-in (authorization code + PKCE): the provider's endpoints and our client.
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub client_id: Option<String>,
    /// A file holding the client secret (relative to data_dir), for confidential clients.
    pub client_secret_file: Option<PathBuf>,
    /// Default "openid".
    pub scope: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub oidc: Option<RawOidc>,
    /// Mailbox kinds allowed to log in with a password (PLAIN/LOGIN).
    pub password_kinds: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    pub issuer: String,
    /// A JWKS file (relative to data_dir) or an https URL.
    pub jwks: String,
    /// How often a JWKS URL is fetched again, e.g. "1h".
    pub jwks_refresh: Option<String>,
    pub audience: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// "text" (default) or "json".
    pub format: Option<String>,
    /// A tracing filter such as "info" or "mssd=debug,info".
    pub level: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    /// Slots of max_connections only the MTA listener (port 25) may take.
    pub mta_reserve: Option<usize>,
    /// Cap per listener, by listener name (smtp, submission, submissions, imap, imaps, http).
    pub listeners: Option<std::collections::BTreeMap<String, usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    /// e.g. "50M"; advertised in EHLO SIZE and enforced while receiving.
    pub max_message_size: Option<String>,
    pub max_recipients: Option<usize>,
    /// A whole command line must arrive within this, e.g. "5m" (RFC 5321 4.5.3.2).
    pub command_timeout: Option<String>,
    /// The longest pause within a message, e.g. "3m".
    pub data_timeout: Option<String>,
    /// From connection to authentication, e.g. "2m" (not extended by input).
    pub login_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImap {
    /// Largest literal (an APPENDed message), e.g. "50M".
    pub max_literal_size: Option<String>,
    /// Logout after this much inactivity, e.g. "30m" (RFC 9051: at least 30 minutes).
    pub idle_timeout: Option<String>,
    /// Concurrent IMAP sessions per mailbox.
    pub max_connections_per_user: Option<usize>,
    /// Time from connection to authentication, e.g. "60s" (not extended by input).
    pub login_timeout: Option<String>,
    /// Bytes of APPEND literals all sessions may be receiving at once, e.g. "512M".
    pub max_literals_in_flight: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    /// Delays between delivery attempts, e.g. ["1m", "5m", "15m", "1h", "4h"]; the last repeats.
    pub retry: Option<Vec<String>>,
    /// How long a message may stay queued before it bounces, e.g. "5d".
    pub expiry: Option<String>,
    /// How often the queue is looked at when no new message wakes the runner, e.g. "30s".
    pub poll: Option<String>,
    /// How long a round holds the entries it claimed, e.g. "15m": longer than any attempt.
    pub lease: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnnuaire {
    /// The national extraction: an https URL or a file/directory.
    pub source: Option<String>,
    pub refresh: Option<String>,
    /// Refuse an import removing more than this share of the entries (0..1).
    pub max_removal_share: Option<f64>,
    /// Refuse a file larger than this once decompressed, e.g. "4G".
    pub max_extracted_size: Option<String>,
    /// Refuse a file of more lines than this.
    pub max_lines: Option<u64>,
    /// A recipient at a listed domain unknown to the national directory: "off", "warn", "refuse".
    pub unknown_recipient: Option<String>,
    pub ldap: Option<RawLdap>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLdap {
    pub url: String,
    #[serde(default)]
    pub starttls: bool,
    pub bind_dn: String,
    pub bind_password: Option<String>,
    /// A file holding the service password (first line), instead of `bind_password`.
    pub bind_password_file: Option<PathBuf>,
    pub base_dn: String,
    pub filter: Option<String>,
    pub page_size: Option<i32>,
    pub timeout: Option<String>,
    pub pool_size: Option<usize>,
    /// CA certificates (PEM) for the LDAP server; default `tls.trust_anchors`.
    pub anchors: Option<Vec<PathBuf>>,
    /// Full sync interval (sees deletions), e.g. "24h".
    pub full_sync: Option<String>,
    /// Incremental sync interval (modifyTimestamp), e.g. "5m".
    pub incremental_sync: Option<String>,
    /// Create/suspend our mailboxes from the directory and ORG members from its groups.
    #[serde(default)]
    pub provision: bool,
    /// Check passwords with an LDAP bind (stored argon2 hashes remain a fallback).
    #[serde(default)]
    pub password_auth: bool,
    pub attributes: Option<mssd_annuaire::ldap::AttributeMap>,
    pub groups: Option<mssd_annuaire::ldap::GroupMapping>,
    pub max_suspend_share: Option<f64>,
}
