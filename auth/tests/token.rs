//! XOAUTH2 and OAUTHBEARER with tokens signed at test time (ring), against a real store.

mod common;

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use common::test_signer::{TestSigner, unsigned_token};
use common::{Fixture, MailboxSpec, ctx, sasl};
use mssd_auth::{
    AuthConfig, Credentials, FailureReason, Jwks, Mechanism, OidcSettings, SaslExchange, Step,
};
use mssd_core::{IdNatPs, Identity, MailboxKind};
use mssd_store::{MailboxStatus, Store};
use serde_json::{Value, json};

const ISS: &str = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";
const AUDIENCE: &str = "mssd-hopital";
/// Owns one mailbox.
const DR_MARTIN: &str = "810999999997";
/// Owns two mailboxes, one of them suspended.
const DR_DURAND: &str = "810001045367";
const MARTIN_BOX: &str = "dr.martin@hopital.test.mssante.fr";
const DURAND_BOX: &str = "dr.durand@hopital.test.mssante.fr";
const DURAND_OLD: &str = "durand.ancien@hopital.test.mssante.fr";

fn rsa_signer() -> &'static TestSigner {
    static SIGNER: OnceLock<TestSigner> = OnceLock::new();
    SIGNER.get_or_init(|| TestSigner::rs256("psc-rsa"))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(id_nat: &str) -> Value {
    json!({
        "iss": ISS, "exp": now() + 300, "iat": now(), "aud": [AUDIENCE, "account"],
        "SubjectNameID": id_nat, "acr": "eidas1",
    })
}

fn xoauth2(user: &str, token: &str) -> Credentials {
    sasl(
        Mechanism::Xoauth2,
        format!("user={user}\x01auth=Bearer {token}\x01\x01").as_bytes(),
    )
}

fn oauthbearer(authzid: Option<&str>, token: &str) -> Credentials {
    let gs2 = authzid.map_or("n,,".to_owned(), |a| format!("n,a={a},"));
    sasl(
        Mechanism::OauthBearer,
        format!("{gs2}\x01host=mail.test\x01port=993\x01auth=Bearer {token}\x01\x01").as_bytes(),
    )
}

async fn fixture() -> (Fixture, TestSigner) {
    let fx = Fixture::new();
    for (address, owner) in [
        (MARTIN_BOX, DR_MARTIN),
        (DURAND_BOX, DR_DURAND),
        (DURAND_OLD, DR_DURAND),
    ] {
        fx.add(MailboxSpec {
            owner: Some(owner),
            ..MailboxSpec::new(address, MailboxKind::Per)
        })
        .await;
    }
    fx.store
        .set_mailbox_status(&DURAND_OLD.parse().unwrap(), MailboxStatus::Suspended)
        .await
        .unwrap();
    (fx, TestSigner::es256("psc-ec"))
}

fn oidc(signers: &[&TestSigner]) -> AuthConfig {
    let jwks = Jwks::from_json(&TestSigner::jwks_json(signers)).unwrap();
    AuthConfig {
        oidc: Some(OidcSettings::new(ISS.to_owned(), AUDIENCE.to_owned(), jwks)),
        ..AuthConfig::default()
    }
}

