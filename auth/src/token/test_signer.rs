//! Test-only token signer (ring): ES256 keys from `EcdsaKeyPair::generate_pkcs8`, RS256 keys
//! made by the `rsa` crate. Shared by the unit tests and, through `#[path]`, by the
//! integration tests, so it only uses external crates.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    RsaPublicKeyComponents,
};
use rsa::pkcs8::EncodePrivateKey;
use serde_json::{Value, json};

enum SigningKey {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

pub struct TestSigner {
    pub kid: String,
    key: SigningKey,
}

impl TestSigner {
    pub fn es256(kid: &str) -> TestSigner {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        TestSigner {
            kid: kid.to_owned(),
            key: SigningKey::Es256(pair),
        }
    }

    pub fn rs256(kid: &str) -> TestSigner {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let pkcs8 = private.to_pkcs8_der().unwrap();
        let pair = RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).unwrap();
        TestSigner {
            kid: kid.to_owned(),
            key: SigningKey::Rs256(pair),
        }
    }

    pub fn alg(&self) -> &'static str {
        match self.key {
            SigningKey::Es256(_) => "ES256",
            SigningKey::Rs256(_) => "RS256",
        }
    }

    /// The public key as a JWK object.
    pub fn jwk(&self) -> Value {
        match &self.key {
            SigningKey::Es256(pair) => {
                let point = pair.public_key().as_ref();
                json!({
                    "kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                })
            }
            SigningKey::Rs256(pair) => {
                let components: RsaPublicKeyComponents<Vec<u8>> = pair.public_key().into();
                json!({
                    "kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": b64(&components.n), "e": b64(&components.e),
                })
            }
        }
    }

    /// A JWKS document holding the public keys of `signers`.
    pub fn jwks_json(signers: &[&TestSigner]) -> Vec<u8> {
        let keys: Vec<Value> = signers.iter().map(|s| s.jwk()).collect();
        serde_json::to_vec(&json!({ "keys": keys })).unwrap()
    }

    /// A compact JWS of `claims` with the header `{"alg", "kid", "typ": "JWT"}`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }

    /// A compact JWS with any header, signed with this key whatever the header says.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let signature = match &self.key {
            SigningKey::Es256(pair) => pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            SigningKey::Rs256(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature)
                    .unwrap();
                signature
            }
        };
        format!("{input}.{}", b64(&signature))
    }
}

/// An unsigned `alg: none` token, as an attacker would send it.
pub fn unsigned_token(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
