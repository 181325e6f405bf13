//! Checks of the claims of a verified token, and the identity it carries.

use mssd_core::IdNatPs;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What a token must say to be accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimExpectations {
    pub issuer: String,
    /// `aud` (a string or an array) must contain it, and `azp`, when present, must be it: a
    /// token issued to another service of the same issuer opens nothing here.
    pub audience: String,
    /// Tolerated clock difference with the issuer, in seconds.
    pub leeway_secs: i64,
}

/// What mssd keeps of an accepted token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    /// From `SubjectNameID`, else `preferred_username`.
    pub id_nat_ps: IdNatPs,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
}

/// The claims naming the professional, in order of preference (Pro Santé Connect).
const IDENTITY_CLAIMS: [&str; 2] = ["SubjectNameID", "preferred_username"];

/// Checks `iss`, `exp`, `nbf`, `iat`, `aud` and `azp` of a JSON claims set against `expected` at
/// `now` (Unix seconds), then reads the idNat_PS.
pub fn check_claims(
    payload: &[u8],
    expected: &ClaimExpectations,
    now: i64,
) -> Result<VerifiedToken> {
    let (claims, exp) = check_standard_claims(payload, expected, now)?;
    Ok(VerifiedToken {
        id_nat_ps: identity(&claims)?,
        expires_at: exp,
    })
}

/// What mssd keeps of an accepted citizen token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCitizenToken {
    /// From the configured claim.
    pub ins: mssd_core::Ins,
    pub expires_at: i64,
}

/// The standard checks, then the citizen's INS from `claim` (a matricule INS, checked).
pub fn check_citizen_claims(
    payload: &[u8],
    expected: &ClaimExpectations,
    now: i64,
    claim: &str,
) -> Result<VerifiedCitizenToken> {
    let (claims, exp) = check_standard_claims(payload, expected, now)?;
    let value = match claims.get(claim) {
        Some(Value::String(v)) => v,
        Some(_) => {
            return Err(Error::malformed_token(format!(
                "claim {claim} is not a string"
            )));
        }
        None => {
            return Err(Error::malformed_token(format!(
                "claim {claim} (the INS) is missing"
            )));
        }
    };
    let ins = mssd_core::Ins::parse(value).map_err(|e| {
        Error::malformed_token(format!("claim {claim} is not a matricule INS: {e}"))
    })?;
    Ok(VerifiedCitizenToken {
        ins,
        expires_at: exp,
    })
}

/// `iss`, `exp`, `nbf`, `iat`, `aud`, `azp`: the claims and `exp`.
fn check_standard_claims(
    payload: &[u8],
    expected: &ClaimExpectations,
    now: i64,
) -> Result<(Map<String, Value>, i64)> {
    let claims: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|e| Error::malformed_token(format!("payload is not a JSON object: {e}")))?;
    let leeway = expected.leeway_secs;

    let issuer = match claims.get("iss") {
        Some(Value::String(iss)) => iss,
        Some(_) => return Err(Error::malformed_token("claim iss is not a string")),
        None => return Err(Error::malformed_token("claim iss is missing")),
    };
    if *issuer != expected.issuer {
        return Err(Error::TokenWrongIssuer {
            expected: expected.issuer.clone(),
            found: issuer.chars().take(200).collect(),
        });
    }

    let exp = time_claim(&claims, "exp")?
        .ok_or_else(|| Error::malformed_token("claim exp is missing"))?;
    if now >= exp.saturating_add(leeway) {
        return Err(Error::TokenExpired {
            exp,
            now,
            leeway_secs: leeway,
        });
    }
    for claim in ["nbf", "iat"] {
        if let Some(value) = time_claim(&claims, claim)?
            && value > now.saturating_add(leeway)
        {
            return Err(Error::TokenNotYetValid {
                claim,
                value,
                now,
                leeway_secs: leeway,
            });
        }
    }

    let found = audiences(&claims)?;
    if !found.contains(&expected.audience) {
        return Err(Error::TokenWrongAudience {
            expected: expected.audience.clone(),
            found: found.into_iter().take(10).collect(),
        });
    }
    // OpenID Connect Core 2: azp is the party the token was issued to.
    match claims.get("azp") {
        None => {}
        Some(Value::String(azp)) if *azp == expected.audience => {}
        Some(Value::String(azp)) => {
            return Err(Error::TokenWrongAuthorizedParty {
                expected: expected.audience.clone(),
                found: azp.chars().take(200).collect(),
            });
        }
        Some(_) => return Err(Error::malformed_token("claim azp is not a string")),
    }
    Ok((claims, exp))
}

