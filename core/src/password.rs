//! Password hashing for mailbox accounts: argon2id, PHC string format.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use rand::rngs::OsRng;

use crate::error::{Error, Result};
use crate::password_memory::MappedBlocks;

/// 16 bytes, the salt length recommended by RFC 9106.
const SALT_BYTES: usize = 16;

/// Hashes `plain` with argon2id (crate defaults: m=19 MiB, t=2, p=1, the OWASP minimum)
/// and a random salt from the operating system. Returns the PHC string
/// (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`). An empty password is refused.
pub fn hash_password(plain: &str) -> Result<String> {
    if plain.is_empty() {
        return Err(Error::PasswordHash {
            reason: "password is empty".to_owned(),
        });
    }
    let mut salt_bytes = [0u8; SALT_BYTES];
    OsRng
        .try_fill_bytes(&mut salt_bytes)
        .map_err(|e| Error::PasswordHash {
            reason: format!("no randomness from the operating system for the salt: {e}"),
        })?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| Error::PasswordHash {
        reason: format!("cannot encode the salt: {e}"),
    })?;
    let hash = Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .map_err(|e| Error::PasswordHash {
            reason: format!("argon2id failed: {e}"),
        })?;
    Ok(hash.to_string())
}

/// True when `plain` matches the PHC string `phc`. A malformed hash, or a hash of another
/// algorithm, gives false (fail closed). The comparison is constant-time.
/// Parameters are read from `phc`, so hashes made with older parameters still verify.
/// The working memory is mapped for this call only (see `password_memory`).
pub fn verify_password(phc: &str, plain: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    match verify_in_mapped_memory(&parsed, plain) {
        Some(matches) => matches,
        None => Argon2::default()
            .verify_password(plain.as_bytes(), &parsed)
            .is_ok(),
    }
}

/// The verification with memory of its own; None when the hash cannot be verified this way
/// (the allocator-backed path then decides, failing closed on anything malformed).
fn verify_in_mapped_memory(parsed: &PasswordHash<'_>, plain: &str) -> Option<bool> {
    let expected = parsed.hash?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::V0x13,
    };
    let params = Params::try_from(parsed).ok()?;
    let params = Params::new(
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        Some(expected.len()),
    )
    .ok()?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let blocks = MappedBlocks::new(params.block_count())?;
    let mut computed = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(plain.as_bytes(), salt, &mut computed, blocks)
        .ok()?;
    Some(constant_time_eq(&computed, expected.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        // The default parameters take the mapped-memory path, not the fallback.
        let parsed = PasswordHash::new(&phc).unwrap();
        assert_eq!(
            verify_in_mapped_memory(&parsed, "correct horse battery staple"),
            Some(true)
        );
        let cases = [
            ("correct horse battery staple", true),
            ("correct horse battery stapl", false),
            ("Correct horse battery staple", false),
            ("correct horse battery staple ", false),
            ("", false),
        ];
        for (attempt, expected) in cases {
            assert_eq!(verify_password(&phc, attempt), expected, "{attempt:?}");
        }
    }

    #[test]
    fn hashes_with_other_parameters_and_algorithms_verify_with_their_own() {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let cases = [
            (Algorithm::Argon2id, Params::new(8, 1, 1, None).unwrap()),
            (Algorithm::Argon2i, Params::new(64, 3, 2, Some(16)).unwrap()),
            (
                Algorithm::Argon2d,
                Params::new(1024, 2, 1, Some(64)).unwrap(),
            ),
        ];
        for (algorithm, params) in cases {
            let argon = Argon2::new(algorithm, Version::V0x13, params.clone());
            let phc = argon.hash_password(b"secret", &salt).unwrap().to_string();
            let parsed = PasswordHash::new(&phc).unwrap();
            assert_eq!(
                verify_in_mapped_memory(&parsed, "secret"),
                Some(true),
                "{phc}"
            );
            assert_eq!(
                verify_in_mapped_memory(&parsed, "secreT"),
                Some(false),
                "{phc}"
            );
            assert!(verify_password(&phc, "secret"));
            assert!(!verify_password(&phc, "Secret"));
        }
        for malformed in [
            "",
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdA",
            "plain text",
            "$scrypt$ln=4",
        ] {
            assert!(!verify_password(malformed, "secret"), "{malformed}");
        }
    }

    #[test]
    fn salts_differ_between_hashes() {
        let first = hash_password("mot de passe é").unwrap();
        let second = hash_password("mot de passe é").unwrap();
        assert_ne!(first, second);
        assert!(verify_password(&first, "mot de passe é"));
        assert!(verify_password(&second, "mot de passe é"));
    }

    #[test]
    fn empty_password_is_refused() {
        assert!(matches!(
            hash_password(""),
            Err(Error::PasswordHash { reason }) if reason == "password is empty"
        ));
    }

    #[test]
    fn malformed_or_foreign_hashes_never_verify() {
        let good = hash_password("secret").unwrap();
        let truncated = &good[..good.len() - 5];
        let other_algorithm = good.replacen("$argon2id$", "$pbkdf2-sha256$", 1);
        let cases = [
            "",
            "secret",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            truncated,
            &other_algorithm,
        ];
        for phc in cases {
            assert!(!verify_password(phc, "secret"), "{phc:?}");
        }
    }
}
