//! What a [`crate::ChainValidator`] trusts at one moment: anchors, CRLs, policies. Built
//! whole and swapped whole, so a reload or a fresh CRL never leaves a validation looking at
//! half of the old state and half of the new.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, TrustAnchor};

use crate::crl::ConfiguredCrl;
use crate::dn::DistinguishedName;
use crate::dn_types::is_dotted_oid;
use crate::error::{Error, Result};

/// What to do with a CRL whose nextUpdate has passed (the CA should have published a newer
/// one and we could not get it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StaleCrl {
    /// Refuse the certificates it covers: revocation can no longer be known.
    Refuse,
    /// Keep using it (better than none), report it in `doctor` and `/metrics`.
    #[default]
    Warn,
}

/// What we trust. Anchors come ONLY from here: never from the system store.
#[derive(Clone, Debug, Default)]
pub struct TrustConfig {
    pub anchors: Vec<CertificateDer<'static>>,
    pub crls: Vec<CertificateRevocationListDer<'static>>,
    /// Dotted certificate policy OIDs of which a certificate must carry one; empty = any.
    pub accepted_policies: Vec<String>,
    pub stale_crl: StaleCrl,
    /// CRLs to download besides the distribution points the certificates name.
    pub crl_urls: Vec<String>,
}

pub(crate) struct TrustState {
    pub(crate) anchors: Vec<TrustAnchor<'static>>,
    /// The anchors' certificates: the issuers a downloaded CRL may be signed by.
    pub(crate) anchor_certs: Vec<CertificateDer<'static>>,
    pub(crate) anchor_subjects: Vec<DistinguishedName>,
    pub(crate) anchor_subjects_der: Vec<Vec<u8>>,
    /// From the configuration files (`tls.crls`).
    pub(crate) configured_crls: Vec<Arc<ConfiguredCrl>>,
    /// Downloaded and checked; kept across reloads.
    pub(crate) fetched_crls: Vec<Arc<ConfiguredCrl>>,
    /// The CRLs in force: of each issuer, the one issued last.
    pub(crate) crls: Vec<Arc<ConfiguredCrl>>,
    pub(crate) accepted_policies: Vec<String>,
    pub(crate) stale_crl: StaleCrl,
    /// `tls.crl_urls`: downloaded besides the certificates' distribution points.
    pub(crate) crl_urls: Vec<String>,
}

impl TrustState {
    pub(crate) fn build(
        config: &TrustConfig,
        fetched_crls: Vec<Arc<ConfiguredCrl>>,
    ) -> Result<TrustState> {
        if config.anchors.is_empty() {
            return Err(Error::NoTrustAnchor);
        }
        let mut anchors = Vec::new();
        let mut anchor_subjects = Vec::new();
        let mut anchor_subjects_der = Vec::new();
        for der in &config.anchors {
            let anchor = webpki::anchor_from_trusted_cert(der)
                .map_err(|e| Error::BadTrustAnchor(format!("rejected by webpki: {e}")))?;
            anchors.push(anchor.to_owned());
            let (_, parsed) = x509_parser::parse_x509_certificate(der.as_ref())
                .map_err(|e| Error::BadTrustAnchor(format!("cannot parse: {e}")))?;
            anchor_subjects.push(DistinguishedName::from_x509_name(parsed.subject())?);
            anchor_subjects_der.push(parsed.subject().as_raw().to_vec());
        }
        let configured_crls = config
            .crls
            .iter()
            .map(|der| ConfiguredCrl::parse(der, "file").map(Arc::new))
            .collect::<Result<Vec<_>>>()?;
        let mut accepted_policies = Vec::new();
        for oid in &config.accepted_policies {
            let oid = oid.trim();
            if !is_dotted_oid(oid) {
                return Err(Error::BadPolicyOid(oid.to_string()));
            }
            accepted_policies.push(oid.to_string());
        }
        let mut state = TrustState {
            anchors,
            anchor_certs: config.anchors.clone(),
            anchor_subjects,
            anchor_subjects_der,
            configured_crls,
            fetched_crls,
            crls: Vec::new(),
            accepted_policies,
            stale_crl: config.stale_crl,
            crl_urls: config.crl_urls.clone(),
        };
        state.crls = state.newest_per_issuer();
        Ok(state)
    }

    /// This state with `crl` among the downloaded ones (replacing an older one of its issuer
    /// and source).
    pub(crate) fn with_fetched(&self, crl: Arc<ConfiguredCrl>) -> TrustState {
        let mut fetched: Vec<_> = self
            .fetched_crls
            .iter()
            .filter(|c| !(c.issuer_der == crl.issuer_der && c.scope == crl.scope))
            .cloned()
            .collect();
        fetched.push(crl);
        let mut state = TrustState {
            anchors: self.anchors.clone(),
            anchor_certs: self.anchor_certs.clone(),
            anchor_subjects: self.anchor_subjects.clone(),
            anchor_subjects_der: self.anchor_subjects_der.clone(),
            configured_crls: self.configured_crls.clone(),
            fetched_crls: fetched,
            crls: Vec::new(),
            accepted_policies: self.accepted_policies.clone(),
            stale_crl: self.stale_crl,
            crl_urls: self.crl_urls.clone(),
        };
        state.crls = state.newest_per_issuer();
        state
    }

    /// Whether a CRL of the issuer named `issuer_der` is in force.
    pub(crate) fn has_crl_of(&self, issuer_der: &[u8]) -> bool {
        self.crls.iter().any(|c| c.issuer_der == issuer_der)
    }

    /// The CRL in force of that issuer and scope, if any.
    pub(crate) fn crl_like(&self, crl: &ConfiguredCrl) -> Option<&Arc<ConfiguredCrl>> {
        self.crls
            .iter()
            .find(|c| c.issuer_der == crl.issuer_der && c.scope == crl.scope)
    }

    /// Two CRLs of one issuer and scope (a file and a download, or two distribution
    /// points): webpki would use the first it finds, so only the one issued last is kept in
    /// force. CRLs of one issuer with different scopes are all kept.
    fn newest_per_issuer(&self) -> Vec<Arc<ConfiguredCrl>> {
        let mut newest: Vec<Arc<ConfiguredCrl>> = Vec::new();
        for crl in self.configured_crls.iter().chain(&self.fetched_crls) {
            match newest
                .iter_mut()
                .find(|c| c.issuer_der == crl.issuer_der && c.scope == crl.scope)
            {
                Some(kept) if kept.this_update < crl.this_update => *kept = crl.clone(),
                Some(_) => {}
                None => newest.push(crl.clone()),
            }
        }
        newest
    }
}