/// Ok((mailbox, idNat_PS)) or Err((reason, detail fragment)).
type Expected = Result<(&'static str, &'static str), (FailureReason, &'static str)>;

#[tokio::test]
async fn bearer_outcomes_table() {
    let (fx, ec) = fixture().await;
    let rs = rsa_signer();
    let stranger = TestSigner::es256("psc-ec");
    let auth = fx.authenticator(oidc(&[&ec, rs]));
    assert_eq!(
        auth.mechanisms(true, false),
        [
            Mechanism::Xoauth2,
            Mechanism::OauthBearer,
            Mechanism::Plain,
            Mechanism::Login
        ]
    );
    let mut expired = claims(DR_MARTIN);
    expired["exp"] = json!(now() - 120);
    let mut wrong_issuer = claims(DR_MARTIN);
    wrong_issuer["iss"] = json!("https://auth.esw.esante.gouv.fr/auth/realms/other");
    let mut wrong_audience = claims(DR_MARTIN);
    wrong_audience["aud"] = json!("another-operator");
    // Issued to another service that also lists us in aud: azp names the real client.
    let mut other_party = claims(DR_MARTIN);
    other_party["azp"] = json!("another-service");
    let mut without_aud = claims(DR_MARTIN);
    without_aud.as_object_mut().unwrap().remove("aud");
    let mut preferred = claims(DR_MARTIN);
    preferred.as_object_mut().unwrap().remove("SubjectNameID");
    preferred["preferred_username"] = json!(DR_MARTIN);

    let martin = Ok((MARTIN_BOX, DR_MARTIN));
    let rejected = |detail: &'static str| Err((FailureReason::TokenRejected, detail));
    let cases: Vec<(&str, Credentials, Expected)> = vec![
        (
            "xoauth2 ES256",
            xoauth2(MARTIN_BOX, &ec.sign(&claims(DR_MARTIN))),
            martin,
        ),
        (
            "xoauth2 RS256",
            xoauth2(MARTIN_BOX, &rs.sign(&claims(DR_MARTIN))),
            martin,
        ),
        (
            "oauthbearer a=",
            oauthbearer(Some(MARTIN_BOX), &rs.sign(&claims(DR_MARTIN))),
            martin,
        ),
        (
            "oauthbearer, only mailbox",
            oauthbearer(None, &ec.sign(&claims(DR_MARTIN))),
            martin,
        ),
        (
            "preferred_username",
            xoauth2(MARTIN_BOX, &ec.sign(&preferred)),
            martin,
        ),
        (
            "oauthbearer names one of two",
            oauthbearer(Some(DURAND_BOX), &ec.sign(&claims(DR_DURAND))),
            Ok((DURAND_BOX, DR_DURAND)),
        ),
        (
            "expired",
            xoauth2(MARTIN_BOX, &ec.sign(&expired)),
            rejected("token expired"),
        ),
        (
            "wrong issuer",
            oauthbearer(None, &ec.sign(&wrong_issuer)),
            rejected("is not the configured issuer"),
        ),
        (
            "wrong audience",
            xoauth2(MARTIN_BOX, &rs.sign(&wrong_audience)),
            rejected("does not contain the configured audience"),
        ),
        (
            "azp names another service",
            xoauth2(MARTIN_BOX, &rs.sign(&other_party)),
            rejected("(azp), not to the configured audience"),
        ),
        (
            "no aud at all",
            xoauth2(MARTIN_BOX, &rs.sign(&without_aud)),
            rejected("does not contain the configured audience"),
        ),
        (
            "bad signature",
            xoauth2(MARTIN_BOX, &stranger.sign(&claims(DR_MARTIN))),
            rejected("signature does not verify"),
        ),
        (
            "alg none",
            xoauth2(MARTIN_BOX, &unsigned_token(&claims(DR_MARTIN))),
            rejected("\"none\" is not accepted"),
        ),
        (
            "garbage",
            xoauth2(MARTIN_BOX, "abc.def.ghi"),
            rejected("malformed token"),
        ),
        (
            "someone else's mailbox",
            xoauth2(DURAND_BOX, &ec.sign(&claims(DR_MARTIN))),
            Err((FailureReason::InvalidCredentials, "owns no mailbox")),
        ),
        (
            "two mailboxes, none named",
            oauthbearer(None, &ec.sign(&claims(DR_DURAND))),
            Err((
                FailureReason::InvalidCredentials,
                "owns 2 mailboxes and the client named none",
            )),
        ),
        (
            "suspended mailbox",
            oauthbearer(Some(DURAND_OLD), &ec.sign(&claims(DR_DURAND))),
            Err((FailureReason::MailboxSuspended, "suspended")),
        ),
    ];
    let expected_json = json!({"status": "invalid_token", "schemes": "bearer", "scope": "openid"});
    let count = cases.len();
    for (i, (name, credentials, expected)) in cases.into_iter().enumerate() {
        let mechanism = credentials.mechanism();
        let peer = format!("192.0.2.{}:7000", i + 1);
        let got = auth
            .authenticate(credentials, &ctx(&peer, true, None))
            .await;
        match (got, expected) {
            (Ok(ok), Ok((address, id_nat))) => {
                assert_eq!(ok.mailbox.address.as_str(), address, "{name}");
                assert_eq!(
                    ok.identity,
                    Identity::Professional {
                        id_nat_ps: IdNatPs::parse(id_nat).unwrap()
                    },
                    "{name}"
                );
                assert_eq!(ok.mechanism, mechanism, "{name}");
            }
            (Err(failure), Err((reason, detail))) => {
                assert_eq!(failure.reason, reason, "{name}: {failure:?}");
                assert!(
                    failure.detail.contains(detail),
                    "{name}: {}",
                    failure.detail
                );
                let challenge: Value =
                    serde_json::from_str(failure.bearer_challenge().expect(name)).unwrap();
                assert_eq!(challenge, expected_json, "{name}");
            }
            (got, expected) => panic!("{name}: got {got:?}, expected {expected:?}"),
        }
    }
    let events = fx.audit().await;
    assert_eq!(events.len(), count);
    assert_eq!(events[0].kind, "auth.success");
    assert_eq!(events[0].detail["mechanism"], "XOAUTH2");
    assert_eq!(
        events[0].detail["identity"],
        format!("professional id_nat_ps=\"{DR_MARTIN}\"")
    );
    assert_eq!(events[6].kind, "auth.failure");
    assert_eq!(events[6].detail["reason"], "token_rejected");
    assert_eq!(events[6].subject, MARTIN_BOX);
    // The token never reaches the audit trail.
    for event in &events {
        assert!(
            !event.detail.to_string().contains("eyJ"),
            "{:?}",
            event.detail
        );
    }
}

#[tokio::test]
async fn failed_bearer_exchange_runs_to_the_end_of_rfc_7628() {
    let (fx, ec) = fixture().await;
    let auth = fx.authenticator(oidc(&[&ec]));
    let mut expired = claims(DR_MARTIN);
    expired["exp"] = json!(now() - 3600);
    let message = format!(
        "n,a={MARTIN_BOX},\x01auth=Bearer {}\x01\x01",
        ec.sign(&expired)
    );
    let (mut exchange, step) =
        SaslExchange::start(Mechanism::OauthBearer, Some(message.as_bytes()));
    let Step::Done(credentials) = step else {
        panic!("{step:?}")
    };
    let failure = auth
        .authenticate(credentials, &ctx("192.0.2.99:1", true, None))
        .await
        .unwrap_err();
    let challenge = failure.bearer_challenge().unwrap().to_owned();
    assert_eq!(
        exchange.reject_bearer(&challenge),
        Step::Challenge(challenge.into_bytes())
    );
    assert_eq!(
        exchange.step(b"\x01"),
        Step::Failed(mssd_auth::Error::SaslTokenRejected)
    );
}

#[tokio::test]
async fn bearer_is_not_offered_nor_accepted_without_an_issuer() {
    let (fx, ec) = fixture().await;
    let auth = fx.authenticator(AuthConfig::default());
    assert!(!auth.mechanisms(true, false).contains(&Mechanism::Xoauth2));
    let failure = auth
        .authenticate(
            xoauth2(MARTIN_BOX, &ec.sign(&claims(DR_MARTIN))),
            &ctx("192.0.2.1:1", true, None),
        )
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::MechanismNotAllowed);
    assert!(failure.bearer_challenge().is_some());
}

#[tokio::test]
async fn replacing_the_jwks_takes_effect_for_new_attempts() {
    let (fx, ec) = fixture().await;
    let rotated = TestSigner::es256("psc-ec-2");
    let auth = fx.authenticator(oidc(&[&ec]));
    let token = rotated.sign(&claims(DR_MARTIN));
    let failure = auth
        .authenticate(xoauth2(MARTIN_BOX, &token), &ctx("192.0.2.1:1", true, None))
        .await
        .unwrap_err();
    assert!(failure.detail.contains("psc-ec-2"), "{}", failure.detail);
    auth.token_validator()
        .unwrap()
        .replace_jwks(Jwks::from_json(&TestSigner::jwks_json(&[&rotated])).unwrap());
    auth.authenticate(xoauth2(MARTIN_BOX, &token), &ctx("192.0.2.1:1", true, None))
        .await
        .unwrap();
}
