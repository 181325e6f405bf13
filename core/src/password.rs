//! Password hashing for mailbox accounts: argon2id, PHC string format.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use rand::rngs::OsRng;

use crate::error::{Error, Result};

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
/// algorithm, gives false (fail closed). The comparison is constant-time (argon2 crate).
/// Parameters are read from `phc`, so hashes made with older parameters still verify.
pub fn verify_password(phc: &str, plain: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(plain.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
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
