//! XOAUTH2 and OAUTHBEARER: a Pro Santé Connect token naming the owner of the mailbox.

use std::time::{SystemTime, UNIX_EPOCH};

use mssd_core::{Address, Identity};

use crate::authenticator::Authenticator;
use crate::outcome::{AuthFailure, Authenticated, FailureReason};
use crate::password_login::{ensure_active, invalid};
use crate::sasl::Mechanism;

impl Authenticator {
    pub(crate) async fn authenticate_token(
        &self,
        mechanism: Mechanism,
        named: Option<&str>,
        token: &str,
    ) -> Result<Authenticated, AuthFailure> {
        let professional = match &self.tokens {
            Some(tokens) => Some(tokens.validate_refreshing(token, unix_now()).await),
            None => None,
        };
        let verified = match professional {
            Some(Ok(verified)) => verified,
            // Not a Pro Santé Connect token: perhaps a citizen's.
            other if self.citizen_tokens.is_some() => {
                return self
                    .authenticate_citizen_token(
                        mechanism,
                        named,
                        token,
                        other.and_then(Result::err),
                    )
                    .await;
            }
            Some(Err(e)) => {
                return Err(AuthFailure::new(
                    FailureReason::TokenRejected,
                    e.to_string(),
                ));
            }
            None => {
                return Err(AuthFailure::new(
                    FailureReason::MechanismNotAllowed,
                    "no OIDC issuer is configured",
                ));
            }
        };
        let owner = verified.id_nat_ps.as_str();
        let owned = self.store.mailboxes_by_owner(owner).await.map_err(|e| {
            AuthFailure::new(
                FailureReason::TemporaryFailure,
                format!("mailbox lookup by owner failed: {e}"),
            )
        })?;
        let mailbox = match named {
            Some(named) => {
                let address = Address::parse(named).map_err(|_| {
                    invalid("the user named with the token is not a mail address".to_owned())
                })?;
                owned
                    .into_iter()
                    .find(|m| m.address.canonical() == address.canonical())
                    .ok_or_else(|| {
                        invalid(format!(
                            "idNat_PS {owner} owns no mailbox {}",
                            address.redacted()
                        ))
                    })?
            }
            None => {
                let count = owned.len();
                let mut owned = owned.into_iter();
                match (owned.next(), owned.next()) {
                    (Some(only), None) => only,
                    _ => {
                        return Err(invalid(format!(
                            "idNat_PS {owner} owns {count} mailboxes and the client named none"
                        )));
                    }
                }
            }
        };
        ensure_active(&mailbox)?;
        Ok(Authenticated {
            mailbox,
            identity: Identity::Professional {
                id_nat_ps: verified.id_nat_ps,
            },
            mechanism,
        })
    }
}

impl Authenticator {
    /// A citizen's token: its INS names the mailbox `<INS>@<citizen domain>`, which must be a
    /// citizen mailbox, active, and the one the client named (if it named one).
    async fn authenticate_citizen_token(
        &self,
        mechanism: Mechanism,
        named: Option<&str>,
        token: &str,
        professional_error: Option<crate::Error>,
    ) -> Result<Authenticated, AuthFailure> {
        let Some((validator, claim, domain)) = &self.citizen_tokens else {
            return Err(AuthFailure::new(
                FailureReason::MechanismNotAllowed,
                "no citizen issuer",
            ));
        };
        let verified = validator
            .validate_citizen_refreshing(token, unix_now(), claim)
            .await
            .map_err(|e| {
                let detail = match professional_error {
                    Some(p) => format!("{e} (as a professional token: {p})"),
                    None => e.to_string(),
                };
                AuthFailure::new(FailureReason::TokenRejected, detail)
            })?;
        let address = Address::parse(&format!("{}@{domain}", verified.ins.as_str()))
            .map_err(|_| invalid("the token's INS makes no citizen address".to_owned()))?;
        if let Some(named) = named {
            let same = Address::parse(named).is_ok_and(|n| n.canonical() == address.canonical());
            if !same {
                return Err(invalid(format!(
                    "the token's INS is not that of the mailbox named ({})",
                    mssd_core::redact::redact_for_error(named)
                )));
            }
        }
        let mailbox = self
            .store
            .mailbox(&address)
            .await
            .map_err(|e| {
                AuthFailure::new(
                    FailureReason::TemporaryFailure,
                    format!("mailbox lookup failed: {e}"),
                )
            })?
            .filter(|m| m.kind == mssd_core::MailboxKind::Citizen)
            .ok_or_else(|| invalid(format!("no citizen mailbox {}", address.redacted())))?;
        ensure_active(&mailbox)?;
        Ok(Authenticated {
            mailbox,
            identity: Identity::MailboxUser { address },
            mechanism,
        })
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
