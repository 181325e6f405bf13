//! Loads our certificate, key, trust anchors and CRLs as configured, and checks that our
//! own chain validates against our own anchors (a peer would refuse it otherwise). A reload
//! checks the new files the same way before anything running changes.

use std::sync::Arc;

use mssd_certs::{CertInfo, ChainValidator, LiveIdentity, TrustConfig, Usage};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::config::TlsConfig;
use crate::error::{Error, Result};

pub struct LoadedTls {
    /// Shared by every TLS configuration: a reload swaps what it trusts.
    pub validator: Arc<ChainValidator>,
    /// What every TLS configuration presents: a reload swaps it.
    pub identity: Arc<LiveIdentity>,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// What our own server certificate says.
    pub ours: CertInfo,
}

/// The files of `[tls]`, read and parsed.
struct TlsFiles {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    trust: TrustConfig,
}

fn read(tls: &TlsConfig) -> Result<TlsFiles> {
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
    Ok(TlsFiles {
        chain,
        key,
        trust: TrustConfig {
            anchors,
            crls,
            accepted_policies: tls.accepted_policies.clone(),
            stale_crl: tls.stale_crl,
            crl_urls: tls.crl_urls.clone(),
        },
    })
}

/// Our chain must validate against our anchors, as peers will check it.
fn check_ours(
    validator: &ChainValidator,
    chain: &[CertificateDer<'static>],
    tls: &TlsConfig,
) -> Result<CertInfo> {
    let (leaf, intermediates) = chain.split_first().ok_or_else(|| {
        Error::Usage(format!(
            "{}: no certificate in the file",
            tls.certificate.display()
        ))
    })?;
    validator
        .validate(leaf, intermediates, Usage::ServerAuth, UnixTime::now())
        .map_err(|e| {
            Error::Usage(format!(
                "our certificate {} does not validate against tls.trust_anchors: {e}",
                tls.certificate.display()
            ))
        })
}

pub fn load(tls: &TlsConfig) -> Result<LoadedTls> {
    let files = read(tls)?;
    let validator = Arc::new(ChainValidator::new(files.trust)?);
    let ours = check_ours(&validator, &files.chain, tls)?;
    let identity = LiveIdentity::new(files.chain.clone(), files.key.clone_key()).map_err(|e| {
        Error::Usage(format!(
            "{} and {} do not go together: {e}",
            tls.certificate.display(),
            tls.private_key.display()
        ))
    })?;
    Ok(LoadedTls {
        validator,
        identity,
        chain: files.chain,
        key: files.key,
        ours,
    })
}

/// Applies `tls` to what is running: everything is read and checked first (our chain
/// against the new anchors, the key against the certificate); on any error nothing changes.
/// Sessions already established keep their keys; new handshakes get the new ones.
pub fn reload(running: &LoadedTls, tls: &TlsConfig) -> Result<CertInfo> {
    let files = read(tls)?;
    let trial = ChainValidator::new(files.trust.clone())?;
    let ours = check_ours(&trial, &files.chain, tls)?;
    // Checks the pair before the validator changes: a mismatch must leave both as they were.
    LiveIdentity::new(files.chain.clone(), files.key.clone_key()).map_err(|e| {
        Error::Usage(format!(
            "{} and {} do not go together: {e}",
            tls.certificate.display(),
            tls.private_key.display()
        ))
    })?;
    running.validator.reload(files.trust)?;
    running.identity.replace(files.chain, files.key)?;
    Ok(ours)
}
