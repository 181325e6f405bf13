//! Pro Santé Connect access tokens: JWKS, JWS compact verification (RS256, ES256) and
//! claim checks.
//!
//! Keys come from a JWKS file, or from the issuer's URL through a [`JwksFetcher`] the server
//! implements: [`TokenValidator::replace_jwks`] swaps the set atomically (the periodic
//! refresh), and a token naming an unknown key makes the validator fetch once, rate-limited
//! ([`KeySource`]).

mod base64url;
mod claims;
mod jwks;
mod jws;
mod refresh;
#[cfg(test)]
mod refresh_tests;
#[cfg(test)]
pub(crate) mod test_signer;
mod validator;

pub use claims::{
    ClaimExpectations, VerifiedCitizenToken, VerifiedToken, check_citizen_claims, check_claims,
};
pub use jwks::{Jwk, JwkKey, Jwks};
pub use refresh::{JwksFetcher, KeySource, UNKNOWN_KID_REFRESH_INTERVAL};
pub use validator::{LEEWAY_SECS, MAX_TOKEN_OCTETS, TokenValidator};
