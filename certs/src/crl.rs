//! Configured CRLs: parsed once for webpki, with their issuer and dates for reporting.

use rustls_pki_types::{CertificateRevocationListDer, UnixTime};
use time::OffsetDateTime;
use webpki::{CertRevocationList, OwnedCertRevocationList};

use crate::dn::DistinguishedName;
use crate::error::{Error, Result};

/// The state of one configured CRL, for `mssd doctor`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlStatus {
    pub issuer: DistinguishedName,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    /// `next_update` has passed: the CA should have published a newer CRL. The stale CRL is
    /// still used (better than none) but the operator must fetch the new one.
    pub stale: bool,
    pub revoked_count: usize,
}

#[derive(Debug)]
pub(crate) struct ConfiguredCrl {
    pub(crate) crl: CertRevocationList<'static>,
    /// DER of the issuer Name, compared byte for byte like webpki does.
    pub(crate) issuer_der: Vec<u8>,
    issuer: DistinguishedName,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked_count: usize,
}

impl ConfiguredCrl {
    pub(crate) fn parse(der: &CertificateRevocationListDer<'_>) -> Result<Self> {
        let crl = OwnedCertRevocationList::from_der(der.as_ref())
            .map_err(|e| Error::BadCrl(format!("rejected by webpki: {e}")))?;
        let (_, parsed) = x509_parser::parse_x509_crl(der.as_ref())
            .map_err(|e| Error::BadCrl(format!("cannot parse: {e}")))?;
        let issuer = DistinguishedName::from_x509_name(parsed.issuer())?;
        let next_update = parsed
            .next_update()
            .ok_or_else(|| Error::BadCrl(format!("CRL of {issuer} has no nextUpdate")))?
            .to_datetime();
        Ok(Self {
            crl: crl.into(),
            issuer_der: parsed.issuer().as_raw().to_vec(),
            this_update: parsed.last_update().to_datetime(),
            next_update,
            revoked_count: parsed.iter_revoked_certificates().count(),
            issuer,
        })
    }

    pub(crate) fn status(&self, now: UnixTime) -> CrlStatus {
        CrlStatus {
            issuer: self.issuer.clone(),
            this_update: self.this_update,
            next_update: self.next_update,
            stale: self.next_update <= to_datetime(now),
            revoked_count: self.revoked_count,
        }
    }
}

pub(crate) fn to_datetime(t: UnixTime) -> OffsetDateTime {
    i64::try_from(t.as_secs())
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
