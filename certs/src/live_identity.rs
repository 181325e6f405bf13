//! Our certificate and key, replaceable while the server runs.
//!
//! rustls configurations are immutable and shared by every session. Instead of rebuilding
//! them (and every context holding one) when an IGC-Santé certificate is renewed, they ask
//! this resolver for the identity at each handshake: a replacement reaches the next
//! handshake, and sessions already established keep the keys they negotiated.

use std::sync::{Arc, RwLock};

use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// The certificate chain (leaf first) and key we present, as servers and as SMTP clients.
#[derive(Debug)]
pub struct LiveIdentity {
    current: RwLock<Arc<CertifiedKey>>,
}

impl LiveIdentity {
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Arc<LiveIdentity>> {
        Ok(Arc::new(LiveIdentity {
            current: RwLock::new(certified(chain, key)?),
        }))
    }

    /// Presents `chain` and `key` from the next handshake on. The key must match the leaf:
    /// a mismatch is refused here, not discovered by the first peer.
    pub fn replace(
        &self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<()> {
        let next = certified(chain, key)?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = next;
        Ok(())
    }

    /// The identity in force.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

fn certified(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<CertifiedKey>> {
    if chain.is_empty() {
        return Err(Error::BadCertificate("no certificate in the chain".into()));
    }
    // Only the key provider is used here: the suites are the TLS configurations' business.
    let certified = CertifiedKey::from_der(chain, key, &rustls::crypto::ring::default_provider())?;
    Ok(Arc::new(certified))
}

impl ResolvesServerCert for LiveIdentity {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl ResolvesClientCert for LiveIdentity {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testpki::{LeafSpec, TestCa};

    #[test]
    fn a_replacement_is_what_the_next_handshake_gets_and_a_wrong_key_is_refused() {
        let root = TestCa::root("LIVE ROOT").unwrap();
        let first = root.issue(&LeafSpec::new(&[("CN", "a.test")])).unwrap();
        let second = root.issue(&LeafSpec::new(&[("CN", "b.test")])).unwrap();
        let live = LiveIdentity::new(vec![first.cert_der.clone()], first.private_key()).unwrap();
        assert_eq!(live.current().cert[0], first.cert_der);
        live.replace(vec![second.cert_der.clone()], second.private_key())
            .unwrap();
        assert_eq!(live.current().cert[0], second.cert_der);
        // The first certificate with the second key: refused, the second stays in force.
        let mismatched = live.replace(vec![first.cert_der.clone()], second.private_key());
        assert!(mismatched.is_err());
        assert!(live.replace(Vec::new(), second.private_key()).is_err());
        assert_eq!(live.current().cert[0], second.cert_der);
    }
}
