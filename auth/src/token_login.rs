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
        let Some(tokens) = &self.tokens else {
            return Err(AuthFailure::new(
                FailureReason::MechanismNotAllowed,
                "no OIDC issuer is configured",
            ));
        };
        let verified = tokens
            .validate(token, unix_now())
            .map_err(|e| AuthFailure::new(FailureReason::TokenRejected, e.to_string()))?;
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

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
