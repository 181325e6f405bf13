//! What the validator learns from the chains it validated — the CAs that may sign the CRLs
//! it downloads, and where those CRLs are — and the checks a downloaded CRL must pass
//! before it can go into force. Only certificates of a VERIFIED path are learned: a peer
//! may send any extra certificate it likes, and none of those may sign a CRL.

use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};

use crate::error::{Error, Result};

const MAX_LEARNED_CAS: usize = 64;
const MAX_LEARNED_URLS: usize = 64;
const MAX_PENDING_CRLS: usize = 16;
/// Downloaded CRLs waiting for their CA hold at most this many bytes together.
const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;

/// Signature algorithms webpki checks CRLs with (ring): a CRL signed otherwise would make
/// every validation under its CA fail, so it is refused before it goes into force.
const CRL_SIGNATURE_OIDS: [&str; 8] = [
    "1.2.840.113549.1.1.11", // sha256WithRSAEncryption
    "1.2.840.113549.1.1.12", // sha384WithRSAEncryption
    "1.2.840.113549.1.1.13", // sha512WithRSAEncryption
    "1.2.840.113549.1.1.10", // RSASSA-PSS
    "1.2.840.10045.4.3.2",   // ecdsa-with-SHA256
    "1.2.840.10045.4.3.3",   // ecdsa-with-SHA384
    "1.3.101.112",           // Ed25519
    "1.2.840.10045.4.3.4",   // ecdsa-with-SHA512
];

/// A downloaded CRL whose CA no verified path has shown yet.
#[derive(Clone, Debug)]
pub(crate) struct PendingCrl {
    pub(crate) source: String,
    pub(crate) der: Vec<u8>,
    issuer_der: Vec<u8>,
    scope: Vec<u8>,
    this_update: i64,
}

impl PendingCrl {
    pub(crate) fn new(crl: &crate::crl::ConfiguredCrl) -> PendingCrl {
        PendingCrl {
            source: crl.source.clone(),
            der: crl.der.clone(),
            issuer_der: crl.issuer_der.clone(),
            scope: crl.scope.clone(),
            this_update: crl.this_update.unix_timestamp(),
        }
    }
}

/// Bounded: a peer cannot grow it past what a few hundred operators' hierarchies need.
#[derive(Default)]
pub(crate) struct Learned {
    pub(crate) cas: Vec<CertificateDer<'static>>,
    pub(crate) urls: Vec<String>,
    pub(crate) pending: Vec<PendingCrl>,
}

impl Learned {
    /// False when already known or full.
    pub(crate) fn add_ca(&mut self, ca: &CertificateDer<'_>) -> bool {
        if self.cas.len() >= MAX_LEARNED_CAS || self.cas.iter().any(|c| c.as_ref() == ca.as_ref()) {
            return false;
        }
        self.cas.push(ca.clone().into_owned());
        true
    }

    pub(crate) fn add_urls(&mut self, urls: Vec<String>) {
        for url in urls {
            if self.urls.len() < MAX_LEARNED_URLS && !self.urls.contains(&url) {
                self.urls.push(url);
            }
        }
    }

    /// Keeps, of one issuer and scope, only the CRL issued last (a replayed older CRL never
    /// takes the place of a newer one), within the count and byte bounds.
    pub(crate) fn add_pending(&mut self, crl: PendingCrl) {
        if let Some(kept) = self
            .pending
            .iter_mut()
            .find(|p| p.issuer_der == crl.issuer_der && p.scope == crl.scope)
        {
            if kept.this_update < crl.this_update {
                *kept = crl;
            }
            return;
        }
        let bytes: usize = self.pending.iter().map(|p| p.der.len()).sum();
        if self.pending.len() < MAX_PENDING_CRLS && bytes + crl.der.len() <= MAX_PENDING_BYTES {
            self.pending.push(crl);
        }
    }
}

/// The subject Name (DER) of a certificate.
pub(crate) fn subject_der(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(parsed.subject().as_raw().to_vec())
}

/// The CRL is signed, with an algorithm webpki accepts, by one of `signers` (certificates
/// named like its issuer) whose key usage allows signing CRLs.
pub(crate) fn check_crl_signature(
    der: &CertificateRevocationListDer<'_>,
    signers: &[CertificateDer<'static>],
) -> Result<()> {
    let (_, parsed) = x509_parser::parse_x509_crl(der.as_ref())
        .map_err(|e| Error::BadCrl(format!("cannot parse: {e}")))?;
    let algorithm = parsed.signature_algorithm.algorithm.to_id_string();
    if !CRL_SIGNATURE_OIDS.contains(&algorithm.as_str()) {
        return Err(Error::BadCrl(format!(
            "signed with algorithm {algorithm}, which certificate validation does not accept"
        )));
    }
    for signer in signers {
        let Ok((_, ca)) = x509_parser::parse_x509_certificate(signer.as_ref()) else {
            continue;
        };
        let may_sign_crls = match ca.key_usage() {
            Ok(Some(usage)) => usage.value.crl_sign(),
            Ok(None) => true,
            Err(_) => false,
        };
        if may_sign_crls && parsed.verify_signature(ca.public_key()).is_ok() {
            return Ok(());
        }
    }
    Err(Error::BadCrl(
        "not signed by a trust anchor or a CA of a verified chain".into(),
    ))
}
