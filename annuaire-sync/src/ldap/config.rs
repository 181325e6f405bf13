//! What the operator configures for the LDAP sync (`[annuaire.ldap]`).

use std::fmt;
use std::time::Duration;

use mssd_core::MailboxKind;
use rustls_pki_types::CertificateDer;
use serde::Deserialize;

use crate::error::{Error, Result};

/// Default search filter: people of an `inetOrgPerson` address book.
pub const DEFAULT_FILTER: &str = "(objectClass=inetOrgPerson)";
/// Default group filter: `groupOfNames` entries (their `member` values are DNs).
pub const DEFAULT_GROUP_FILTER: &str = "(objectClass=groupOfNames)";

/// How to reach and read the operator's LDAP server.
#[derive(Clone)]
pub struct LdapConfig {
    /// `ldaps://host:port` or `ldap://host:port` with `starttls = true`. Plain `ldap://`
    /// without StartTLS is refused: the service password and user passwords would travel
    /// in clear.
    pub url: String,
    pub starttls: bool,
    /// Service account used for searches (sync, and finding a user's DN for a bind).
    pub bind_dn: String,
    pub bind_password: String,
    /// Where people are searched (subtree).
    pub base_dn: String,
    pub filter: String,
    pub attributes: AttributeMap,
    /// Where ORG mailbox membership comes from; `None`: no membership sync.
    pub groups: Option<GroupMapping>,
    /// Paged results page size (RFC 2696) for full syncs.
    pub page_size: i32,
    /// Connect, bind and per-operation timeout.
    pub timeout: Duration,
    /// The only CAs accepted for the LDAP server's certificate (IGC-Santé anchors or the
    /// hospital's own CA). Never the system store.
    pub anchors: Vec<CertificateDer<'static>>,
    /// Service connections kept open for LDAP-bind password checks.
    pub pool_size: usize,
}

/// Which LDAP attribute holds each field of a directory entry.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeMap {
    pub mail: String,
    pub cn: String,
    pub sn: String,
    pub given_name: String,
    /// idNat_PS of the professional (`8`+RPPS or `0`+ADELI); `None`: not mapped.
    pub id_nat: Option<String>,
    /// Mailbox kind (`PER`, `ORG`, `APP`, `CAB`); `None`: every entry is `default_kind`.
    pub kind: Option<String>,
    /// Kind of an entry whose kind attribute is absent.
    pub default_kind: MailboxKind,
}

impl Default for AttributeMap {
    fn default() -> Self {
        AttributeMap {
            mail: "mail".into(),
            cn: "cn".into(),
            sn: "sn".into(),
            given_name: "givenName".into(),
            id_nat: Some("employeeNumber".into()),
            kind: Some("employeeType".into()),
            default_kind: MailboxKind::Per,
        }
    }
}

impl AttributeMap {
    /// The attributes a people search asks for (plus `modifyTimestamp`, operational).
    pub fn requested(&self) -> Vec<String> {
        let mut attrs = vec![
            self.mail.clone(),
            self.cn.clone(),
            self.sn.clone(),
            self.given_name.clone(),
            "modifyTimestamp".to_owned(),
        ];
        attrs.extend(self.id_nat.iter().cloned());
        attrs.extend(self.kind.iter().cloned());
        attrs
    }
}

/// Groups whose members get rights on an ORG mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupMapping {
    /// Where groups are searched (subtree).
    pub base_dn: String,
    pub filter: String,
    /// Attribute listing member DNs.
    pub member_attribute: String,
    /// Attribute naming the group's ORG mailbox: a mail address, or the DN of the ORG
    /// mailbox's own entry (e.g. `owner` of a `groupOfNames`).
    pub mailbox_attribute: String,
}

impl Default for GroupMapping {
    fn default() -> Self {
        GroupMapping {
            base_dn: String::new(),
            filter: DEFAULT_GROUP_FILTER.into(),
            member_attribute: "member".into(),
            mailbox_attribute: "mail".into(),
        }
    }
}

impl LdapConfig {
    /// A configuration with the defaults for everything but the server and account.
    pub fn new(
        url: impl Into<String>,
        bind_dn: impl Into<String>,
        bind_password: impl Into<String>,
        base_dn: impl Into<String>,
        anchors: Vec<CertificateDer<'static>>,
    ) -> LdapConfig {
        LdapConfig {
            url: url.into(),
            starttls: false,
            bind_dn: bind_dn.into(),
            bind_password: bind_password.into(),
            base_dn: base_dn.into(),
            filter: DEFAULT_FILTER.into(),
            attributes: AttributeMap::default(),
            groups: None,
            page_size: 500,
            timeout: Duration::from_secs(10),
            anchors,
            pool_size: 4,
        }
    }

