//! rustls configurations for MSSanté: TLS 1.2/1.3 only, the Référentiel's ECDHE-RSA suites,
//! and verifiers that trust only the configured IGC-Santé anchors (through `ChainValidator`).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, ring};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, ServerConfig,
    SignatureScheme,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::error::{Error, Result};
use crate::identity::CertInfo;
use crate::live_identity::LiveIdentity;
use crate::validate::{ChainValidator, Usage};

/// Whether a TLS server asks for a client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// No certificate requested (submission/IMAP with SASL).
    None,
    /// Requested; a presented certificate must validate, its absence is accepted.
    Optional,
    /// Required (MTA to MTA): no valid clientAuth certificate, no session.
    Required,
    /// Requested; a presented certificate enters the session once the peer has proved it
    /// holds the key (the TLS handshake signature), and the CALLER validates the chain after
    /// the handshake with [`ChainValidator`]. For protocols that must refuse with their own
    /// reply code and audit line (SMTP `550 5.7.1` naming the failed check) rather than a
    /// bare TLS alert. Fail closed is then the caller's duty: nothing may be accepted from
    /// such a peer before its chain validated.
    Deferred,
}

const PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The ring provider restricted to our suites. Référentiel #2 also lists
/// ECDHE_RSA_WITH_AES_256_CBC_SHA384 and _AES_128_CBC_SHA256: rustls implements no CBC suite,
/// so the two GCM ones are what we offer; peers must support one of them.
pub fn crypto_provider() -> CryptoProvider {
    use ring::cipher_suite as suite;
    CryptoProvider {
        cipher_suites: vec![
            suite::TLS13_AES_256_GCM_SHA384,
            suite::TLS13_AES_128_GCM_SHA256,
            suite::TLS13_CHACHA20_POLY1305_SHA256,
            suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        ..ring::default_provider()
    }
}

/// Server configuration presenting `chain` (leaf first) with `key`.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    validator: Arc<ChainValidator>,
    client_auth: ClientAuth,
) -> Result<Arc<ServerConfig>> {
    server_config_live(LiveIdentity::new(chain, key)?, validator, client_auth)
}

/// Server configuration presenting whatever `identity` holds at each handshake (a renewed
/// certificate reaches new connections without rebuilding the configuration).
pub fn server_config_live(
    identity: Arc<LiveIdentity>,
    validator: Arc<ChainValidator>,
    client_auth: ClientAuth,
) -> Result<Arc<ServerConfig>> {
    let provider = Arc::new(crypto_provider());
    let algorithms = provider.signature_verification_algorithms;
    let builder =
        ServerConfig::builder_with_provider(provider).with_protocol_versions(PROTOCOL_VERSIONS)?;
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Optional | ClientAuth::Required | ClientAuth::Deferred => builder
            .with_client_cert_verifier(Arc::new(IgcClientVerifier::new(
                validator,
                client_auth,
                algorithms,
            ))),
    };
    let mut config = builder.with_cert_resolver(identity);
    enable_resumption(&mut config)?;
    Ok(Arc::new(config))
}

/// Sessions a server remembers for TLS 1.2 session ids (and TLS 1.3 without tickets).
const SERVER_SESSIONS: usize = 16_384;
/// Sessions a client keeps to resume with the servers it talks to.
const CLIENT_SESSIONS: usize = 4_096;

/// Session resumption: a peer that reconnects for each message skips the full handshake
/// (TLS 1.3 tickets and TLS 1.2 tickets, encrypted under keys that ring rotates; TLS 1.2
/// session ids from a bounded cache). A resumed session keeps the client's certificate
/// chain, which the sessions validate again like a fresh one.
pub fn enable_resumption(config: &mut ServerConfig) -> Result<()> {
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(SERVER_SESSIONS);
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    Ok(())
}

/// Client configuration, presenting `identity` (chain leaf first, key) when the server asks.
pub fn client_config(
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    validator: Arc<ChainValidator>,
) -> Result<Arc<ClientConfig>> {
    let identity = match identity {
        Some((chain, key)) => Some(LiveIdentity::new(chain, key)?),
        None => None,
    };
    client_config_live(identity, validator)
}

