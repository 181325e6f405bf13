//! What a certificate says about its holder: names, validity, usages, policies, idNats.

use mssd_core::{IdNatPs, IdNatStruct};
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};

use crate::dn::DistinguishedName;
use crate::error::{Error, Result};

/// Extended key usages that matter to mssd. When a certificate has no EKU extension both are
/// true (RFC 5280: unrestricted), which is also how webpki decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExtendedKeyUsages {
    pub server_auth: bool,
    pub client_auth: bool,
}

/// The identity and properties of one certificate (not a statement that it is trusted: see
/// `ChainValidator::validate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: DistinguishedName,
    pub issuer: DistinguishedName,
    /// Serial number in lower-case hex, without leading zero bytes.
    pub serial_hex: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub common_name: Option<String>,
    /// DNS names of the subjectAltName extension, in order.
    pub dns_names: Vec<String>,
    pub ekus: ExtendedKeyUsages,
    /// Certificate policy OIDs, dotted.
    pub policy_oids: Vec<String>,
    /// The first subject OU that is a valid idNat_Struct (structure certificates).
    pub id_nat_struct: Option<IdNatStruct>,
    /// From a personal certificate: the CN `8<RPPS>` / `8<RPPS>/NAME` (or `0<ADELI>`), else a
    /// UID attribute holding an idNat_PS.
    pub id_nat_ps: Option<IdNatPs>,
}

impl CertInfo {
    /// Reads a DER certificate. Fails only when the certificate cannot be parsed.
    pub fn parse(cert: &CertificateDer<'_>) -> Result<CertInfo> {
        let (_, x509) = x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|e| Error::BadCertificate(format!("cannot parse certificate: {e}")))?;
        let subject = DistinguishedName::from_x509_name(x509.subject())?;
        let issuer = DistinguishedName::from_x509_name(x509.issuer())?;
        let common_name = subject.first("CN").map(str::to_string);
        let id_nat_struct = subject
            .values("OU")
            .into_iter()
            .find_map(|ou| IdNatStruct::parse(ou.trim()).ok());
        let id_nat_ps = id_nat_ps_of(&subject);
        Ok(CertInfo {
            serial_hex: serial_hex(x509.raw_serial()),
            not_before: x509.validity().not_before.to_datetime(),
            not_after: x509.validity().not_after.to_datetime(),
            dns_names: dns_names(&x509)?,
            ekus: extended_key_usages(&x509)?,
            policy_oids: policy_oids(&x509),
            subject,
            issuer,
            common_name,
            id_nat_struct,
            id_nat_ps,
        })
    }

    /// The host name this certificate names: the first DNS subjectAltName, else the CN when
    /// it looks like a host name.
    pub fn fqdn(&self) -> Option<&str> {
        self.dns_names.first().map(String::as_str).or_else(|| {
            self.common_name
                .as_deref()
                .filter(|cn| looks_like_hostname(cn))
        })
    }
}

fn id_nat_ps_of(subject: &DistinguishedName) -> Option<IdNatPs> {
    let from_cn = subject.first("CN").and_then(|cn| {
        let id = cn.split('/').next().unwrap_or(cn).trim();
        IdNatPs::parse(id).ok()
    });
    from_cn.or_else(|| {
        subject
            .values("UID")
            .into_iter()
            .find_map(|uid| IdNatPs::parse(uid.trim()).ok())
    })
}

fn serial_hex(raw: &[u8]) -> String {
    // DER adds a 0x00 byte before a high bit; keep one byte for the serial 0.
    let first_significant = raw
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw[first_significant..]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn dns_names(x509: &X509Certificate<'_>) -> Result<Vec<String>> {
    let san = x509
        .subject_alternative_name()
        .map_err(|e| Error::BadCertificate(format!("subjectAltName: {e}")))?;
    Ok(san
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some(dns.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default())
}

fn extended_key_usages(x509: &X509Certificate<'_>) -> Result<ExtendedKeyUsages> {
    let eku = x509
        .extended_key_usage()
        .map_err(|e| Error::BadCertificate(format!("extendedKeyUsage: {e}")))?;
    Ok(match eku {
        None => ExtendedKeyUsages {
            server_auth: true,
            client_auth: true,
        },
        Some(ext) => ExtendedKeyUsages {
            server_auth: ext.value.server_auth,
            client_auth: ext.value.client_auth,
        },
    })
}

fn policy_oids(x509: &X509Certificate<'_>) -> Vec<String> {
    x509.extensions()
        .iter()
        .filter_map(|ext| match ext.parsed_extension() {
            ParsedExtension::CertificatePolicies(policies) => Some(policies),
            _ => None,
        })
        .flatten()
        .map(|policy| policy.policy_id.to_id_string())
        .collect()
}

fn looks_like_hostname(s: &str) -> bool {
    s.contains('.')
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_hex_table() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x01], "01"),
            (&[0x00, 0x80, 0x01], "8001"),
            (&[0x00], "00"),
            (&[0x7f, 0xff], "7fff"),
            (&[], ""),
        ];
        for (raw, expected) in cases {
            assert_eq!(serial_hex(raw), *expected, "serial {raw:?}");
        }
    }

    #[test]
    fn hostname_table() {
        let cases: &[(&str, bool)] = &[
            ("mail.hopital.test.mssante.fr", true),
            ("smtp-1.sesan.santnet.com", true),
            ("localhost", false),
            ("810999999997", false),
            ("8109/DUPONT", false),
            ("a..b", false),
            ("-a.b", false),
            ("Messagerie applicative.fr", false),
        ];
        for (s, expected) in cases {
            assert_eq!(looks_like_hostname(s), *expected, "{s:?}");
        }
    }

    #[test]
    fn id_nat_ps_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("CN=810999999997,GN=JEAN,SN=DUPONT", Some("810999999997")),
            ("CN=810999999997/DUPONT,O=x", Some("810999999997")),
            ("CN=DUPONT JEAN,UID=810999999997", Some("810999999997")),
            // bad Luhn
            ("CN=810999999998", None),
            ("CN=mail.example.fr,OU=1990000002", None),
        ];
        for (dn, expected) in cases {
            let parsed = DistinguishedName::parse(dn).unwrap();
            let got = id_nat_ps_of(&parsed).map(|id| id.to_string());
            assert_eq!(got.as_deref(), *expected, "{dn:?}");
        }
    }
}
