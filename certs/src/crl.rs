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
    /// "file" for `tls.crls`, else the URL it was downloaded from.
    pub source: String,
}

const ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";

#[derive(Debug)]
pub(crate) struct ConfiguredCrl {
    pub(crate) crl: CertRevocationList<'static>,
    /// DER of the issuer Name, compared byte for byte like webpki does.
    pub(crate) issuer_der: Vec<u8>,
    issuer: DistinguishedName,
    pub(crate) this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked_count: usize,
    pub(crate) source: String,
    /// As received, to be saved and read back at the next start.
    pub(crate) der: Vec<u8>,
    /// The issuingDistributionPoint extension as encoded (empty without one): two CRLs of
    /// one issuer with different scopes (partitions, a CRL and an ARL) are both in force.
    pub(crate) scope: Vec<u8>,
}

impl ConfiguredCrl {
    pub(crate) fn parse(der: &CertificateRevocationListDer<'_>, source: &str) -> Result<Self> {
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
            source: source.to_string(),
            der: der.as_ref().to_vec(),
            scope: parsed
                .extensions()
                .iter()
                .find(|e| e.oid.to_id_string() == ISSUING_DISTRIBUTION_POINT)
                .map(|e| e.value.to_vec())
                .unwrap_or_default(),
        })
    }

    pub(crate) fn status(&self, now: UnixTime) -> CrlStatus {
        CrlStatus {
            issuer: self.issuer.clone(),
            this_update: self.this_update,
            next_update: self.next_update,
            stale: self.next_update <= to_datetime(now),
            revoked_count: self.revoked_count,
            source: self.source.clone(),
        }
    }
}

/// What a CRL says (issuer, dates, count), `source` being where it came from; for reports.
/// Its signature is NOT checked here: [`crate::ChainValidator::offer_crl`] does that.
pub fn describe_crl(
    der: &CertificateRevocationListDer<'_>,
    source: &str,
    now: UnixTime,
) -> Result<CrlStatus> {
    Ok(ConfiguredCrl::parse(der, source)?.status(now))
}

pub(crate) fn to_datetime(t: UnixTime) -> OffsetDateTime {
    i64::try_from(t.as_secs())
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The http(s) URIs of a certificate's CRL distribution points (RFC 5280 4.2.1.13). An
/// unreadable certificate or extension gives none: this only feeds the downloader.
pub(crate) fn distribution_points(cert: &rustls_pki_types::CertificateDer<'_>) -> Vec<String> {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    for extension in parsed.extensions() {
        let ParsedExtension::CRLDistributionPoints(points) = extension.parsed_extension() else {
            continue;
        };
        for point in points.iter() {
            let Some(DistributionPointName::FullName(names)) = &point.distribution_point else {
                continue;
            };
            for name in names {
                if let GeneralName::URI(uri) = name
                    && (uri.starts_with("http://") || uri.starts_with("https://"))
                    && uri.len() <= 2048
                {
                    urls.push(uri.to_string());
                }
            }
        }
    }
    urls
}
