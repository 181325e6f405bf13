//! Loads our certificate, key, trust anchors and CRLs as configured, and checks that our
//! own chain validates against our own anchors (a peer would refuse it otherwise).

use std::sync::Arc;

use mssd_certs::{CertInfo, ChainValidator, TrustConfig, Usage};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::config::TlsConfig;
use crate::error::{Error, Result};

pub struct LoadedTls {
    pub validator: Arc<ChainValidator>,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// What our own server certificate says.
    pub ours: CertInfo,
}

pub fn load(tls: &TlsConfig) -> Result<LoadedTls> {
    let chain = mssd_certs::load_certs(&tls.certificate)?;
    let key = mssd_certs::load_private_key(&tls.private_key)?;
    let mut anchors = Vec::new();
    for path in &tls.trust_anchors {
        anchors.extend(mssd_certs::load_certs(path)?);
    }
    let mut crls = Vec::new();
    for path in &tls.crls {
        crls.extend(mssd_certs::load_crls(path)?);
    }
    let validator = Arc::new(ChainValidator::new(TrustConfig {
        anchors,
        crls,
        accepted_policies: tls.accepted_policies.clone(),
    })?);
    let (leaf, intermediates) = chain.split_first().ok_or_else(|| {
        Error::Usage(format!(
            "{}: no certificate in the file",
            tls.certificate.display()
        ))
    })?;
    let ours = validator
        .validate(leaf, intermediates, Usage::ServerAuth, UnixTime::now())
        .map_err(|e| {
            Error::Usage(format!(
                "our certificate {} does not validate against tls.trust_anchors: {e}",
                tls.certificate.display()
            ))
        })?;
    Ok(LoadedTls {
        validator,
        chain,
        key,
        ours,
    })
}
