//! Builders for a test hierarchy imitating IGC-Santé: RSA-2048 keys, SHA-256 signatures,
//! subjects encoded `C` first like the real certificates. Used by `mssd pki init`, the
//! server's first start and the tests.

use std::net::IpAddr;

use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension, DnType,
    DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_RSA_SHA256, RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use rsa::pkcs8::EncodePrivateKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer,
};
use time::{Duration, OffsetDateTime};

use crate::dn::DistinguishedName;
use crate::dn_types::{canonical_type, oid_of_type};
use crate::error::{Error, Result};
use crate::testpki_der::{certificate_policies, oid_arcs};

/// The organisation part of the IGC-Santé test hierarchy DNs.
const TEST_CA_SUFFIX: [(&str, &str); 4] = [
    ("OU", "IGC-SANTE TEST"),
    ("OU", "0002 187512751"),
    ("O", "ASIP-SANTE"),
    ("C", "FR"),
];

/// An RSA-2048 key pair, usable by rcgen and exportable as PKCS#8.
pub(crate) struct GeneratedKey {
    pair: KeyPair,
    pkcs8: PrivatePkcs8KeyDer<'static>,
}

impl GeneratedKey {
    /// rcgen's ring backend cannot generate RSA keys: the `rsa` crate does, rcgen signs.
    pub(crate) fn rsa_2048() -> Result<Self> {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
            .map_err(|e| Error::Generate(format!("RSA key generation: {e}")))?;
        let document = private
            .to_pkcs8_der()
            .map_err(|e| Error::Generate(format!("PKCS#8 export: {e}")))?;
        let pkcs8 = PrivatePkcs8KeyDer::from(document.as_bytes().to_vec());
        let pair = KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &PKCS_RSA_SHA256)?;
        Ok(Self { pair, pkcs8 })
    }
}

/// A test certification authority (root or intermediate) able to issue certificates and CRLs.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    subject: DistinguishedName,
}

impl TestCa {
    /// A self-signed root `CN=<cn>,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR`.
    pub fn root(cn: &str) -> Result<TestCa> {
        Self::root_with_key(&test_ca_subject(cn), GeneratedKey::rsa_2048()?)
    }

    /// A self-signed root with any subject (RFC 4514 order, CN first).
    pub fn root_with_subject(subject: &[(&str, &str)]) -> Result<TestCa> {
        Self::root_with_key(&owned(subject), GeneratedKey::rsa_2048()?)
    }

    pub(crate) fn root_with_key(subject: &[(String, String)], key: GeneratedKey) -> Result<TestCa> {
        let params = ca_params(subject, 20 * 365)?;
        let cert = params.self_signed(&key.pair)?;
        Self::from_parts(params, key, cert)
    }

    /// An intermediate CA under this one, with the test hierarchy DN suffix.
    pub fn intermediate(&self, cn: &str) -> Result<TestCa> {
        self.intermediate_with_key(cn, GeneratedKey::rsa_2048()?)
    }

    pub(crate) fn intermediate_with_key(&self, cn: &str, key: GeneratedKey) -> Result<TestCa> {
        let mut params = ca_params(&test_ca_subject(cn), 10 * 365)?;
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key.pair, self.issuer())?;
        Self::from_parts(params, key, cert)
    }

    /// Issues an end-entity certificate with a fresh RSA-2048 key.
    pub fn issue(&self, spec: &LeafSpec) -> Result<IssuedCert> {
        self.issue_with_key(spec, GeneratedKey::rsa_2048()?)
    }

    pub(crate) fn issue_with_key(&self, spec: &LeafSpec, key: GeneratedKey) -> Result<IssuedCert> {
        let serial = random_serial();
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen_dn(&spec.subject)?;
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.is_ca = IsCa::ExplicitNoCa;
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        if spec.server_auth {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ServerAuth);
        }
        if spec.client_auth {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        for name in &spec.dns_names {
            let ia5 = name
                .as_str()
                .try_into()
                .map_err(|e| Error::Generate(format!("DNS name {name:?}: {e}")))?;
            params.subject_alt_names.push(SanType::DnsName(ia5));
        }
        for ip in &spec.ip_addresses {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        if !spec.policy_oids.is_empty() {
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    &[2, 5, 29, 32],
                    certificate_policies(&spec.policy_oids)?,
                ));
        }
        let cert = params.signed_by(&key.pair, self.issuer())?;
        Ok(IssuedCert {
            cert_der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_pem: key.pair.serialize_pem(),
            key_der: key.pkcs8,
            serial,
        })
    }

    /// A CRL of this CA listing `revoked` serial numbers (as in [`IssuedCert::serial`]).
    pub fn crl(
        &self,
        revoked: &[&[u8]],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<IssuedCrl> {
        self.crl_for(revoked, this_update, next_update, None)
    }

    /// An authority revocation list: its issuingDistributionPoint (at `partition`) limits it
    /// to CA certificates, so it says nothing of an end entity.
    pub fn ca_only_crl(
        &self,
        revoked: &[&[u8]],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        partition: &str,
    ) -> Result<IssuedCrl> {
        self.crl_for(revoked, this_update, next_update, Some(partition))
    }

    fn crl_for(
        &self,
        revoked: &[&[u8]],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
        partition: Option<&str>,
    ) -> Result<IssuedCrl> {
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from(
                u64::try_from(this_update.unix_timestamp()).unwrap_or(1),
            ),
            issuing_distribution_point: partition.map(|uri| rcgen::CrlIssuingDistributionPoint {
                distribution_point: rcgen::CrlDistributionPoint {
                    uris: vec![uri.to_string()],
                },
                scope: Some(rcgen::CrlScope::CaCertsOnly),
            }),
            revoked_certs: revoked
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial),
                    revocation_time: this_update,
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(self.issuer())?;
        Ok(IssuedCrl {
            pem: crl.pem()?,
            der: crl.der().clone(),
        })
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn subject(&self) -> &DistinguishedName {
        &self.subject
    }

    fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }

    /// This CA's private key as PKCS#8 PEM, so a test hierarchy can be saved and reused
    /// (see [`TestCa::load`]). Test PKIs only: a real CA key never leaves its HSM.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// A CA saved with [`TestCa::cert_pem`] and [`TestCa::key_pem`], to issue more
    /// certificates from one hierarchy (several test operators under one "IGC-Santé").
    pub fn load(cert_pem: &str, key_pem: &str) -> Result<TestCa> {
        let key = KeyPair::from_pkcs8_pem_and_sign_algo(key_pem, &PKCS_RSA_SHA256)?;
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| Error::BadCertificate(format!("CA certificate PEM: {e}")))?;
        let subject = DistinguishedName::from_certificate(&cert_der)?;
        // Rebuild the issuer name from our own reading of the subject: rcgen's
        // `Issuer::from_ca_cert_pem` keeps one value per attribute type and would drop one of
        // the two OUs, so issued certificates would name an issuer that does not exist.
        let attributes: Vec<(String, String)> = subject
            .attributes()
            .map(|a| (a.kind.clone(), a.value.clone()))
            .collect();
        let issuer = Issuer::new(ca_params(&attributes, 10 * 365)?, key);
        Ok(TestCa {
            issuer,
            cert_der,
            cert_pem: cert_pem.to_string(),
            subject,
        })
    }

    fn from_parts(
        params: CertificateParams,
        key: GeneratedKey,
        cert: rcgen::Certificate,
    ) -> Result<TestCa> {
        let subject = DistinguishedName::from_certificate(cert.der())?;
        Ok(TestCa {
            issuer: Issuer::new(params, key.pair),
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            subject,
        })
    }
}

