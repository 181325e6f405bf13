//! Chain, usage, revocation and policy validation against configured IGC-Santé anchors.

use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, SignatureVerificationAlgorithm, UnixTime,
};
use webpki::{
    EndEntityCert, ExpirationPolicy, KeyUsage, RevocationCheckDepth, RevocationOptions,
    RevocationOptionsBuilder, UnknownStatusPolicy,
};

use std::sync::{Arc, Mutex, RwLock};

use crate::crl::{ConfiguredCrl, CrlStatus, to_datetime};
use crate::crl_trust::{Learned, PendingCrl, check_crl_signature, subject_der};
use crate::dn::DistinguishedName;
use crate::error::{Error, Result};
use crate::identity::CertInfo;
use crate::ocsp_book::{OcspAnswer, OcspBook};
use crate::trust_state::{StaleCrl, TrustConfig, TrustState};

/// The purpose a certificate is presented for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    ServerAuth,
    ClientAuth,
}

impl Usage {
    fn key_usage(self) -> KeyUsage {
        match self {
            Usage::ServerAuth => KeyUsage::server_auth(),
            Usage::ClientAuth => KeyUsage::client_auth(),
        }
    }

    /// The EKU name, as in error messages.
    pub fn eku_name(self) -> &'static str {
        match self {
            Usage::ServerAuth => "serverAuth",
            Usage::ClientAuth => "clientAuth",
        }
    }
}

/// Validates certificates presented by peers and users.
///
/// Revocation: every certificate of the chain (end entity and intermediates) is checked
/// against the CRL in force for its issuer. When every issuer of the presented chain has a
/// CRL, a status the CRLs cannot give is a failure; a CA without any CRL is NOT
/// revocation-checked (its certificates pass) and `doctor` says so. A stale CRL (nextUpdate
/// passed) is used or refused as [`StaleCrl`] says.
///
/// What it trusts can change while it is shared by every TLS configuration:
/// [`ChainValidator::reload`] (SIGHUP) and [`ChainValidator::offer_crl`] (a download) swap
/// the whole state at once.
pub struct ChainValidator {
    state: RwLock<Arc<TrustState>>,
    learned: Mutex<Learned>,
    /// Set when an OCSP responder is configured ([`ChainValidator::enable_ocsp`]).
    ocsp: std::sync::OnceLock<Arc<OcspBook>>,
    /// Held from reading the state to swapping the next one in: a reload and a downloaded
    /// CRL never undo each other.
    writer: Mutex<()>,
    signature_algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
}

impl std::fmt::Debug for ChainValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("ChainValidator")
            .field("anchors", &state.anchor_subjects)
            .field("crls", &state.crls.len())
            .finish()
    }
}

/// What a downloaded CRL did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlOffer {
    /// Now in force.
    Installed(CrlStatus),
    /// The CRL in force for that issuer is as recent or more: a replayed or cached old
    /// CRL never replaces a newer one.
    NotNewer,
    /// Its issuer is not known yet (an intermediate no chain has shown): kept aside and
    /// checked when a chain that validates brings that CA.
    Pending,
}

impl ChainValidator {
    pub fn new(config: TrustConfig) -> Result<Self> {
        let state = TrustState::build(&config, Vec::new())?;
        let validator = Self {
            learned: Mutex::new(Learned::default()),
            ocsp: std::sync::OnceLock::new(),
            writer: Mutex::new(()),
            state: RwLock::new(Arc::new(state)),
            signature_algorithms: rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .all,
        };
        validator.learn_distribution_points(&config.anchors);
        Ok(validator)
    }

    fn state(&self) -> Arc<TrustState> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn swap(&self, next: TrustState) {
        *self
            .state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(next);
    }

    /// Replaces anchors, CRL files and policies (a configuration reload). Downloaded CRLs
    /// stay in force. On error nothing changes.
    pub fn reload(&self, config: TrustConfig) -> Result<()> {
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let fetched = self.state().fetched_crls.clone();
        let next = TrustState::build(&config, fetched)?;
        self.swap(next);
        self.learn_distribution_points(&config.anchors);
        Ok(())
    }

