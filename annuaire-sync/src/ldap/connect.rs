//! Opening an authenticated, TLS-protected LDAP connection.

use std::sync::Arc;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError};
use rustls::{ClientConfig, RootCertStore};

use super::config::LdapConfig;
use crate::error::{Error, Result};

/// LDAP result code of a bind with a wrong password (RFC 4511).
pub const INVALID_CREDENTIALS: u32 = 49;

/// TLS client configuration trusting only `config.anchors`; the server name (host or IP of
/// the URL) must match the certificate.
pub fn tls_config(config: &LdapConfig) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for anchor in &config.anchors {
        roots
            .add(anchor.clone())
            .map_err(|e| Error::LdapConfig(format!("LDAP trust anchor rejected: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::LdapConfig(format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(tls))
}

/// The error for a failed `operation` against the configured server.
pub fn ldap_error(config: &LdapConfig, operation: &str, e: impl std::fmt::Display) -> Error {
    Error::Ldap {
        url: config.url.clone(),
        operation: operation.to_owned(),
        reason: e.to_string(),
    }
}

/// Connects (with the timeout) and returns the handle; the connection task is spawned on
/// the current runtime and ends when every handle is dropped or unbound.
pub async fn connect(config: &LdapConfig, tls: &Arc<ClientConfig>) -> Result<Ldap> {
    let settings = LdapConnSettings::new()
        .set_conn_timeout(config.timeout)
        .set_config(tls.clone())
        .set_starttls(config.starttls);
    let (conn, ldap) = LdapConnAsync::with_settings(settings, &config.url)
        .await
        .map_err(|e| ldap_error(config, "connect", describe(&e)))?;
    let url = config.url.clone();
    tokio::spawn(async move {
        if let Err(e) = conn.drive().await {
            tracing::warn!(url = %url, error = %e, "LDAP connection ended with an error");
        }
    });
    Ok(ldap)
}

/// Connects and binds as the service account.
pub async fn connect_service(config: &LdapConfig, tls: &Arc<ClientConfig>) -> Result<Ldap> {
    let mut ldap = connect(config, tls).await?;
    ldap.with_timeout(config.timeout)
        .simple_bind(&config.bind_dn, &config.bind_password)
        .await
        .and_then(|r| r.success())
        .map_err(|e| ldap_error(config, "service bind", describe(&e)))?;
    Ok(ldap)
}

/// ldap3's messages, made more telling for the common cases.
pub fn describe(e: &LdapError) -> String {
    match e {
        LdapError::LdapResult { result } if result.rc == INVALID_CREDENTIALS => {
            "invalid credentials (result code 49)".to_owned()
        }
        LdapError::LdapResult { result } => {
            format!("result code {}: {}", result.rc, result.text)
        }
        LdapError::Timeout { .. } => "no answer within the configured timeout".to_owned(),
        other => other.to_string(),
    }
}
