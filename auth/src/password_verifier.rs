//! How a password is checked: argon2 against the mailbox's PHC hash by default; an LDAP
//! bind verifier can replace it.

use std::sync::OnceLock;

use async_trait::async_trait;
use mssd_store::Mailbox;

use crate::error::{Error, Result};

/// Checks a password for a mailbox.
#[async_trait]
pub trait PasswordVerifier: Send + Sync {
    /// True when `password` is right for `mailbox`. `mailbox` is `None` for an unknown
    /// account: an implementation must then spend as long as for a known one and answer
    /// false, so timing does not tell which accounts exist. `Err` means the check could
    /// not run (the attempt fails as a temporary failure, not as a wrong password).
    async fn verify(&self, mailbox: Option<&Mailbox>, password: &str) -> Result<bool>;

    /// Whether the answer depends only on the mailbox's stored hash, so that a success may
    /// be remembered until that hash changes. False by default (an external directory may
    /// change the password without us knowing).
    fn checks_stored_hash(&self) -> bool {
        false
    }
}

/// argon2 verification of `Mailbox::password_hash`, on the blocking thread pool.
pub struct Argon2Verifier {
    _private: (),
}

/// A hash made with the same parameters as real ones, verified when there is no real hash.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        // Fails only without OS randomness; an empty PHC then verifies as false at once.
        mssd_core::hash_password("mssd dummy password, verified for unknown accounts")
            .unwrap_or_default()
    })
}

impl Argon2Verifier {
    /// Computes the dummy hash now (one argon2 run), so the first unknown account does not
    /// take longer than the others.
    pub fn new() -> Argon2Verifier {
        dummy_hash();
        Argon2Verifier { _private: () }
    }
}

impl Default for Argon2Verifier {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl PasswordVerifier for Argon2Verifier {
    fn checks_stored_hash(&self) -> bool {
        true
    }

    async fn verify(&self, mailbox: Option<&Mailbox>, password: &str) -> Result<bool> {
        let real_hash = mailbox.and_then(|m| m.password_hash.clone());
        let has_real_hash = real_hash.is_some();
        let hash = real_hash.unwrap_or_else(|| dummy_hash().to_owned());
        let password = password.to_owned();
        let matches =
            tokio::task::spawn_blocking(move || mssd_core::verify_password(&hash, &password))
                .await
                .map_err(|e| Error::PasswordVerifier {
                    reason: format!("argon2 task did not complete: {e}"),
                })?;
        Ok(matches && has_real_hash)
    }
}