    /// Checks that `end_entity` chains (through `intermediates`, as sent by the peer) to a
    /// configured anchor at `now`, carries the EKU of `usage`, is not revoked and carries an
    /// accepted policy. Returns what the certificate says about its holder.
    pub fn validate(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        usage: Usage,
        now: UnixTime,
    ) -> Result<CertInfo> {
        let state = self.state();
        let info = CertInfo::parse(end_entity)?;
        let cert = EndEntityCert::try_from(end_entity)
            .map_err(|e| Error::BadCertificate(format!("rejected by webpki: {e}")))?;
        let crls: Vec<_> = state.crls.iter().map(|c| &c.crl).collect();
        let verify = |intermediates: &[CertificateDer<'_>], deny: bool| {
            cert.verify_for_usage(
                self.signature_algorithms,
                &state.anchors,
                intermediates,
                now,
                usage.key_usage(),
                revocation_options(&crls, deny, state.stale_crl),
                None,
            )
            .map(|path| {
                path.intermediate_certificates()
                    .map(|c| c.der().into_owned())
                    .collect::<Vec<_>>()
            })
            .map_err(|e| map_webpki_error(e, usage))
        };
        // The path webpki verified, revocation checked wherever a CRL is in force. What the
        // peer sent besides it is ignored from here on: only the path decides.
        let path = verify(intermediates, false)?;
        let issuer_has_crl = state.has_crl_of(&issuer_der(end_entity)?);
        let every_issuer_has_crl = issuer_has_crl
            && path
                .iter()
                .all(|ca| issuer_der(ca).is_ok_and(|issuer| state.has_crl_of(&issuer)));
        if every_issuer_has_crl {
            // Every CA of the path has a CRL: a status none of them gives refuses.
            verify(&path, true)?;
        }
        if !state.accepted_policies.is_empty()
            && !info
                .policy_oids
                .iter()
                .any(|oid| state.accepted_policies.contains(oid))
        {
            return Err(Error::PolicyNotAccepted {
                found: info.policy_oids.clone(),
            });
        }
        if let Some(book) = self.ocsp.get()
            && let Some(issuer) = issuer_on_path(end_entity, &path, &state.anchor_certs)
            && book.answer_or_ask(end_entity, &issuer, now.as_secs()) == Some(OcspAnswer::Revoked)
        {
            return Err(Error::RevokedByOcsp);
        }
        // The chain is ours: its CAs may sign the CRLs we download, and its distribution
        // points are where those CRLs are.
        if self.learn(end_entity, &path, issuer_has_crl) && self.install_pending() {
            // A CRL of a CA this chain just introduced is now in force: it must judge this
            // very certificate too (the first connection of a revoked peer included).
            return self.validate(end_entity, intermediates, usage, now);
        }
        tracing::debug!(subject = %info.subject, usage = usage.eku_name(), "certificate validated");
        Ok(info)
    }

    /// Turns OCSP answers on: validations consult the book and list the certificates to
    /// ask about; the caller's checker fills it.
    pub fn enable_ocsp(&self) -> Arc<OcspBook> {
        self.ocsp
            .get_or_init(|| Arc::new(OcspBook::default()))
            .clone()
    }

    /// Subjects of the configured trust anchors.
    pub fn anchor_subjects(&self) -> Vec<DistinguishedName> {
        self.state().anchor_subjects.clone()
    }

    /// DER of the anchors' subject Names, for TLS certificate_authorities hints.
    pub(crate) fn anchor_subjects_der(&self) -> Vec<Vec<u8>> {
        self.state().anchor_subjects_der.clone()
    }

    /// Each CRL in force: issuer, dates, source, whether it is stale at `now`.
    pub fn crl_status(&self, now: UnixTime) -> Vec<CrlStatus> {
        self.state().crls.iter().map(|c| c.status(now)).collect()
    }

    /// Downloaded CRLs waiting for a verified chain to show their CA (their sources).
    pub fn pending_crl_sources(&self) -> Vec<String> {
        self.learned()
            .pending
            .iter()
            .map(|p| p.source.clone())
            .collect()
    }

