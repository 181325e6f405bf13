//! JSON Web Key Sets (RFC 7517): the issuer's public signing keys.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::token::base64url;

/// ring verifies RS256 only with moduli of 2048 bits or more.
const MIN_RSA_MODULUS_OCTETS: usize = 256;
/// A P-256 coordinate.
const P256_COORDINATE_OCTETS: usize = 32;
/// A JWKS file is small; refuse anything absurd before parsing it.
const MAX_JWKS_OCTETS: u64 = 1024 * 1024;

/// The public part of a signing key.
#[derive(Clone, PartialEq, Eq)]
pub enum JwkKey {
    /// RS256: modulus and public exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// ES256: the uncompressed point `04 || x || y`.
    EcP256 { point: Vec<u8> },
}

impl JwkKey {
    /// The JWS algorithm this key verifies.
    pub fn algorithm(&self) -> &'static str {
        match self {
            JwkKey::Rsa { .. } => "RS256",
            JwkKey::EcP256 { .. } => "ES256",
        }
    }
}

impl fmt::Debug for JwkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwkKey::Rsa { n, .. } => write!(f, "Rsa({} bits)", n.len() * 8),
            JwkKey::EcP256 { .. } => f.write_str("EcP256"),
        }
    }
}

/// One usable signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    pub key: JwkKey,
}

/// The signing keys of an issuer. Keys for encryption (`"use": "enc"`), of other types or
/// curves, or bound to other algorithms are skipped; a malformed RSA or P-256 key makes
/// the whole set invalid (fail closed: the operator must see it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl Jwks {
    /// Parses a JWKS document `{"keys": [...]}`.
    pub fn from_json(json: &[u8]) -> Result<Jwks> {
        let raw: RawJwks = serde_json::from_slice(json)
            .map_err(|e| Error::jwks(format!("not a JSON object with a \"keys\" array: {e}")))?;
        let mut keys = Vec::new();
        for (index, raw_key) in raw.keys.iter().enumerate() {
            if let Some(key) = signing_key(raw_key).map_err(|reason| {
                let name = raw_key.kid.as_deref().unwrap_or("(no kid)");
                Error::jwks(format!("key #{index} {name:?}: {reason}"))
            })? {
                keys.push(Jwk {
                    kid: raw_key.kid.clone(),
                    key,
                });
            }
        }
        if keys.is_empty() {
            return Err(Error::jwks("no RS256 or ES256 signing key"));
        }
        Ok(Jwks { keys })
    }

    /// Reads and parses a JWKS file.
    pub fn load(path: &Path) -> Result<Jwks> {
        let io = |reason: String| Error::JwksIo {
            path: path.display().to_string(),
            reason,
        };
        let size = std::fs::metadata(path)
            .map_err(|e| io(e.to_string()))?
            .len();
        if size > MAX_JWKS_OCTETS {
            return Err(io(format!(
                "{size} bytes, larger than the {MAX_JWKS_OCTETS} allowed"
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| io(e.to_string()))?;
        Jwks::from_json(&bytes)
    }

    /// No key at all: what a validator holds while its issuer's JWKS could not be fetched
    /// yet (every token is refused with [`Error::TokenNoKeys`] until it can).
    pub fn empty() -> Jwks {
        Jwks { keys: Vec::new() }
    }

    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The key a token names by `kid`; without a kid, the only key of the set.
    pub fn select(&self, kid: Option<&str>) -> Result<&Jwk> {
        if self.keys.is_empty() {
            return Err(Error::TokenNoKeys);
        }
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| Error::TokenUnknownKid {
                    kid: kid.chars().take(64).collect(),
                }),
            None => match self.keys.as_slice() {
                [only] => Ok(only),
                keys => Err(Error::malformed_token(format!(
                    "token header has no kid and the JWKS holds {} keys",
                    keys.len()
                ))),
            },
        }
    }
}

