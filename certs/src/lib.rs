//! mssd-certs: IGC-Santé certificates for mssd.
//!
//! Loading PEM files, comparing distinguished names semantically, extracting identities
//! (idNat_Struct, idNat_PS) from certificates, validating chains against configured trust
//! anchors and CRLs, rustls configurations with our own verifiers, and a test PKI imitating
//! IGC-Santé.

mod conn;
mod crl;
mod crl_trust;
mod dn;
mod dn_parse;
mod dn_types;
mod error;
mod identity;
mod live_identity;
mod ocsp_book;
mod pem;
mod pki_init;
mod testpki;
mod testpki_der;
mod tls;
mod trust_state;
mod validate;

pub use conn::Conn;
pub use crl::{CrlStatus, describe_crl};
pub use dn::DistinguishedName;
pub use dn_types::Attribute;
pub use error::{Error, Result};
pub use identity::{CertInfo, ExtendedKeyUsages};
pub use live_identity::LiveIdentity;
pub use ocsp_book::{OcspAnswer, OcspBook, OcspQuestion};
pub use pem::{load_certs, load_crls, load_private_key};
pub use pki_init::{
    PkiLayout, TEST_ID_NAT_PS, TEST_ID_NAT_STRUCT, TEST_INTERMEDIATE_CN, TEST_ROOT_CN, init_pki,
    init_pki_from,
};
pub use testpki::{IssuedCert, IssuedCrl, LeafSpec, TestCa};
pub use tls::{
    ClientAuth, IgcClientVerifier, IgcServerVerifier, client_config, client_config_live,
    crypto_provider, enable_resumption, peer_info, server_config, server_config_live,
};
pub use trust_state::{StaleCrl, TrustConfig};
pub use validate::{ChainValidator, CrlOffer, Usage};