    /// Anchors with no CRL in force: the CAs they issue directly are not revocation-checked.
    pub fn anchors_without_crl(&self) -> Vec<DistinguishedName> {
        let state = self.state();
        state
            .anchor_subjects
            .iter()
            .zip(&state.anchor_subjects_der)
            .filter(|(_, der)| !state.has_crl_of(der))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Whether a stale CRL refuses the certificates it covers.
    pub fn stale_crl_policy(&self) -> StaleCrl {
        self.state().stale_crl
    }

    /// The URLs to download CRLs from: `tls.crl_urls`, then the distribution points of the
    /// anchors and of every chain validated so far (bounded).
    pub fn crl_sources(&self) -> Vec<String> {
        let mut urls = self.state().crl_urls.clone();
        let learned = self.learned();
        for url in &learned.urls {
            if !urls.contains(url) {
                urls.push(url.clone());
            }
        }
        urls
    }

    /// A CRL downloaded from `source`: installed when a CA we trust (an anchor, or an
    /// intermediate of a chain that validated) signed it and it is newer than the one in
    /// force for that CA. A CRL nobody we trust signed is an error: it changes nothing.
    pub fn offer_crl(
        &self,
        der: &CertificateRevocationListDer<'_>,
        source: &str,
    ) -> Result<CrlOffer> {
        let crl = ConfiguredCrl::parse(der, source)?;
        let _writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let state = self.state();
        let signers: Vec<CertificateDer<'static>> = state
            .anchor_certs
            .iter()
            .chain(self.learned().cas.iter())
            .filter(|ca| subject_der(ca).is_some_and(|s| s == crl.issuer_der))
            .cloned()
            .collect();
        if signers.is_empty() {
            self.learned().add_pending(PendingCrl::new(&crl));
            return Ok(CrlOffer::Pending);
        }
        check_crl_signature(der, &signers)?;
        if let Some(current) = state.crl_like(&crl)
            && current.this_update >= crl.this_update
        {
            return Ok(CrlOffer::NotNewer);
        }
        let status = crl.status(UnixTime::now());
        self.swap(state.with_fetched(Arc::new(crl)));
        Ok(CrlOffer::Installed(status))
    }

    /// The downloaded CRLs in force, (source, DER), to be saved for the next start.
    pub fn fetched_crls(&self) -> Vec<(String, Vec<u8>)> {
        self.state()
            .fetched_crls
            .iter()
            .map(|c| (c.source.clone(), c.der.clone()))
            .collect()
    }

    fn learned(&self) -> std::sync::MutexGuard<'_, Learned> {
        self.learned
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn learn_distribution_points(&self, certs: &[CertificateDer<'_>]) {
        let mut learned = self.learned();
        for cert in certs {
            learned.add_urls(crate::crl::distribution_points(cert));
        }
    }

    /// True when a CA was new.
    fn learn(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        issuer_has_crl: bool,
    ) -> bool {
        let mut learned = self.learned();
        // Once its issuer has a CRL, where to find it is known: no parsing on every
        // connection of the many certificates of one CA.
        if !issuer_has_crl {
            learned.add_urls(crate::crl::distribution_points(end_entity));
        }
        let mut new_ca = false;
        for ca in intermediates {
            if learned.add_ca(ca) {
                new_ca = true;
                learned.add_urls(crate::crl::distribution_points(ca));
            }
        }
        new_ca
    }

    /// Offers again the CRLs waiting for their CA; true when one went into force.
    fn install_pending(&self) -> bool {
        let pending = std::mem::take(&mut self.learned().pending);
        let mut installed = false;
        for PendingCrl { source, der, .. } in pending {
            match self.offer_crl(&CertificateRevocationListDer::from(der), &source) {
                Ok(CrlOffer::Installed(_)) => installed = true,
                Ok(_) => {}
                Err(e) => tracing::warn!(%source, error = %e, "downloaded CRL refused"),
            }
        }
        installed
    }
}

/// The certificate that issued `end_entity` on the verified path: its first intermediate,
/// else the anchor (never a certificate the peer sent besides the path).
fn issuer_on_path(
    end_entity: &CertificateDer<'_>,
    path: &[CertificateDer<'static>],
    anchors: &[CertificateDer<'static>],
) -> Option<CertificateDer<'static>> {
    if let Some(first) = path.first() {
        return Some(first.clone());
    }
    let issuer = issuer_der(end_entity).ok()?;
    anchors
        .iter()
        .find(|c| subject_der(c).is_some_and(|s| s == issuer))
        .cloned()
}

fn revocation_options<'a>(
    crls: &'a [&'a webpki::CertRevocationList<'a>],
    deny_unknown: bool,
    stale_crl: StaleCrl,
) -> Option<RevocationOptions<'a>> {
    let builder = RevocationOptionsBuilder::new(crls).ok()?;
    let status_policy = if deny_unknown {
        UnknownStatusPolicy::Deny
    } else {
        UnknownStatusPolicy::Allow
    };
    Some(
        builder
            .with_depth(RevocationCheckDepth::Chain)
            .with_status_policy(status_policy)
            .with_expiration_policy(match stale_crl {
                StaleCrl::Refuse => ExpirationPolicy::Enforce,
                StaleCrl::Warn => ExpirationPolicy::Ignore,
            })
            .build(),
    )
}

fn issuer_der(cert: &CertificateDer<'_>) -> Result<Vec<u8>> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| Error::BadCertificate(format!("cannot parse certificate: {e}")))?;
    Ok(parsed.issuer().as_raw().to_vec())
}

#[allow(deprecated)] // webpki still returns the context-less variants in some paths
fn map_webpki_error(e: webpki::Error, usage: Usage) -> Error {
    use webpki::Error as W;
    match e {
        // A matching issuer name whose key did not sign the certificate is a forgery or
        // another CA reusing the name: still "not issued by our anchors".
        W::UnknownIssuer | W::InvalidSignatureForPublicKey | W::CertDistrusted => {
            Error::UntrustedIssuer
        }
        W::CertExpired { not_after, .. } => Error::Expired {
            not_after: to_datetime(not_after),
        },
        W::CertNotValidYet { not_before, .. } => Error::NotYetValid {
            not_before: to_datetime(not_before),
        },
        W::CertRevoked => Error::Revoked,
        W::CrlExpired { next_update, .. } => Error::StaleCrl {
            next_update: to_datetime(next_update),
        },
        W::UnknownRevocationStatus => Error::RevocationStatusUnknown,
        W::RequiredEkuNotFound | W::RequiredEkuNotFoundContext(_) => Error::WrongUsage {
            needed: usage.eku_name(),
        },
        W::InvalidCrlSignatureForPublicKey
        | W::IssuerNotCrlSigner
        | W::UnsupportedCrlSignatureAlgorithm
        | W::UnsupportedCrlSignatureAlgorithmContext(_) => {
            Error::BadCrl(format!("configured CRL cannot be used: {e}"))
        }
        other => Error::BadCertificate(format!("rejected by webpki: {other}")),
    }
}