/// `Ok(None)` for a key we do not use, `Err` for a key we should use but cannot read.
fn signing_key(raw: &RawJwk) -> std::result::Result<Option<JwkKey>, String> {
    if raw.usage.as_deref().is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let key = match (raw.kty.as_str(), raw.crv.as_deref()) {
        ("RSA", _) => rsa_key(raw)?,
        ("EC", Some("P-256")) => ec_key(raw)?,
        _ => return Ok(None),
    };
    match raw.alg.as_deref() {
        Some(alg) if alg != key.algorithm() => Ok(None),
        _ => Ok(Some(key)),
    }
}

fn rsa_key(raw: &RawJwk) -> std::result::Result<JwkKey, String> {
    let n = strip_leading_zeros(base64url::decode("n", required(&raw.n, "n")?)?);
    let e = strip_leading_zeros(base64url::decode("e", required(&raw.e, "e")?)?);
    if n.len() < MIN_RSA_MODULUS_OCTETS {
        return Err(format!(
            "RSA modulus is {} bits, fewer than the 2048 required",
            n.len() * 8
        ));
    }
    if e.is_empty() {
        return Err("RSA exponent is zero".to_owned());
    }
    Ok(JwkKey::Rsa { n, e })
}

fn ec_key(raw: &RawJwk) -> std::result::Result<JwkKey, String> {
    let x = base64url::decode("x", required(&raw.x, "x")?)?;
    let y = base64url::decode("y", required(&raw.y, "y")?)?;
    if x.len() != P256_COORDINATE_OCTETS || y.len() != P256_COORDINATE_OCTETS {
        return Err(format!(
            "P-256 coordinates must be {P256_COORDINATE_OCTETS} bytes, got x {} and y {}",
            x.len(),
            y.len()
        ));
    }
    let mut point = Vec::with_capacity(1 + 2 * P256_COORDINATE_OCTETS);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Ok(JwkKey::EcP256 { point })
}

