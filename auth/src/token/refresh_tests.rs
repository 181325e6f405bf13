//! The validator's key refresh: an unknown key fetches once and retries the token, within the
//! rate limit; a failed fetch keeps the keys in use; tokens of other issuers fetch nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::Error;
use crate::token::refresh::{JwksFetcher, KeySource};
use crate::token::test_signer::TestSigner;
use crate::token::{Jwks, TokenValidator};

const ISS: &str = "https://auth.esante.gouv.fr/auth/realms/esante-wallet";
const NOW: i64 = 1_750_000_000;

fn claims() -> Value {
    json!({"iss": ISS, "exp": NOW + 300, "aud": "mssd", "SubjectNameID": "810001045367"})
}

/// Answers with the set it is told to, counting calls; optionally slow.
struct FakeIssuer {
    calls: AtomicUsize,
    answer: Mutex<Result<Vec<u8>, String>>,
    delay: Duration,
}

impl FakeIssuer {
    fn serving(signers: &[&TestSigner]) -> Arc<FakeIssuer> {
        Arc::new(FakeIssuer {
            calls: AtomicUsize::new(0),
            answer: Mutex::new(Ok(TestSigner::jwks_json(signers))),
            delay: Duration::ZERO,
        })
    }

    fn serve(&self, answer: Result<Vec<u8>, String>) {
        *self.answer.lock().unwrap() = answer;
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl JwksFetcher for FakeIssuer {
    async fn fetch(&self) -> Result<Jwks, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        let answer = self.answer.lock().unwrap().clone();
        Jwks::from_json(&answer?).map_err(|e| e.to_string())
    }
}

fn validator(initial: Jwks, issuer: &Arc<FakeIssuer>, min_interval: Duration) -> TokenValidator {
    TokenValidator::new(ISS.into(), "mssd".into(), initial).with_key_source(KeySource {
        fetcher: issuer.clone(),
        min_interval,
    })
}

fn jwks(signers: &[&TestSigner]) -> Jwks {
    Jwks::from_json(&TestSigner::jwks_json(signers)).unwrap()
}

#[tokio::test]
async fn an_unknown_kid_refreshes_once_then_waits_for_the_interval() {
    let (k1, k2, k3) = (
        TestSigner::es256("k1"),
        TestSigner::es256("k2"),
        TestSigner::es256("k3"),
    );
    let issuer = FakeIssuer::serving(&[&k2]);
    let v = validator(jwks(&[&k1]), &issuer, Duration::from_secs(3600));
    assert!(
        v.validate_refreshing(&k1.sign(&claims()), NOW)
            .await
            .is_ok()
    );
    assert_eq!(issuer.calls(), 0, "a known key fetches nothing");

    // Rotation to k2: the token is retried after one fetch.
    let verified = v.validate_refreshing(&k2.sign(&claims()), NOW).await;
    assert_eq!(verified.unwrap().id_nat_ps.as_str(), "810001045367");
    assert_eq!(issuer.calls(), 1);
    assert_eq!(
        v.validate_refreshing(&k1.sign(&claims()), NOW).await,
        Err(Error::TokenUnknownKid { kid: "k1".into() }),
        "the rotated set replaced the old one"
    );
    // Within the interval: no fetch, whatever the kid.
    issuer.serve(Ok(TestSigner::jwks_json(&[&k3])));
    assert_eq!(
        v.validate_refreshing(&k3.sign(&claims()), NOW).await,
        Err(Error::TokenUnknownKid { kid: "k3".into() })
    );
    assert_eq!(issuer.calls(), 1);
    // The periodic refresh ignores the gate.
    assert_eq!(v.refresh_now().await, Ok(1));
    assert!(
        v.validate_refreshing(&k3.sign(&claims()), NOW)
            .await
            .is_ok()
    );
    assert_eq!(issuer.calls(), 2);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_keys_in_use() {
    let (k1, k2) = (TestSigner::es256("k1"), TestSigner::es256("k2"));
    let issuer = FakeIssuer::serving(&[&k1]);
    issuer.serve(Err("connection refused".into()));
    let v = validator(jwks(&[&k1]), &issuer, Duration::ZERO);
    assert_eq!(v.refresh_now().await, Err("connection refused".into()));
    assert_eq!(
        v.validate_refreshing(&k2.sign(&claims()), NOW).await,
        Err(Error::TokenUnknownKid { kid: "k2".into() })
    );
    assert_eq!(issuer.calls(), 2, "the unknown kid tried once more");
    assert!(
        v.validate_refreshing(&k1.sign(&claims()), NOW)
            .await
            .is_ok()
    );
    // A set the issuer serves broken is refused the same way.
    issuer.serve(Ok(br#"{"keys": []}"#.to_vec()));
    assert!(
        v.refresh_now()
            .await
            .unwrap_err()
            .contains("no RS256 or ES256")
    );
    assert!(
        v.validate_refreshing(&k1.sign(&claims()), NOW)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn starting_without_keys_fetches_at_the_first_token() {
    let k1 = TestSigner::es256("k1");
    let issuer = FakeIssuer::serving(&[&k1]);
    issuer.serve(Err("issuer down".into()));
    let v = validator(Jwks::empty(), &issuer, Duration::ZERO);
    let no_kid = k1.sign_with_header(&json!({"alg": "ES256"}), &claims());
    assert_eq!(
        v.validate_refreshing(&no_kid, NOW).await,
        Err(Error::TokenNoKeys)
    );
    issuer.serve(Ok(TestSigner::jwks_json(&[&k1])));
    assert!(v.validate_refreshing(&no_kid, NOW).await.is_ok());
    assert_eq!(issuer.calls(), 2);
}

#[tokio::test]
async fn tokens_of_another_issuer_or_bad_signatures_fetch_nothing() {
    let k1 = TestSigner::es256("k1");
    let issuer = FakeIssuer::serving(&[&k1]);
    let v = validator(jwks(&[&k1]), &issuer, Duration::ZERO);
    let stranger = TestSigner::es256("k9");
    let mut other = claims();
    other["iss"] = json!("https://citizens.example/idp");
    assert_eq!(
        v.validate_refreshing(&stranger.sign(&other), NOW).await,
        Err(Error::TokenUnknownKid { kid: "k9".into() })
    );
    let impostor = TestSigner::es256("k1");
    assert_eq!(
        v.validate_refreshing(&impostor.sign(&claims()), NOW).await,
        Err(Error::TokenBadSignature)
    );
    assert_eq!(issuer.calls(), 0);
    // Without a key source (a JWKS file) there is nothing to refresh from.
    let file = TokenValidator::new(ISS.into(), "mssd".into(), jwks(&[&k1]));
    assert!(file.refresh_now().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unknown_kids_share_one_fetch() {
    let (k1, k2) = (TestSigner::es256("k1"), TestSigner::es256("k2"));
    let issuer = Arc::new(FakeIssuer {
        calls: AtomicUsize::new(0),
        answer: Mutex::new(Ok(TestSigner::jwks_json(&[&k2]))),
        delay: Duration::from_millis(200),
    });
    // No rate limit: only the generation check keeps the waiters from fetching again.
    let v = Arc::new(validator(jwks(&[&k1]), &issuer, Duration::ZERO));
    let token = k2.sign(&claims());
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let (v, token) = (v.clone(), token.clone());
            tokio::spawn(async move { v.validate_refreshing(&token, NOW).await })
        })
        .collect();
    for attempt in attempts {
        assert!(attempt.await.unwrap().is_ok());
    }
    assert_eq!(issuer.calls(), 1);
}
