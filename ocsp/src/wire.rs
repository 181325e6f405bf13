//! Building a request and checking a response, with no I/O.

use mssd_certs::OcspAnswer;
use openssl::hash::MessageDigest;
use openssl::ocsp::{
    OcspCertId, OcspCertStatus, OcspFlag, OcspRequest, OcspResponse, OcspResponseStatus,
};
use openssl::stack::Stack;
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyFlags;

use crate::error::{Error, Result};

/// Clock skew accepted on thisUpdate.
const SKEW_SECONDS: u32 = 300;
/// A response without nextUpdate older than this is refused (a replay).
const MAX_AGE_SECONDS: u32 = 7 * 86_400;

/// The DER of a request about `certificate` issued by `issuer` (SHA-1 CertID, as
/// responders expect).
pub fn request_for(certificate: &[u8], issuer: &[u8]) -> Result<Vec<u8>> {
    let request = || -> std::result::Result<Vec<u8>, openssl::error::ErrorStack> {
        let id = cert_id(certificate, issuer)?;
        let mut request = OcspRequest::new()?;
        request.add_id(id)?;
        request.to_der()
    };
    request().map_err(|e| Error::Request(e.to_string()))
}

fn cert_id(
    certificate: &[u8],
    issuer: &[u8],
) -> std::result::Result<OcspCertId, openssl::error::ErrorStack> {
    let certificate = X509::from_der(certificate)?;
    let issuer = X509::from_der(issuer)?;
    OcspCertId::from_cert(MessageDigest::sha1(), &certificate, &issuer)
}

/// What `response` says of `certificate`: signed by `issuer` or by a responder `issuer`
/// delegated (id-kp-OCSPSigning), current, and about that certificate.
pub fn read_response(response: &[u8], certificate: &[u8], issuer: &[u8]) -> Result<OcspAnswer> {
    let response = OcspResponse::from_der(response)?;
    if response.status() != OcspResponseStatus::SUCCESSFUL {
        return Err(Error::Response(format!(
            "the responder answered status {}",
            response.status().as_raw()
        )));
    }
    let basic = response.basic()?;
    let issuer_cert = X509::from_der(issuer)?;
    let mut store = X509StoreBuilder::new()?;
    store.add_cert(issuer_cert.clone())?;
    // The issuer is an intermediate: trusted here without its root (its own chain was
    // validated when the peer's chain was).
    store.set_flags(X509VerifyFlags::PARTIAL_CHAIN)?;
    let store = store.build();
    let mut certs = Stack::new()?;
    certs.push(issuer_cert)?;
    basic
        .verify(&certs, &store, OcspFlag::empty())
        .map_err(|e| Error::Response(format!("signature or signer not trusted: {e}")))?;
    let id = cert_id(certificate, issuer)?;
    let status = basic
        .find_status(&id)
        .ok_or_else(|| Error::Response("no answer about the certificate asked".into()))?;
    status
        .check_validity(SKEW_SECONDS, Some(MAX_AGE_SECONDS))
        .map_err(|e| Error::Response(format!("not current: {e}")))?;
    Ok(match status.status {
        OcspCertStatus::GOOD => OcspAnswer::Good,
        OcspCertStatus::REVOKED => OcspAnswer::Revoked,
        _ => OcspAnswer::Unknown,
    })
}