fn required<'a>(value: &'a Option<String>, name: &str) -> std::result::Result<&'a str, String> {
    value
        .as_deref()
        .ok_or_else(|| format!("member {name:?} is missing"))
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.drain(..zeros);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn from_json_table() {
        let n = b64(&[0xab; 256]);
        let n_zero_padded = b64(&[[0u8].as_slice(), &[0xab; 256]].concat());
        let short_n = b64(&[0xab; 128]);
        let x = b64(&[1; 32]);
        let y = b64(&[2; 32]);
        let rsa =
            format!(r#"{{"kty":"RSA","kid":"r1","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}}"#);
        let ec = format!(r#"{{"kty":"EC","kid":"e1","crv":"P-256","x":"{x}","y":"{y}"}}"#);
        let enc = format!(r#"{{"kty":"RSA","kid":"enc","use":"enc","n":"{n}","e":"AQAB"}}"#);
        let p384 = format!(r#"{{"kty":"EC","kid":"p384","crv":"P-384","x":"{x}","y":"{y}"}}"#);
        let rs512 = format!(r#"{{"kty":"RSA","kid":"rs512","alg":"RS512","n":"{n}","e":"AQAB"}}"#);
        let okp = r#"{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"AA"}"#.to_owned();
        // (json, Ok(kids) or Err(message))
        let cases: Vec<(String, std::result::Result<Vec<&str>, String>)> = vec![
            (format!(r#"{{"keys":[{rsa},{ec}]}}"#), Ok(vec!["r1", "e1"])),
            (format!(r#"{{"keys":[{enc},{p384},{rs512},{okp},{ec}]}}"#), Ok(vec!["e1"])),
            (
                format!(r#"{{"keys":[{{"kty":"RSA","kid":"z","n":"{n_zero_padded}","e":"AAEAAQ"}}]}}"#),
                Ok(vec!["z"]),
            ),
            (r#"{"keys":[]}"#.to_owned(), Err("invalid JWKS: no RS256 or ES256 signing key".into())),
            (format!(r#"{{"keys":[{enc}]}}"#), Err("invalid JWKS: no RS256 or ES256 signing key".into())),
            (
                format!(r#"{{"keys":[{{"kty":"RSA","kid":"s","n":"{short_n}","e":"AQAB"}}]}}"#),
                Err("invalid JWKS: key #0 \"s\": RSA modulus is 1024 bits, fewer than the 2048 required".into()),
            ),
            (
                r#"{"keys":[{"kty":"RSA","e":"AQAB"}]}"#.to_owned(),
                Err("invalid JWKS: key #0 \"(no kid)\": member \"n\" is missing".into()),
            ),
            (
                format!(r#"{{"keys":[{{"kty":"EC","kid":"c","crv":"P-256","x":"{x}","y":"AQAB"}}]}}"#),
                Err("invalid JWKS: key #0 \"c\": P-256 coordinates must be 32 bytes, got x 32 and y 3".into()),
            ),
            (
                format!(r#"{{"keys":[{{"kty":"RSA","kid":"p","n":"{n}=","e":"AQAB"}}]}}"#),
                Err("invalid JWKS: key #0 \"p\": n is not base64url without padding: Invalid padding".into()),
            ),
        ];
        for (json, expected) in cases {
            let got = Jwks::from_json(json.as_bytes());
            match expected {
                Ok(kids) => {
                    let jwks = got.unwrap_or_else(|e| panic!("{json}: {e}"));
                    let got_kids: Vec<_> = jwks
                        .keys()
                        .iter()
                        .map(|k| k.kid.as_deref().unwrap())
                        .collect();
                    assert_eq!(got_kids, kids, "{json}");
                    for key in jwks.keys() {
                        if let JwkKey::Rsa { n, e } = &key.key {
                            assert_eq!(n.len(), 256);
                            assert_eq!(e, &[1, 0, 1]);
                        }
                    }
                }
                Err(message) => assert_eq!(got.unwrap_err().to_string(), message, "{json}"),
            }
        }
        for not_a_jwks in ["", "[]", "{}", r#"{"keys":{}}"#, "nope"] {
            let err = Jwks::from_json(not_a_jwks.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("invalid JWKS: not a JSON object"),
                "{not_a_jwks:?}: {err}"
            );
        }
    }

    #[test]
    fn select_table() {
        let x = b64(&[1; 32]);
        let key = |kid: &str| {
            format!(r#"{{"kty":"EC","kid":"{kid}","crv":"P-256","x":"{x}","y":"{x}"}}"#)
        };
        let two = Jwks::from_json(format!(r#"{{"keys":[{},{}]}}"#, key("a"), key("b")).as_bytes())
            .unwrap();
        let one = Jwks::from_json(format!(r#"{{"keys":[{}]}}"#, key("a")).as_bytes()).unwrap();
        assert_eq!(two.select(Some("b")).unwrap().kid.as_deref(), Some("b"));
        assert_eq!(one.select(None).unwrap().kid.as_deref(), Some("a"));
        assert_eq!(
            two.select(Some("c")),
            Err(Error::TokenUnknownKid { kid: "c".into() })
        );
        assert_eq!(
            two.select(None).unwrap_err().to_string(),
            "malformed token: token header has no kid and the JWKS holds 2 keys"
        );
    }

    #[test]
    fn load_reads_a_file_and_names_it_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwks.json");
        let x = b64(&[1; 32]);
        std::fs::write(
            &path,
            format!(r#"{{"keys":[{{"kty":"EC","kid":"k","crv":"P-256","x":"{x}","y":"{x}"}}]}}"#),
        )
        .unwrap();
        assert_eq!(Jwks::load(&path).unwrap().keys().len(), 1);
        let missing = dir.path().join("missing.json");
        match Jwks::load(&missing) {
            Err(Error::JwksIo { path, .. }) => assert!(path.ends_with("missing.json")),
            other => panic!("{other:?}"),
        }
    }
}