/// What to put in an end-entity certificate.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    /// (type, value) in RFC 4514 order (CN first); encoded in reverse (C first). rcgen allows
    /// at most two attributes of the same type.
    pub subject: Vec<(String, String)>,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    pub server_auth: bool,
    /// With neither `server_auth` nor `client_auth`, no EKU extension is written, which
    /// RFC 5280 reads as "any usage".
    pub client_auth: bool,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Dotted certificate policy OIDs (certificatePolicies extension when non-empty).
    pub policy_oids: Vec<String>,
}

impl LeafSpec {
    /// A spec valid from an hour ago for three years (IGC-Santé server certificate lifetime),
    /// with no EKU flag, SAN or policy set yet.
    pub fn new(subject: &[(&str, &str)]) -> LeafSpec {
        let now = OffsetDateTime::now_utc();
        LeafSpec {
            subject: owned(subject),
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            server_auth: false,
            client_auth: false,
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(3 * 365),
            policy_oids: Vec::new(),
        }
    }
}

/// An issued end-entity certificate and its private key.
#[derive(Debug)]
pub struct IssuedCert {
    pub cert_der: CertificateDer<'static>,
    pub cert_pem: String,
    pub key_der: PrivatePkcs8KeyDer<'static>,
    pub key_pem: String,
    /// Serial number bytes (positive, no leading zero), as CRLs list them.
    pub serial: Vec<u8>,
}

impl IssuedCert {
    /// The key in the form rustls configurations take.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key_der.clone_key())
    }
}

/// A signed CRL.
#[derive(Debug)]
pub struct IssuedCrl {
    pub der: CertificateRevocationListDer<'static>,
    pub pem: String,
}

fn test_ca_subject(cn: &str) -> Vec<(String, String)> {
    let mut subject = vec![("CN".to_string(), cn.to_string())];
    subject.extend(
        TEST_CA_SUFFIX
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    subject
}

fn owned(subject: &[(&str, &str)]) -> Vec<(String, String)> {
    subject
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ca_params(subject: &[(String, String)], days: i64) -> Result<CertificateParams> {
    let now = OffsetDateTime::now_utc();
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen_dn(subject)?;
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(days);
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// Builds rcgen's DN, C first. rcgen keys attributes by type, so a second attribute of a
/// type is written under the same OID as a custom type (hence at most two per type).
fn rcgen_dn(subject: &[(String, String)]) -> Result<rcgen::DistinguishedName> {
    let mut dn = rcgen::DistinguishedName::new();
    for (raw_type, value) in subject.iter().rev() {
        let kind = canonical_type(raw_type)
            .ok_or_else(|| Error::Generate(format!("unknown attribute type {raw_type:?}")))?;
        let oid = oid_of_type(&kind)
            .ok_or_else(|| Error::Generate(format!("no OID for attribute type {kind}")))?;
        let custom = DnType::CustomDnType(oid_arcs(&oid)?);
        let standard = DnType::from_oid(&oid_arcs(&oid)?);
        let ty = [standard, custom]
            .into_iter()
            .find(|ty| dn.get(ty).is_none())
            .ok_or_else(|| Error::Generate(format!("too many {kind} attributes (rcgen encodes at most two of a standard type, one of others)")))?;
        let value = if kind == "C" {
            DnValue::PrintableString(
                value
                    .as_str()
                    .try_into()
                    .map_err(|e| Error::Generate(format!("country {value:?}: {e}")))?,
            )
        } else {
            DnValue::Utf8String(value.clone())
        };
        dn.push(ty, value);
    }
    Ok(dn)
}

/// 16 random bytes, positive and without a leading zero so DER keeps them as they are.
fn random_serial() -> Vec<u8> {
    let mut serial = vec![0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut serial);
    serial[0] = (serial[0] & 0x7f).max(1);
    serial
}
