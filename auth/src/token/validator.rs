//! The token validator: one issuer, its key set (replaceable at run time) and the checks.

use std::sync::{Arc, RwLock};

use crate::error::{Error, Result};
use crate::token::claims::{
    ClaimExpectations, VerifiedCitizenToken, VerifiedToken, check_citizen_claims, check_claims,
};
use crate::token::jwks::Jwks;
use crate::token::jws::CompactJws;

/// Tolerated clock difference with the issuer.
pub const LEEWAY_SECS: i64 = 60;
/// Tokens larger than this are refused before any parsing.
pub const MAX_TOKEN_OCTETS: usize = 16 * 1024;

/// Validates bearer tokens of one issuer.
pub struct TokenValidator {
    expectations: ClaimExpectations,
    /// Swapped whole by [`TokenValidator::replace_jwks`]; readers clone the `Arc`, so a
    /// validation in progress keeps the set it started with.
    jwks: RwLock<Arc<Jwks>>,
}

impl TokenValidator {
    pub fn new(issuer: String, audience: String, jwks: Jwks) -> TokenValidator {
        TokenValidator {
            expectations: ClaimExpectations {
                issuer,
                audience,
                leeway_secs: LEEWAY_SECS,
            },
            jwks: RwLock::new(Arc::new(jwks)),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.expectations.issuer
    }

    /// The key set in use.
    pub fn jwks(&self) -> Arc<Jwks> {
        // A poisoned lock still holds a whole `Arc` (the writer only assigns it).
        self.jwks
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the key set (a reload of the file, later a fetch from the issuer's URL).
    pub fn replace_jwks(&self, jwks: Jwks) {
        *self
            .jwks
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(jwks);
    }

    /// Verifies the signature and the claims of a compact JWS at `now` (Unix seconds).
    pub fn validate(&self, token: &str, now: i64) -> Result<VerifiedToken> {
        let payload = self.verified_payload(token)?;
        check_claims(&payload, &self.expectations, now)
    }

    /// Like [`TokenValidator::validate`], for a citizens' issuer: the INS is read from `claim`.
    pub fn validate_citizen(
        &self,
        token: &str,
        now: i64,
        claim: &str,
    ) -> Result<VerifiedCitizenToken> {
        let payload = self.verified_payload(token)?;
        check_citizen_claims(&payload, &self.expectations, now, claim)
    }

    /// The payload of a compact JWS whose signature verifies with our keys.
    fn verified_payload(&self, token: &str) -> Result<Vec<u8>> {
        if token.len() > MAX_TOKEN_OCTETS {
            return Err(Error::malformed_token(format!(
                "token is {} octets, longer than the {MAX_TOKEN_OCTETS} allowed",
                token.len()
            )));
        }
        let jws = CompactJws::parse(token)?;
        let jwks = self.jwks();
        let key = jwks.select(jws.kid.as_deref())?;
        jws.verify(key)?;
        Ok(jws.payload)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use serde_json::{Value, json};

    use super::*;
    use crate::token::test_signer::{TestSigner, unsigned_token};

    const ISS: &str = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";
    const NOW: i64 = 1_750_000_000;
    const RPPS_ID: &str = "810001045367";

    /// RSA generation is slow: one key for the whole test binary.
    fn rsa_signer() -> &'static TestSigner {
        static SIGNER: OnceLock<TestSigner> = OnceLock::new();
        SIGNER.get_or_init(|| TestSigner::rs256("rsa-1"))
    }

    fn claims() -> Value {
        json!({"iss": ISS, "exp": NOW + 300, "iat": NOW, "aud": ["mssd"], "SubjectNameID": RPPS_ID})
    }

    #[test]
    fn signature_table() {
        let es = TestSigner::es256("ec-1");
        let other_es = TestSigner::es256("ec-1");
        let rs = rsa_signer();
        let validator = TokenValidator::new(
            ISS.to_owned(),
            "mssd".to_owned(),
            Jwks::from_json(&TestSigner::jwks_json(&[&es, rs])).unwrap(),
        );
        let good_es = es.sign(&claims());
        let good_rs = rs.sign(&claims());
        // Payload swapped after signing.
        let mut parts: Vec<&str> = good_es.split('.').collect();
        let forged_payload = crate::token::test_signer::b64(
            json!({"iss": ISS, "exp": NOW + 300, "aud": "mssd", "SubjectNameID": "810000000009"})
                .to_string()
                .as_bytes(),
        );
        parts[1] = &forged_payload;
        let forged = parts.join(".");
        let cases: Vec<(&str, String, Result<&str>)> = vec![
            ("ES256", good_es.clone(), Ok(RPPS_ID)),
            ("RS256", good_rs, Ok(RPPS_ID)),
            ("ES256 by another key with the same kid", other_es.sign(&claims()), Err(Error::TokenBadSignature)),
            ("forged payload", forged, Err(Error::TokenBadSignature)),
            (
                "alg none",
                unsigned_token(&claims()),
                Err(Error::TokenUnsupportedAlg { alg: "none".into() }),
            ),
            (
                "unknown kid",
                es.sign_with_header(&json!({"alg": "ES256", "kid": "gone"}), &claims()),
                Err(Error::TokenUnknownKid { kid: "gone".into() }),
            ),
            (
                "RS256 header on the EC key",
                es.sign_with_header(&json!({"alg": "RS256", "kid": "ec-1"}), &claims()),
                Err(Error::malformed_token(
                    "token algorithm RS256 does not match its key, which is for ES256",
                )),
            ),
            (
                "no kid with two keys",
                es.sign_with_header(&json!({"alg": "ES256"}), &claims()),
                Err(Error::malformed_token(
                    "token header has no kid and the JWKS holds 2 keys",
                )),
            ),
            (
                "valid signature, wrong audience",
                es.sign(&json!({"iss": ISS, "exp": NOW + 300, "aud": "other", "SubjectNameID": RPPS_ID})),
                Err(Error::TokenWrongAudience { expected: "mssd".into(), found: vec!["other".into()] }),
            ),
            (
                "oversize",
                "a".repeat(MAX_TOKEN_OCTETS + 1),
                Err(Error::malformed_token(format!(
                    "token is {} octets, longer than the {MAX_TOKEN_OCTETS} allowed",
                    MAX_TOKEN_OCTETS + 1
                ))),
            ),
        ];
        for (name, token, expected) in cases {
            let got = validator.validate(&token, NOW);
            assert_eq!(
                got.as_ref()
                    .map(|t| t.id_nat_ps.as_str())
                    .map_err(Clone::clone),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn a_token_without_kid_uses_the_only_key_and_replacing_the_set_takes_effect() {
        let first = TestSigner::es256("k1");
        let second = TestSigner::es256("k2");
        let validator = TokenValidator::new(
            ISS.to_owned(),
            "mssd".to_owned(),
            Jwks::from_json(&TestSigner::jwks_json(&[&first])).unwrap(),
        );
        let no_kid = first.sign_with_header(&json!({"alg": "ES256"}), &claims());
        assert_eq!(
            validator.validate(&no_kid, NOW).unwrap().expires_at,
            NOW + 300
        );
        let by_second = second.sign(&claims());
        assert_eq!(
            validator.validate(&by_second, NOW),
            Err(Error::TokenUnknownKid { kid: "k2".into() })
        );
        validator.replace_jwks(Jwks::from_json(&TestSigner::jwks_json(&[&second])).unwrap());
        assert!(validator.validate(&by_second, NOW).is_ok());
        assert_eq!(
            validator.validate(&first.sign(&claims()), NOW),
            Err(Error::TokenUnknownKid { kid: "k1".into() })
        );
    }
}
