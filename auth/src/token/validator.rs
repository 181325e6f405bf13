//! The token validator: one issuer, its key set (replaceable at run time, refreshed from a
//! [`KeySource`] when a token names an unknown key) and the checks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::token::claims::{
    ClaimExpectations, VerifiedCitizenToken, VerifiedToken, check_citizen_claims, check_claims,
    unverified_issuer,
};
use crate::token::jwks::Jwks;
use crate::token::jws::CompactJws;
use crate::token::refresh::{KeySource, RefreshGate};

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
    /// Bumped by every replacement: a validation that waited for a refresh knows whether the
    /// set changed meanwhile (then it retries without fetching again).
    generation: AtomicU64,
    refresh: Option<Refresher>,
}

struct Refresher {
    source: KeySource,
    /// Held during a fetch: concurrent tokens with unknown keys wait for one refresh.
    gate: tokio::sync::Mutex<RefreshGate>,
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
            generation: AtomicU64::new(0),
            refresh: None,
        }
    }

    /// Keys are fetched from `source` by [`TokenValidator::refresh_now`] and when a token of
    /// this issuer names a key the set does not hold.
    pub fn with_key_source(mut self, source: KeySource) -> TokenValidator {
        self.refresh = Some(Refresher {
            gate: tokio::sync::Mutex::new(RefreshGate::new(source.min_interval)),
            source,
        });
        self
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

    /// Replaces the key set (a reload of the file, a fetch from the issuer's URL).
    pub fn replace_jwks(&self, jwks: Jwks) {
        let mut slot = self
            .jwks
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Arc::new(jwks);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Fetches the set from the key source now (the periodic refresh) and puts it in use;
    /// returns how many keys it holds. On failure the set in use stays (served stale).
    pub async fn refresh_now(&self) -> std::result::Result<usize, String> {
        let Some(refresher) = &self.refresh else {
            return Err("no key source: the keys come from a file".into());
        };
        let mut gate = refresher.gate.lock().await;
        gate.started(Instant::now());
        self.fetch_and_replace(refresher).await
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

    /// [`TokenValidator::validate`], refreshing the keys once when the token (claiming our
    /// issuer) names a key we do not hold, within the rate limit of the key source.
    pub async fn validate_refreshing(&self, token: &str, now: i64) -> Result<VerifiedToken> {
        self.refreshing(token, |v| v.validate(token, now)).await
    }

    /// [`TokenValidator::validate_citizen`] with the same refresh.
    pub async fn validate_citizen_refreshing(
        &self,
        token: &str,
        now: i64,
        claim: &str,
    ) -> Result<VerifiedCitizenToken> {
        self.refreshing(token, |v| v.validate_citizen(token, now, claim))
            .await
    }

    /// `attempt`, and once more after a refresh when it failed for want of the token's key.
    async fn refreshing<T>(&self, token: &str, attempt: impl Fn(&Self) -> Result<T>) -> Result<T> {
        let seen = self.generation.load(Ordering::SeqCst);
        match attempt(self) {
            Err(e) if self.worth_a_refresh(&e, token) => {
                if self.refresh_for_unknown_key(seen).await {
                    attempt(self)
                } else {
                    Err(e)
                }
            }
            other => other,
        }
    }

    /// Only a missing key, with a key source, for a token that at least claims our issuer (a
    /// citizen's token tried here first must not make us fetch Pro Santé Connect's keys).
    fn worth_a_refresh(&self, error: &Error, token: &str) -> bool {
        matches!(error, Error::TokenUnknownKid { .. } | Error::TokenNoKeys)
            && self.refresh.is_some()
            && CompactJws::parse(token)
                .ok()
                .and_then(|jws| unverified_issuer(&jws.payload))
                .is_some_and(|iss| iss == self.expectations.issuer)
    }

    /// True when the set changed since generation `seen` (by this refresh or another).
    async fn refresh_for_unknown_key(&self, seen: u64) -> bool {
        let Some(refresher) = &self.refresh else {
            return false;
        };
        let mut gate = refresher.gate.lock().await;
        if self.generation.load(Ordering::SeqCst) != seen {
            return true;
        }
        if !gate.try_start(Instant::now()) {
            tracing::debug!(issuer = %self.issuer(), "unknown token key: JWKS refreshed too recently to fetch again");
            return false;
        }
        self.fetch_and_replace(refresher).await.is_ok()
    }

    async fn fetch_and_replace(&self, refresher: &Refresher) -> std::result::Result<usize, String> {
        match refresher.source.fetcher.fetch().await {
            Ok(jwks) => {
                let keys = jwks.keys().len();
                self.replace_jwks(jwks);
                tracing::info!(issuer = %self.issuer(), keys, "JWKS refreshed");
                Ok(keys)
            }
            Err(error) => {
                tracing::warn!(issuer = %self.issuer(), %error, "JWKS refresh failed; the keys in use stay");
                Err(error)
            }
        }
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