    /// Refuses settings that would send passwords in clear or cannot work.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Error::LdapConfig(reason);
        let scheme = self.url.split_once("://").map(|(s, _)| s);
        match scheme {
            Some("ldaps") if self.starttls => {
                return Err(bad(format!(
                    "url {} is ldaps:// (TLS from the start): remove starttls = true",
                    self.url
                )));
            }
            Some("ldaps") => {}
            Some("ldap") if self.starttls => {}
            Some("ldap") => {
                return Err(bad(format!(
                    "url {} is plain ldap:// without starttls: passwords would travel in clear; \
                     use ldaps:// or set starttls = true",
                    self.url
                )));
            }
            _ => {
                return Err(bad(format!(
                    "url {:?} must start with ldaps:// or ldap:// (with starttls = true)",
                    self.url
                )));
            }
        }
        if self.anchors.is_empty() {
            return Err(bad(
                "no trust anchor for the LDAP server certificate: set anchors (PEM files)".into(),
            ));
        }
        if self.base_dn.trim().is_empty() {
            return Err(bad("base_dn is empty".into()));
        }
        if !(1..=i32::MAX / 2).contains(&self.page_size) {
            return Err(bad(format!(
                "page_size {} must be positive",
                self.page_size
            )));
        }
        if self.timeout.is_zero() {
            return Err(bad("timeout must be more than zero".into()));
        }
        if self.pool_size == 0 {
            return Err(bad("pool_size must be at least 1".into()));
        }
        if let Some(groups) = &self.groups
            && groups.base_dn.trim().is_empty()
        {
            return Err(bad("groups.base_dn is empty".into()));
        }
        Ok(())
    }
}

// By hand: the service password must never reach a log.
impl fmt::Debug for LdapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapConfig")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("bind_dn", &self.bind_dn)
            .field("base_dn", &self.base_dn)
            .field("filter", &self.filter)
            .field("attributes", &self.attributes)
            .field("groups", &self.groups)
            .field("page_size", &self.page_size)
            .field("timeout", &self.timeout)
            .field("anchors", &self.anchors.len())
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str, starttls: bool) -> LdapConfig {
        let mut c = LdapConfig::new(
            url,
            "cn=svc,dc=x",
            "pw",
            "dc=x",
            vec![CertificateDer::from(vec![1u8])],
        );
        c.starttls = starttls;
        c
    }

    #[test]
    fn validate_accepts_only_encrypted_urls() {
        // (url, starttls, accepted, words the error must contain)
        let cases = [
            ("ldaps://ldap.hopital.test:636", false, true, ""),
            ("ldap://ldap.hopital.test:389", true, true, ""),
            ("ldap://ldap.hopital.test:389", false, false, "in clear"),
            ("ldaps://ldap.hopital.test", true, false, "remove starttls"),
            ("http://ldap.hopital.test", false, false, "must start with"),
            ("ldap.hopital.test", false, false, "must start with"),
        ];
        for (url, starttls, accepted, words) in cases {
            let result = config(url, starttls).validate();
            assert_eq!(result.is_ok(), accepted, "{url} starttls={starttls}");
            if let Err(e) = result {
                assert!(e.to_string().contains(words), "{url}: {e}");
            }
        }
    }

    #[test]
    fn validate_refuses_missing_anchors_base_and_bad_sizes() {
        type Change = fn(&mut LdapConfig);
        let cases: [(&str, Change); 5] = [
            ("trust anchor", |c| c.anchors.clear()),
            ("base_dn", |c| c.base_dn = " ".into()),
            ("page_size", |c| c.page_size = 0),
            ("timeout", |c| c.timeout = Duration::ZERO),
            ("groups.base_dn", |c| {
                c.groups = Some(GroupMapping::default())
            }),
        ];
        for (words, change) in cases {
            let mut c = config("ldaps://h", false);
            change(&mut c);
            let e = c.validate().expect_err(words);
            assert!(e.to_string().contains(words), "{words}: {e}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let mut c = config("ldaps://h", false);
        c.bind_password = "s3cr3t-service".into();
        assert!(!format!("{c:?}").contains("s3cr3t-service"));
    }

    #[test]
    fn requested_attributes_follow_the_mapping() {
        let mut map = AttributeMap::default();
        assert!(map.requested().contains(&"employeeNumber".to_owned()));
        map.id_nat = None;
        map.kind = None;
        let attrs = map.requested();
        assert_eq!(attrs, ["mail", "cn", "sn", "givenName", "modifyTimestamp"]);
    }
}
