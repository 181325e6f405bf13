//! Pro Santé Connect access tokens: JWKS, JWS compact verification (RS256, ES256) and
//! claim checks.
//!
//! Only JWKS files are read for now. [`TokenValidator::replace_jwks`] swaps the key set
//! atomically, so a later URL fetcher (refresh loop) can plug in without changing callers.

mod base64url;
mod claims;
mod jwks;
mod jws;
#[cfg(test)]
pub(crate) mod test_signer;
mod validator;

pub use claims::{
    ClaimExpectations, VerifiedCitizenToken, VerifiedToken, check_citizen_claims, check_claims,
};
pub use jwks::{Jwk, JwkKey, Jwks};
pub use validator::{LEEWAY_SECS, MAX_TOKEN_OCTETS, TokenValidator};
