//! Pro Santé Connect tokens: the JWKS document, then a compact JWS checked against it (header,
//! payload, signature, claims). Input: JWKS JSON, a 0xFF byte, the token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mssd_auth::token::{ClaimExpectations, Jwks, TokenValidator, check_claims};

const ISS: &str = "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";
const NOW: i64 = 1_750_000_000;

fuzz_target!(|data: &[u8]| {
    let expectations = ClaimExpectations {
        issuer: ISS.to_owned(),
        audience: "mssd".to_owned(),
        leeway_secs: 60,
    };
    let _ = check_claims(data, &expectations, NOW);
    let (jwks, token) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(jwks) = Jwks::from_json(jwks) else {
        return;
    };
    let _ = jwks.select(None);
    let validator = TokenValidator::new(ISS.to_owned(), "mssd".to_owned(), jwks);
    if let Ok(token) = std::str::from_utf8(token) {
        let _ = validator.validate(token, NOW);
    }
});