/// The `iss` a payload claims, before any check: only to decide whether a token is worth a
/// key refresh, never to accept it.
pub(crate) fn unverified_issuer(payload: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Issuer {
        iss: Option<String>,
    }
    serde_json::from_slice::<Issuer>(payload).ok()?.iss
}

/// A NumericDate (RFC 7519 2): seconds, possibly with a fraction (dropped).
fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .map(Some)
            .ok_or_else(|| Error::malformed_token(format!("claim {name} is out of range"))),
        Some(_) => Err(Error::malformed_token(format!(
            "claim {name} is not a number"
        ))),
    }
}

fn audiences(claims: &Map<String, Value>) -> Result<Vec<String>> {
    match claims.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(aud)) => Ok(vec![aud.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(aud) => Ok(aud.clone()),
                _ => Err(Error::malformed_token("claim aud holds a non-string")),
            })
            .collect(),
        Some(_) => Err(Error::malformed_token(
            "claim aud is neither a string nor an array",
        )),
    }
}

fn identity(claims: &Map<String, Value>) -> Result<IdNatPs> {
    let (claim, value) = IDENTITY_CLAIMS
        .into_iter()
        .find_map(|claim| claims.get(claim).map(|value| (claim, value)))
        .ok_or(Error::TokenNoIdentity)?;
    let text = value.as_str().ok_or_else(|| Error::TokenBadIdentity {
        claim,
        reason: "not a string".to_owned(),
    })?;
    // Core errors redact their input already.
    IdNatPs::parse(text).map_err(|e| Error::TokenBadIdentity {
        claim,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";
    const NOW: i64 = 1_750_000_000;
    const RPPS_ID: &str = "810001045367";

    fn expectations(audience: Option<&str>) -> ClaimExpectations {
        ClaimExpectations {
            issuer: ISS.to_owned(),
            audience: audience.unwrap_or("mssd").to_owned(),
            leeway_secs: 60,
        }
    }

    #[test]
    fn claims_table() {
        let ok = |exp: i64| {
            Ok(VerifiedToken {
                id_nat_ps: IdNatPs::parse(RPPS_ID).unwrap(),
                expires_at: exp,
            })
        };
        let exp = NOW + 300;
        let cases: Vec<(String, Option<&str>, Result<VerifiedToken>)> = vec![
            (format!(r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":"{RPPS_ID}"}}"#), None, ok(exp)),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"preferred_username":"{RPPS_ID}","aud":"mssd"}}"#),
                Some("mssd"),
                ok(exp),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp}.9,"SubjectNameID":"{RPPS_ID}","aud":["a","mssd"]}}"#),
                Some("mssd"),
                ok(exp),
            ),
            // SubjectNameID wins over preferred_username.
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":"{RPPS_ID}","preferred_username":"x"}}"#),
                None,
                ok(exp),
            ),
            // Within the leeway.
            (
                format!(r#"{{"iss":"{ISS}","exp":{},"nbf":{},"iat":{},"SubjectNameID":"{RPPS_ID}"}}"#, NOW - 59, NOW + 60, NOW + 60),
                None,
                ok(NOW - 59),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{},"SubjectNameID":"{RPPS_ID}"}}"#, NOW - 60),
                None,
                Err(Error::TokenExpired { exp: NOW - 60, now: NOW, leeway_secs: 60 }),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"nbf":{},"SubjectNameID":"{RPPS_ID}"}}"#, NOW + 61),
                None,
                Err(Error::TokenNotYetValid { claim: "nbf", value: NOW + 61, now: NOW, leeway_secs: 60 }),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"iat":{},"SubjectNameID":"{RPPS_ID}"}}"#, NOW + 3600),
                None,
                Err(Error::TokenNotYetValid { claim: "iat", value: NOW + 3600, now: NOW, leeway_secs: 60 }),
            ),
            (
                format!(r#"{{"iss":"https://evil.example","exp":{exp},"SubjectNameID":"{RPPS_ID}"}}"#),
                None,
                Err(Error::TokenWrongIssuer { expected: ISS.into(), found: "https://evil.example".into() }),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":"{RPPS_ID}","aud":["a","b"]}}"#),
                Some("mssd"),
                Err(Error::TokenWrongAudience { expected: "mssd".into(), found: vec!["a".into(), "b".into()] }),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":"{RPPS_ID}"}}"#),
                Some("mssd"),
                Err(Error::TokenWrongAudience { expected: "mssd".into(), found: vec![] }),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"aud":7,"SubjectNameID":"{RPPS_ID}"}}"#),
                Some("mssd"),
                Err(Error::malformed_token("claim aud is neither a string nor an array")),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp}}}"#),
                None,
                Err(Error::TokenNoIdentity),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":12}}"#),
                None,
                Err(Error::TokenBadIdentity { claim: "SubjectNameID", reason: "not a string".into() }),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":"99"}}"#),
                None,
                Err(Error::TokenBadIdentity {
                    claim: "SubjectNameID",
                    reason: "invalid idNat_PS \"99\": unknown prefix '9': expected 8 (RPPS) or 0 (ADELI)".into(),
                }),
            ),
            (
                format!(r#"{{"iss":"{ISS}","SubjectNameID":"{RPPS_ID}"}}"#),
                None,
                Err(Error::malformed_token("claim exp is missing")),
            ),
            (
                format!(r#"{{"iss":"{ISS}","exp":"soon","SubjectNameID":"{RPPS_ID}"}}"#),
                None,
                Err(Error::malformed_token("claim exp is not a number")),
            ),
            (
                format!(r#"{{"exp":{exp},"SubjectNameID":"{RPPS_ID}"}}"#),
                None,
                Err(Error::malformed_token("claim iss is missing")),
            ),
            (
                format!(r#"{{"iss":["{ISS}"],"exp":{exp}}}"#),
                None,
                Err(Error::malformed_token("claim iss is not a string")),
            ),
        ];
        let more: Vec<(String, Option<&str>, Result<VerifiedToken>)> = vec![
            (
                format!(
                    r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":"{RPPS_ID}","aud":"mssd","azp":"mssd"}}"#
                ),
                Some("mssd"),
                ok(exp),
            ),
            (
                format!(
                    r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":"{RPPS_ID}","aud":["mssd","other"],"azp":"other"}}"#
                ),
                Some("mssd"),
                Err(Error::TokenWrongAuthorizedParty {
                    expected: "mssd".into(),
                    found: "other".into(),
                }),
            ),
            (
                format!(
                    r#"{{"iss":"{ISS}","exp":{exp},"SubjectNameID":"{RPPS_ID}","aud":"mssd","azp":1}}"#
                ),
                Some("mssd"),
                Err(Error::malformed_token("claim azp is not a string")),
            ),
        ];
        for (payload, audience, expected) in cases.into_iter().chain(more) {
            // Cases about other claims: give them the audience every token needs now.
            let payload = match audience {
                None if !payload.contains("\"aud\"") => {
                    payload.replacen('{', r#"{"aud":"mssd","#, 1)
                }
                _ => payload,
            };
            assert_eq!(
                check_claims(payload.as_bytes(), &expectations(audience), NOW),
                expected,
                "{payload}"
            );
        }
        let err = check_claims(b"[1]", &expectations(None), NOW).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("malformed token: payload is not a JSON object"),
            "{err}"
        );
    }
}
