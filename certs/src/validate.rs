//! Chain, usage, revocation and policy validation against configured IGC-Santé anchors.

use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, SignatureVerificationAlgorithm, TrustAnchor,
    UnixTime,
};
use webpki::{
    EndEntityCert, ExpirationPolicy, KeyUsage, RevocationCheckDepth, RevocationOptions,
    RevocationOptionsBuilder, UnknownStatusPolicy,
};

use crate::crl::{ConfiguredCrl, CrlStatus, to_datetime};
use crate::dn::DistinguishedName;
use crate::dn_types::is_dotted_oid;
use crate::error::{Error, Result};
use crate::identity::CertInfo;

/// What we trust. Anchors come ONLY from here: never from the system store.
#[derive(Clone, Debug, Default)]
pub struct TrustConfig {
    pub anchors: Vec<CertificateDer<'static>>,
    pub crls: Vec<CertificateRevocationListDer<'static>>,
    /// Dotted certificate policy OIDs of which a certificate must carry one; empty = any.
    pub accepted_policies: Vec<String>,
}

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
/// Revocation: the end-entity certificate is checked against the configured CRLs. When one
/// of them is issued by the certificate's issuer, an unknown status is a failure; a CA
/// without a configured CRL is NOT revocation-checked (its certificates pass). Stale CRLs
/// (nextUpdate passed) are still used and reported by [`ChainValidator::crl_status`].
#[derive(Debug)]
pub struct ChainValidator {
    anchors: Vec<TrustAnchor<'static>>,
    anchor_subjects: Vec<DistinguishedName>,
    anchor_subjects_der: Vec<Vec<u8>>,
    crls: Vec<ConfiguredCrl>,
    accepted_policies: Vec<String>,
    signature_algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
}

impl ChainValidator {
    pub fn new(config: TrustConfig) -> Result<Self> {
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
        let crls = config
            .crls
            .iter()
            .map(ConfiguredCrl::parse)
            .collect::<Result<Vec<_>>>()?;
        let mut accepted_policies = Vec::new();
        for oid in &config.accepted_policies {
            let oid = oid.trim();
            if !is_dotted_oid(oid) {
                return Err(Error::BadPolicyOid(oid.to_string()));
            }
            accepted_policies.push(oid.to_string());
        }
        Ok(Self {
            anchors,
            anchor_subjects,
            anchor_subjects_der,
            crls,
            accepted_policies,
            signature_algorithms: rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .all,
        })
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
        let info = CertInfo::parse(end_entity)?;
        let cert = EndEntityCert::try_from(end_entity)
            .map_err(|e| Error::BadCertificate(format!("rejected by webpki: {e}")))?;
        let issuer_der = issuer_der(end_entity)?;
        let crls: Vec<_> = self.crls.iter().map(|c| &c.crl).collect();
        let issuer_has_crl = self.crls.iter().any(|c| c.issuer_der == issuer_der);
        let revocation = revocation_options(&crls, issuer_has_crl);
        cert.verify_for_usage(
            self.signature_algorithms,
            &self.anchors,
            intermediates,
            now,
            usage.key_usage(),
            revocation,
            None,
        )
        .map_err(|e| map_webpki_error(e, usage))?;
        if !self.accepted_policies.is_empty()
            && !info
                .policy_oids
                .iter()
                .any(|oid| self.accepted_policies.contains(oid))
        {
            return Err(Error::PolicyNotAccepted {
                found: info.policy_oids.clone(),
            });
        }
        tracing::debug!(subject = %info.subject, usage = usage.eku_name(), "certificate validated");
        Ok(info)
    }

    /// Subjects of the configured trust anchors.
    pub fn anchor_subjects(&self) -> &[DistinguishedName] {
        &self.anchor_subjects
    }

    /// DER of the anchors' subject Names, for TLS certificate_authorities hints.
    pub(crate) fn anchor_subjects_der(&self) -> &[Vec<u8>] {
        &self.anchor_subjects_der
    }

    /// Each configured CRL: issuer, dates, whether it is stale at `now`.
    pub fn crl_status(&self, now: UnixTime) -> Vec<CrlStatus> {
        self.crls.iter().map(|c| c.status(now)).collect()
    }
}

fn revocation_options<'a>(
    crls: &'a [&'a webpki::CertRevocationList<'a>],
    issuer_has_crl: bool,
) -> Option<RevocationOptions<'a>> {
    let builder = RevocationOptionsBuilder::new(crls).ok()?;
    let status_policy = if issuer_has_crl {
        UnknownStatusPolicy::Deny
    } else {
        UnknownStatusPolicy::Allow
    };
    Some(
        builder
            .with_depth(RevocationCheckDepth::EndEntity)
            .with_status_policy(status_policy)
            .with_expiration_policy(ExpirationPolicy::Ignore)
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
