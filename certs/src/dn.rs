//! Distinguished names compared the way X.500 means them, not as raw strings.
//!
//! The whitelist writes `CN=…,OU=…,O=…,ST=…,C=FR`, a certificate encodes `C` first, people add
//! spaces or change case: all of these are the same DN. Equality is on the multiset of
//! (canonical attribute type, normalised value), RDN order ignored; values are trimmed, inner
//! whitespace runs collapsed and compared case-insensitively (X.520 caseIgnoreMatch).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use rustls_pki_types::CertificateDer;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::dn_parse::parse_rdns;
use crate::dn_types::{Attribute, canonical_type, canonical_type_of_oid};
use crate::error::{Error, Result};

/// A distinguished name; see the module documentation for how two DNs compare.
#[derive(Clone, Debug)]
pub struct DistinguishedName {
    /// RDNs in the order given (text order, or certificate encoding order).
    rdns: Vec<Vec<Attribute>>,
    /// Sorted (type, normalised value) pairs: the identity of the DN.
    normalised: Vec<(String, String)>,
}

impl DistinguishedName {
    /// Parses the RFC 4514 text form, e.g.
    /// `CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR`.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(Self::from_rdns(parse_rdns(s)?))
    }

    /// Reads an X.509 name (subject or issuer), in its encoding order.
    pub fn from_x509_name(name: &X509Name<'_>) -> Result<Self> {
        let mut rdns = Vec::new();
        for rdn in name.iter() {
            let mut attributes = Vec::new();
            for atv in rdn.iter() {
                let kind = canonical_type_of_oid(&atv.attr_type().to_id_string());
                let value = attribute_value(atv).map_err(|reason| {
                    Error::BadCertificate(format!("name attribute {kind}: {reason}"))
                })?;
                attributes.push(Attribute { kind, value });
            }
            if !attributes.is_empty() {
                rdns.push(attributes);
            }
        }
        // RFC 4514 §2.1: the string form starts with the LAST RDN of the encoded sequence,
        // so a certificate's `C=FR,…,CN=x` reads `CN=x,…,C=FR`, as the whitelist writes it.
        rdns.reverse();
        Ok(Self::from_rdns(rdns))
    }

    /// The subject DN of a DER certificate.
    pub fn from_certificate(cert: &CertificateDer<'_>) -> Result<Self> {
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|e| Error::BadCertificate(format!("cannot parse certificate: {e}")))?;
        Self::from_x509_name(parsed.subject())
    }

    fn from_rdns(rdns: Vec<Vec<Attribute>>) -> Self {
        let mut normalised: Vec<(String, String)> = rdns
            .iter()
            .flatten()
            .map(|a| (a.kind.clone(), normalise_value(&a.value)))
            .collect();
        normalised.sort();
        Self { rdns, normalised }
    }

    /// Deterministic normalised text (sorted, lower-cased values), usable as a map key:
    /// two DNs are equal exactly when their canonical strings are equal.
    pub fn canonical(&self) -> String {
        let parts: Vec<String> = self
            .normalised
            .iter()
            .map(|(kind, value)| format!("{kind}={}", escape_value(value)))
            .collect();
        parts.join(",")
    }

    /// RDNs in the order given.
    pub fn rdns(&self) -> &[Vec<Attribute>] {
        &self.rdns
    }

    /// All attributes in the order given, multi-valued RDNs flattened.
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.rdns.iter().flatten()
    }

    /// Values (as written) of every attribute of type `kind` (`"OU"`, `"ou"`, `"2.5.4.11"`…).
    pub fn values(&self, kind: &str) -> Vec<&str> {
        let Some(kind) = canonical_type(kind) else {
            return Vec::new();
        };
        self.attributes()
            .filter(|a| a.kind == kind)
            .map(|a| a.value.as_str())
            .collect()
    }

    /// The first value of type `kind`, if any.
    pub fn first(&self, kind: &str) -> Option<&str> {
        self.values(kind).into_iter().next()
    }
}

impl PartialEq for DistinguishedName {
    fn eq(&self, other: &Self) -> bool {
        self.normalised == other.normalised
    }
}

impl Eq for DistinguishedName {}

impl Hash for DistinguishedName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalised.hash(state);
    }
}

impl FromStr for DistinguishedName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// RFC 4514 text in the order the DN was given.
impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            for (j, attribute) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str("+")?;
                }
                write!(f, "{}={}", attribute.kind, escape_value(&attribute.value))?;
            }
        }
        Ok(())
    }
}

/// caseIgnoreMatch preparation: trim, collapse whitespace runs, lower-case.
fn normalise_value(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Escapes a value for RFC 4514 text (§2.4).
fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

/// Decodes the directory string types found in certificates.
fn attribute_value(atv: &AttributeTypeAndValue<'_>) -> std::result::Result<String, String> {
    let any = atv.attr_value();
    let data: &[u8] = any.data;
    match any.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8(data.to_vec())
            .map_err(|_| "string value is not valid UTF-8".to_string()),
        // T.61 in practice carries Latin-1.
        Tag::T61String => Ok(data.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if !data.len().is_multiple_of(2) {
                return Err("BMPString of odd length".into());
            }
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            String::from_utf16(&units).map_err(|_| "invalid BMPString".into())
        }
        Tag::UniversalString => {
            if !data.len().is_multiple_of(4) {
                return Err("UniversalString of invalid length".into());
            }
            data.chunks_exact(4)
                .map(|q| {
                    char::from_u32(u32::from_be_bytes([q[0], q[1], q[2], q[3]]))
                        .ok_or_else(|| "invalid UniversalString".to_string())
                })
                .collect()
        }
        other => Err(format!("unsupported value type {other}")),
    }
}

#[cfg(test)]
#[path = "dn_tests.rs"]
mod tests;