/// Client configuration presenting what `identity` holds at each handshake.
pub fn client_config_live(
    identity: Option<Arc<LiveIdentity>>,
    validator: Arc<ChainValidator>,
) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(crypto_provider());
    let verifier = Arc::new(IgcServerVerifier::new(
        validator,
        provider.signature_verification_algorithms,
    ));
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(PROTOCOL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        Some(identity) => builder.with_client_cert_resolver(identity),
        None => builder.with_no_client_auth(),
    };
    config.resumption = rustls::client::Resumption::in_memory_sessions(CLIENT_SESSIONS);
    Ok(Arc::new(config))
}

/// What the peer's leaf certificate says, after a handshake (`certs` as given by
/// `peer_certificates()`). `None` when there is no or an unreadable certificate.
pub fn peer_info(certs: &[CertificateDer<'_>]) -> Option<CertInfo> {
    CertInfo::parse(certs.first()?).ok()
}

/// Verifies client certificates: chain to our anchors, clientAuth EKU, CRL, policies.
#[derive(Debug)]
pub struct IgcClientVerifier {
    validator: Arc<ChainValidator>,
    mode: ClientAuth,
    root_hints: Vec<rustls::DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl IgcClientVerifier {
    pub fn new(
        validator: Arc<ChainValidator>,
        mode: ClientAuth,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Self {
        let root_hints = validator
            .anchor_subjects_der()
            .iter()
            .map(|der| rustls::DistinguishedName::from(der.clone()))
            .collect();
        Self {
            validator,
            mode,
            root_hints,
            algorithms,
        }
    }
}

impl ClientCertVerifier for IgcClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.mode != ClientAuth::None
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mode == ClientAuth::Required
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &self.root_hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> std::result::Result<ClientCertVerified, rustls::Error> {
        if self.mode == ClientAuth::Deferred {
            // The handshake signature (verify_tls1x_signature below) still proves the peer
            // holds this certificate's key; the chain is the caller's to validate.
            return Ok(ClientCertVerified::assertion());
        }
        self.validator
            .validate(end_entity, intermediates, Usage::ClientAuth, now)
            .map(|_| ClientCertVerified::assertion())
            .map_err(|e| rejected("client", e))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Verifies server certificates: chain to our anchors, serverAuth EKU, CRL, policies.
///
/// It deliberately does NOT match the certificate against the name we connected to: MSSanté
/// MTAs are found by MX and authorised by their certificate's subject DN being listed for the
/// recipient domain in the liste blanche, which the SMTP layer checks after the handshake
/// (with [`peer_info`]). A host-name check would add nothing to that and reject legitimate
/// operators whose MX names are not in their certificate.
#[derive(Debug)]
pub struct IgcServerVerifier {
    validator: Arc<ChainValidator>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl IgcServerVerifier {
    pub fn new(validator: Arc<ChainValidator>, algorithms: WebPkiSupportedAlgorithms) -> Self {
        Self {
            validator,
            algorithms,
        }
    }
}

impl ServerCertVerifier for IgcServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.validator
            .validate(end_entity, intermediates, Usage::ServerAuth, now)
            .map(|_| ServerCertVerified::assertion())
            .map_err(|e| rejected("server", e))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Logs a rejected peer certificate and maps the reason to the rustls error that sends the
/// matching TLS alert. Reasons without a rustls equivalent travel as `Other(our Error)` so
/// callers can downcast them.
fn rejected(peer: &'static str, e: Error) -> rustls::Error {
    tracing::warn!(peer, reason = %e, "peer certificate rejected");
    let kind = match e {
        Error::UntrustedIssuer => CertificateError::UnknownIssuer,
        Error::Expired { .. } => CertificateError::Expired,
        Error::NotYetValid { .. } => CertificateError::NotValidYet,
        Error::Revoked | Error::RevokedByOcsp => CertificateError::Revoked,
        Error::RevocationStatusUnknown => CertificateError::UnknownRevocationStatus,
        Error::WrongUsage { .. } => CertificateError::InvalidPurpose,
        other => CertificateError::Other(OtherError(Arc::new(other))),
    };
    rustls::Error::InvalidCertificate(kind)
}
