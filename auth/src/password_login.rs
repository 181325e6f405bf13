//! PLAIN and LOGIN: a mailbox address and its password.

use mssd_core::{Address, Identity};
use mssd_store::{Mailbox, MailboxStatus};

use crate::authenticator::Authenticator;
use crate::outcome::{AuthFailure, Authenticated, FailureReason};
use crate::sasl::Mechanism;

impl Authenticator {
    pub(crate) async fn authenticate_password(
        &self,
        mechanism: Mechanism,
        authzid: Option<&str>,
        username: &str,
        password: &str,
    ) -> Result<Authenticated, AuthFailure> {
        let address = Address::parse(username).ok();
        if let Some(authzid) = authzid
            && !same_address(authzid, address.as_ref())
        {
            return Err(AuthFailure::new(
                FailureReason::InvalidCredentials,
                "authzid differs from the user name; proxy authorization is not supported",
            ));
        }
        let mailbox = match &address {
            Some(address) => self.store.mailbox(address).await.map_err(|e| {
                AuthFailure::new(
                    FailureReason::TemporaryFailure,
                    format!("mailbox lookup failed: {e}"),
                )
            })?,
            None => None,
        };
        let cacheable = self.verifier.checks_stored_hash();
        let remembered = cacheable
            && mailbox
                .as_ref()
                .is_some_and(|m| self.password_cache.verified(m, password));
        let verified = if remembered {
            true
        } else {
            // Always one verification, known account or not: timing tells nothing (a
            // remembered success only ever answers the account's own right password). The
            // permit bounds how many run at once (the semaphore is never closed).
            let flight = mailbox
                .as_ref()
                .filter(|_| cacheable)
                .and_then(|m| self.password_cache.flight(m, password));
            let _same_login = match &flight {
                Some(lock) => Some(lock.lock().await),
                None => None,
            };
            let _permit =
                self.verifications.acquire().await.map_err(|e| {
                    AuthFailure::new(FailureReason::TemporaryFailure, e.to_string())
                })?;
            // While this login waited, the same user with the same password (a client opening
            // several connections at once) may have been verified: one argon2 run answers all.
            let remembered_meanwhile = cacheable
                && mailbox
                    .as_ref()
                    .is_some_and(|m| self.password_cache.verified(m, password));
            let verified = remembered_meanwhile
                || self
                    .verifier
                    .verify(mailbox.as_ref(), password)
                    .await
                    .map_err(|e| {
                        AuthFailure::new(FailureReason::TemporaryFailure, e.to_string())
                    })?;
            if verified
                && cacheable
                && let Some(m) = &mailbox
            {
                self.password_cache.remember(m, password);
            }
            verified
        };
        let mailbox = match (mailbox, verified) {
            (Some(mailbox), true) => mailbox,
            (None, _) => return Err(invalid(unknown_account(address.as_ref()))),
            (Some(mailbox), false) if mailbox.password_hash.is_none() => {
                return Err(invalid(format!(
                    "mailbox {} has no password",
                    mailbox.address.redacted()
                )));
            }
            (Some(mailbox), false) => {
                return Err(invalid(format!(
                    "wrong password for {}",
                    mailbox.address.redacted()
                )));
            }
        };
        // Checked only after the password, so these answers never reveal an account.
        if !self.password_kinds.contains(&mailbox.kind) {
            return Err(AuthFailure::new(
                FailureReason::MechanismNotAllowed,
                format!(
                    "password login is disabled for {} mailboxes ({})",
                    mailbox.kind,
                    mailbox.address.redacted()
                ),
            ));
        }
        ensure_active(&mailbox)?;
        Ok(Authenticated {
            identity: Identity::MailboxUser {
                address: mailbox.address.clone(),
            },
            mailbox,
            mechanism,
        })
    }
}

pub(crate) fn invalid(detail: String) -> AuthFailure {
    AuthFailure::new(FailureReason::InvalidCredentials, detail)
}

pub(crate) fn ensure_active(mailbox: &Mailbox) -> Result<(), AuthFailure> {
    match mailbox.status {
        MailboxStatus::Active => Ok(()),
        MailboxStatus::Suspended => Err(AuthFailure::new(
            FailureReason::MailboxSuspended,
            format!("mailbox {} is suspended", mailbox.address.redacted()),
        )),
    }
}

/// `authzid` names the same mailbox as the user name (case of the local part ignored, as
/// mailbox lookups do).
pub(crate) fn same_address(authzid: &str, address: Option<&Address>) -> bool {
    match (Address::parse(authzid), address) {
        (Ok(authzid), Some(address)) => authzid.canonical() == address.canonical(),
        _ => false,
    }
}

fn unknown_account(address: Option<&Address>) -> String {
    match address {
        Some(address) => format!("no mailbox {}", address.redacted()),
        None => "user name is not a mail address".to_owned(),
    }
}
