//! JWS compact serialization (RFC 7515 7.1) and signature verification with ring.

use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::token::base64url;
use crate::token::jwks::{Jwk, JwkKey};

/// The only algorithms accepted: what Pro Santé Connect (Keycloak) signs with, and ES256.
const ACCEPTED_ALGORITHMS: [&str; 2] = ["RS256", "ES256"];

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    /// RFC 7515 4.1.11: we understand no extension, so any `crit` is refused.
    crit: Option<serde_json::Value>,
}

/// A parsed, not yet verified, compact JWS.
pub(crate) struct CompactJws<'a> {
    pub(crate) alg: String,
    pub(crate) kid: Option<String>,
    /// `header "." payload` as sent: what the signature covers.
    signing_input: &'a [u8],
    pub(crate) payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Splits and decodes `header.payload.signature`, and refuses every algorithm but RS256
    /// and ES256 (`none` included).
    pub(crate) fn parse(token: &'a str) -> Result<CompactJws<'a>> {
        let mut parts = token.split('.');
        let (Some(header_part), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::malformed_token(
                "expected three base64url parts separated by dots",
            ));
        };
        let header_json =
            base64url::decode("header", header_part).map_err(Error::malformed_token)?;
        let header: Header = serde_json::from_slice(&header_json)
            .map_err(|e| Error::malformed_token(format!("header is not a JOSE header: {e}")))?;
        if !ACCEPTED_ALGORITHMS.contains(&header.alg.as_str()) {
            return Err(Error::TokenUnsupportedAlg {
                alg: header.alg.chars().take(16).collect(),
            });
        }
        if header.crit.is_some() {
            return Err(Error::malformed_token(
                "header has critical extensions (crit), none is supported",
            ));
        }
        Ok(CompactJws {
            alg: header.alg,
            kid: header.kid,
            signing_input: &token.as_bytes()[..header_part.len() + 1 + payload.len()],
            payload: base64url::decode("payload", payload).map_err(Error::malformed_token)?,
            signature: base64url::decode("signature", signature).map_err(Error::malformed_token)?,
        })
    }

    /// Verifies the signature with `key`, whose type must match the token's algorithm.
    pub(crate) fn verify(&self, key: &Jwk) -> Result<()> {
        if key.key.algorithm() != self.alg {
            return Err(Error::malformed_token(format!(
                "token algorithm {} does not match its key, which is for {}",
                self.alg,
                key.key.algorithm()
            )));
        }
        let verified = match &key.key {
            JwkKey::Rsa { n, e } => RsaPublicKeyComponents { n, e }.verify(
                &RSA_PKCS1_2048_8192_SHA256,
                self.signing_input,
                &self.signature,
            ),
            JwkKey::EcP256 { point } => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(self.signing_input, &self.signature),
        };
        verified.map_err(|_| Error::TokenBadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn part(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    /// (alg, kid) or the error.
    type Expected = std::result::Result<(&'static str, Option<&'static str>), Error>;

    #[test]
    fn parse_table() {
        let payload = part(r#"{"iss":"x"}"#);
        let rs = part(r#"{"alg":"RS256","kid":"k1"}"#);
        let cases: Vec<(String, Expected)> = vec![
            (format!("{rs}.{payload}.c2ln"), Ok(("RS256", Some("k1")))),
            (
                format!("{}.{payload}.c2ln", part(r#"{"alg":"ES256"}"#)),
                Ok(("ES256", None)),
            ),
            (
                format!("{}.{payload}.", part(r#"{"alg":"none"}"#)),
                Err(Error::TokenUnsupportedAlg { alg: "none".into() }),
            ),
            (
                format!("{}.{payload}.c2ln", part(r#"{"alg":"HS256"}"#)),
                Err(Error::TokenUnsupportedAlg {
                    alg: "HS256".into(),
                }),
            ),
            (
                format!("{}.{payload}.c2ln", part(r#"{"alg":"RS512"}"#)),
                Err(Error::TokenUnsupportedAlg {
                    alg: "RS512".into(),
                }),
            ),
            (
                format!(
                    "{}.{payload}.c2ln",
                    part(r#"{"alg":"RS256","crit":["exp"]}"#)
                ),
                Err(Error::malformed_token(
                    "header has critical extensions (crit), none is supported",
                )),
            ),
            (
                format!("{rs}.{payload}"),
                Err(Error::malformed_token(
                    "expected three base64url parts separated by dots",
                )),
            ),
            (
                format!("{rs}.{payload}.c2ln.x"),
                Err(Error::malformed_token(
                    "expected three base64url parts separated by dots",
                )),
            ),
            (
                format!("{}.{payload}.c2ln", part(r#"{"typ":"JWT"}"#)),
                Err(Error::malformed_token(
                    "header is not a JOSE header: missing field `alg` at line 1 column 13",
                )),
            ),
            (
                format!("{rs}.{payload}.c2ln="),
                Err(Error::malformed_token(
                    "signature is not base64url without padding: Invalid symbol 61, offset 4.",
                )),
            ),
        ];
        for (token, expected) in cases {
            let got = CompactJws::parse(&token).map(|jws| (jws.alg.clone(), jws.kid.clone()));
            match expected {
                Ok((alg, kid)) => {
                    let (got_alg, got_kid) = got.unwrap();
                    assert_eq!(got_alg, alg);
                    assert_eq!(got_kid.as_deref(), kid);
                }
                Err(e) => assert_eq!(got.err(), Some(e), "{token}"),
            }
        }
    }
}
