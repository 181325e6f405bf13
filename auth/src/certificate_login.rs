//! EXTERNAL: the TLS client certificate bound to a mailbox.

use mssd_certs::CertInfo;
use mssd_core::{Identity, MailboxKind};
use mssd_store::Mailbox;

use crate::authenticator::Authenticator;
use crate::outcome::{AuthContext, AuthFailure, Authenticated, FailureReason};
use crate::password_login::{ensure_active, invalid, same_address};
use crate::sasl::Mechanism;

impl Authenticator {
    pub(crate) async fn authenticate_certificate(
        &self,
        authzid: Option<&str>,
        ctx: &AuthContext,
    ) -> Result<Authenticated, AuthFailure> {
        let Some(certificate) = &ctx.client_certificate else {
            return Err(AuthFailure::new(
                FailureReason::MechanismNotAllowed,
                "EXTERNAL without a client certificate",
            ));
        };
        let dn = certificate.subject.canonical();
        let mailbox = self
            .store
            .mailbox_by_certificate_dn(&dn)
            .await
            .map_err(|e| {
                AuthFailure::new(
                    FailureReason::TemporaryFailure,
                    format!("mailbox lookup by certificate failed: {e}"),
                )
            })?
            .ok_or_else(|| invalid(format!("certificate {dn:?} is bound to no mailbox")))?;
        if let Some(authzid) = authzid
            && !same_address(authzid, Some(&mailbox.address))
        {
            return Err(invalid(format!(
                "authzid {} is not the mailbox {} bound to certificate {dn:?}",
                mssd_core::redact::redact_for_error(authzid),
                mailbox.address.redacted()
            )));
        }
        ensure_active(&mailbox)?;
        Ok(Authenticated {
            identity: certificate_identity(&mailbox, certificate, dn),
            mailbox,
            mechanism: Mechanism::External,
        })
    }
}

/// Applicative and organisational mailboxes act as software; a personal certificate (CPS,
/// with an idNat_PS) is a professional; any other certificate is software.
fn certificate_identity(mailbox: &Mailbox, certificate: &CertInfo, subject_dn: String) -> Identity {
    match (&mailbox.kind, &certificate.id_nat_ps) {
        (MailboxKind::App | MailboxKind::Org, _) | (_, None) => Identity::Application {
            subject_dn,
            id_nat_struct: certificate.id_nat_struct.clone(),
        },
        (_, Some(id_nat_ps)) => Identity::Professional {
            id_nat_ps: id_nat_ps.clone(),
        },
    }
}
