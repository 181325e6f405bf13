//! The TEST identity provider for citizens (`[citizen.oidc] test_provider = true`, on in the
//! embedded default): an ES256 key kept in the data dir signs short-lived tokens naming a
//! citizen by INS, so a newcomer can log in as a test citizen. Never for production: its
//! issuer says TEST, and anyone with the data dir can mint tokens.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

use crate::error::{Error, Result};

pub const TEST_ISSUER: &str = "https://test-idp.mssd.invalid/TEST-citizens";
pub const TEST_AUDIENCE: &str = "mssd-citizen-test";
pub const TEST_INS_CLAIM: &str = "ins";
const KEY_ID: &str = "mssd-test-citizen-idp";
/// Test tokens live ten minutes.
const TOKEN_LIFETIME_SECS: i64 = 600;

fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("citizen-test-idp.p8")
}

/// The provider's key, created (mode 0600) on first use.
pub fn key(data_dir: &Path) -> Result<EcdsaKeyPair> {
    let path = key_path(data_dir);
    let rng = SystemRandom::new();
    let pkcs8 = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let generated = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| {
                    Error::Usage("generating the test identity provider's key failed".into())
                })?;
            crate::bootstrap::write_file(&path, generated.as_ref(), 0o600)?;
            generated.as_ref().to_vec()
        }
        Err(e) => {
            return Err(Error::Io {
                what: format!("reading {}", path.display()),
                source: e,
            });
        }
    };
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).map_err(|_| {
        Error::Usage(format!(
            "{} is not an ES256 PKCS#8 key; delete it to make a new one",
            path.display()
        ))
    })
}

/// The public key as a JWKS document.
pub fn jwks_json(pair: &EcdsaKeyPair) -> String {
    // Uncompressed point: 0x04 || x || y.
    let point = pair.public_key().as_ref();
    let (x, y) = point[1..].split_at(32);
    serde_json::json!({ "keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": KEY_ID,
        "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
    }]})
    .to_string()
}

/// A token for the citizen `ins`, valid ten minutes from `now`.
pub fn token(pair: &EcdsaKeyPair, ins: &str, now: i64) -> Result<String> {
    let header = serde_json::json!({ "alg": "ES256", "typ": "JWT", "kid": KEY_ID });
    let claims = serde_json::json!({
        "iss": TEST_ISSUER, "aud": TEST_AUDIENCE, "sub": ins, TEST_INS_CLAIM: ins,
        "iat": now, "exp": now + TOKEN_LIFETIME_SECS,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = pair
        .sign(&SystemRandom::new(), input.as_bytes())
        .map_err(|_| Error::Usage("signing the test token failed".into()))?;
    Ok(format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    ))
}
