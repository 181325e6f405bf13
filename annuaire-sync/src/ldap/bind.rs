//! Password authentication delegated to the operator's LDAP: find the user's entry by mail
//! with the service account, then bind as that entry with the offered password.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ldap3::{Ldap, Scope, ldap_escape};
use mssd_auth::PasswordVerifier;
use mssd_store::Mailbox;
use rustls::ClientConfig;
use tokio::sync::Semaphore;

use super::config::LdapConfig;
use super::connect::{
    INVALID_CREDENTIALS, connect, connect_service, describe, ldap_error, tls_config,
};
use crate::error::{Error, Result};

/// Looked up when the account is unknown, so an unknown account costs one search like a
/// known one (RFC 2606 `.invalid` never matches a real entry).
const UNKNOWN_ACCOUNT_MAIL: &str = "no-such-account@mssd.invalid";

/// `PasswordVerifier` binding against LDAP.
///
/// - An empty password is refused at once: an LDAP simple bind with a DN and no password
///   is an *unauthenticated* bind that servers answer with success (RFC 4513 §5.1.2).
/// - No entry for the mailbox's address: the `fallback` verifier decides (e.g. argon2 for
///   APP mailboxes with a local password), or `false` without one.
/// - Several entries for one address: `false` (ambiguous) and a warning.
/// - Server unreachable, timeout, other errors: `Err`, which the authenticator turns into
///   a temporary failure, never into a success.
pub struct LdapPasswordVerifier {
    config: LdapConfig,
    tls: Arc<ClientConfig>,
    /// Idle service-bound connections for the DN searches.
    idle: Mutex<Vec<Ldap>>,
    /// At most `pool_size` checks talk to the server at once.
    permits: Semaphore,
    fallback: Option<Arc<dyn PasswordVerifier>>,
}

impl LdapPasswordVerifier {
    pub fn new(config: LdapConfig) -> Result<LdapPasswordVerifier> {
        config.validate()?;
        let tls = tls_config(&config)?;
        let permits = Semaphore::new(config.pool_size);
        Ok(LdapPasswordVerifier {
            config,
            tls,
            idle: Mutex::new(Vec::new()),
            permits,
            fallback: None,
        })
    }

    /// Accounts without an LDAP entry are checked by `fallback` instead of refused.
    pub fn with_fallback(mut self, fallback: Arc<dyn PasswordVerifier>) -> Self {
        self.fallback = Some(fallback);
        self
    }

    /// DNs of the entries whose mail attribute is `mail`.
    async fn find_dns(&self, mail: &str) -> Result<Vec<String>> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::LdapConfig("LDAP connection pool closed".into()))?;
        let filter = format!(
            "(&{}({}={}))",
            wrap(&self.config.filter),
            self.config.attributes.mail,
            ldap_escape(mail)
        );
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let mut reused = pooled.is_some();
        let mut ldap = match pooled {
            Some(ldap) => ldap,
            None => connect_service(&self.config, &self.tls).await?,
        };
        loop {
            match self.search_dns(&mut ldap, &filter).await {
                Ok(dns) => {
                    if let Ok(mut idle) = self.idle.lock() {
                        idle.push(ldap);
                    }
                    return Ok(dns);
                }
                // A pooled connection may have been closed by the server while idle:
                // one retry on a fresh one.
                Err(e) if reused => {
                    tracing::debug!(error = %e, "pooled LDAP connection failed; reconnecting");
                    reused = false;
                    ldap = connect_service(&self.config, &self.tls).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn search_dns(&self, ldap: &mut Ldap, filter: &str) -> Result<Vec<String>> {
        let (entries, _) = ldap
            .with_timeout(self.config.timeout)
            .search(&self.config.base_dn, Scope::Subtree, filter, vec!["1.1"])
            .await
            .and_then(|r| r.success())
            .map_err(|e| ldap_error(&self.config, "search for the user's entry", describe(&e)))?;
        Ok(entries
            .into_iter()
            .map(|e| ldap3::SearchEntry::construct(e).dn)
            .collect())
    }

    /// Binds as `dn` on a fresh connection (a bind changes the connection's identity, so
    /// pooled service connections are never used for it).
    async fn bind_as(&self, dn: &str, password: &str) -> Result<bool> {
        let mut ldap = connect(&self.config, &self.tls).await?;
        let result = ldap
            .with_timeout(self.config.timeout)
            .simple_bind(dn, password)
            .await
            .map_err(|e| ldap_error(&self.config, "user bind", describe(&e)))?;
        // Best effort: the answer is known, a failed unbind changes nothing.
        let _ = ldap.unbind().await;
        match result.rc {
            0 => Ok(true),
            INVALID_CREDENTIALS => Ok(false),
            rc => Err(ldap_error(
                &self.config,
                "user bind",
                format!("result code {rc}: {}", result.text),
            )),
        }
    }

    async fn check(&self, mailbox: Option<&Mailbox>, password: &str) -> Result<Option<bool>> {
        let Some(mailbox) = mailbox else {
            self.find_dns(UNKNOWN_ACCOUNT_MAIL).await?;
            return Ok(Some(false));
        };
        let dns = self.find_dns(mailbox.address.as_str()).await?;
        match dns.as_slice() {
            [] => Ok(None),
            [dn] if password.is_empty() => {
                tracing::debug!(dn = %dn, "empty password refused before any bind");
                Ok(Some(false))
            }
            [dn] => self.bind_as(dn, password).await.map(Some),
            several => {
                tracing::warn!(
                    entries = several.len(),
                    "several LDAP entries share one mailbox address; password refused"
                );
                Ok(Some(false))
            }
        }
    }
}

#[async_trait]
impl PasswordVerifier for LdapPasswordVerifier {
    async fn verify(&self, mailbox: Option<&Mailbox>, password: &str) -> mssd_auth::Result<bool> {
        let outcome = self.check(mailbox, password).await.map_err(|e| {
            tracing::warn!(error = %e, "LDAP password check could not run");
            mssd_auth::Error::PasswordVerifier {
                reason: e.to_string(),
            }
        })?;
        match (outcome, &self.fallback) {
            (Some(answer), _) => Ok(answer),
            (None, Some(fallback)) => fallback.verify(mailbox, password).await,
            (None, None) => Ok(false),
        }
    }
}

/// A filter in parentheses, as `(&...)` needs its parts.
fn wrap(filter: &str) -> String {
    let filter = filter.trim();
    if filter.starts_with('(') {
        filter.to_owned()
    } else {
        format!("({filter})")
    }
}
