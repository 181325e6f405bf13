//! Trust decisions: who an operator peer is (IGC-Santé certificate, liste blanche) and which
//! recipients we accept. Every refusal is audited with the check that failed.

use mssd_certs::Usage;
use mssd_core::Address;
use mssd_store::{MailboxId, MailboxStatus};
use rustls::pki_types::UnixTime;

use super::state::PeerVerdict;
use super::{Role, Session};
use crate::replies;
use crate::reply::Reply;

impl Session<'_> {
    /// The peer's certificate, validated once per TLS session against our anchors and CRLs.
    pub(super) fn peer_verdict(&mut self) -> PeerVerdict {
        if let Some(verdict) = &self.verdict {
            return verdict.clone();
        }
        let verdict = match self.tls.as_ref().map(|t| t.peer_chain.as_slice()) {
            None | Some([]) => PeerVerdict::NoCertificate,
            Some([leaf, intermediates @ ..]) => {
                match self.ctx.validator.validate(
                    leaf,
                    intermediates,
                    Usage::ClientAuth,
                    UnixTime::now(),
                ) {
                    Ok(info) => PeerVerdict::Valid(Box::new(info)),
                    Err(e) => PeerVerdict::Refused(e.to_string()),
                }
            }
        };
        self.verdict = Some(verdict.clone());
        verdict
    }

    /// MAIL FROM on the MTA listener: the peer's certificate must be valid and its subject DN
    /// listed in the liste blanche for the sender's domain (for `<>`: for any domain).
    pub(super) async fn check_operator(&mut self, sender: Option<&Address>) -> Result<(), Reply> {
        let refusal = match self.peer_verdict() {
            PeerVerdict::NoCertificate => replies::no_client_certificate(),
            PeerVerdict::Refused(reason) => replies::certificate_refused(&reason),
            PeerVerdict::Valid(info) => {
                let listed = match sender {
                    Some(address) => self.ctx.trust.dn_allowed(address.domain(), &info.subject),
                    None => !self.ctx.trust.domains_for_dn(&info.subject).is_empty(),
                };
                if listed {
                    return Ok(());
                }
                match sender {
                    Some(address) => {
                        replies::dn_not_listed(&info.subject.to_string(), address.domain())
                    }
                    None => replies::dn_not_listed_anywhere(&info.subject.to_string()),
                }
            }
        };
        self.ctx
            .counters
            .refused_trust
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let about = sender.map_or_else(|| "<>".to_string(), |s| s.to_string());
        self.audit_refusal("mail", &refusal, Some(about)).await;
        Err(refusal)
    }

    /// RCPT TO: our own mailboxes (both roles) or, for submission only, a domain of the
    /// MSSanté trust space. Returns the local mailbox, or None for a remote recipient.
    pub(super) async fn check_recipient(
        &mut self,
        address: &Address,
    ) -> Result<Option<MailboxId>, Reply> {
        let domain = address.domain();
        if let Some(citizen_domain) = self.ctx.config.citizen_domain.clone()
            && domain == citizen_domain
        {
            return self.check_citizen_recipient(address, &citizen_domain).await;
        }
        if self.ctx.config.is_local_domain(domain) {
            let found = match self.ctx.store.mailbox(address).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::error!(error = %e, "smtp: mailbox lookup failed");
                    return Err(replies::local_error());
                }
            };
            let refusal = match found {
                Some(m) if m.status == MailboxStatus::Active && !self.over_quota(&m).await => {
                    return Ok(Some(m.id));
                }
                Some(m) if m.status == MailboxStatus::Active => replies::mailbox_full(),
                Some(_) => replies::mailbox_disabled(),
                None => replies::unknown_mailbox(),
            };
            self.audit_refusal("rcpt", &refusal, Some(address.to_string()))
                .await;
            return Err(refusal);
        }
        let refusal = match self.role {
            Role::Mta => replies::relay_denied(domain),
            Role::Submission if self.ctx.trust.is_listed(domain) => {
                return self.check_directory(address).await;
            }
            Role::Submission => replies::outside_trust_space(domain),
        };
        self.ctx
            .counters
            .refused_trust
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.audit_refusal("rcpt", &refusal, Some(address.to_string()))
            .await;
        Err(refusal)
    }

    /// Whether the mailbox is at or above its quota (RFC 9208 enforcement on delivery; the
    /// store refuses an over-quota delivery at commit time too).
    async fn over_quota(&self, mailbox: &mssd_store::Mailbox) -> bool {
        if mailbox.quota_bytes.is_none() {
            return false;
        }
        match self.ctx.store.quota(mailbox.id).await {
            Ok(usage) => usage
                .limit_bytes
                .is_some_and(|limit| usage.used_bytes >= limit),
            Err(e) => {
                tracing::error!(error = %e, "smtp: quota lookup failed");
                false
            }
        }
    }

    /// A remote recipient at a listed domain: what the national directory says of it, under
    /// the configured policy. Warnings are given in the reply (see `commands.rs`) and audited.
    async fn check_directory(&mut self, address: &Address) -> Result<Option<MailboxId>, Reply> {
        use crate::config::UnknownRecipientPolicy as Policy;
        let policy = self.ctx.config.unknown_recipient;
        let verdict = match &self.ctx.config.directory {
            Some(directory) if policy != Policy::Off => directory.knows(address),
            _ => None,
        };
        match (verdict, policy) {
            (Some(false), Policy::Refuse) => {
                let refusal = replies::unknown_to_directory(&address.to_string());
                self.audit_refusal("rcpt", &refusal, Some(address.to_string()))
                    .await;
                Err(refusal)
            }
            (Some(false), _) => {
                self.directory_warning = true;
                if let Some(tx) = &mut self.tx {
                    tx.unknown_to_directory.push(address.clone());
                }
                let warning = replies::recipient_ok_unknown_to_directory();
                let detail = serde_json::json!({ "address": address.to_string(), "reply": warning.summary() });
                let kind = format!("{}.warning", self.role_name());
                self.ctx
                    .audit(
                        &kind,
                        self.peer.to_string(),
                        "rcpt".into(),
                        "warned",
                        detail,
                    )
                    .await;
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// One audit line per refusal: who, at which stage, with which reply.
    /// `about` is the address the command named, when it named one.
    pub(super) async fn audit_refusal(&self, stage: &str, reply: &Reply, about: Option<String>) {
        let detail = serde_json::json!({
            "stage": stage,
            "reply": reply.summary(),
            "helo": self.helo,
            "tls": self.tls.as_ref().map(|t| format!("{} {}", t.version, t.cipher)),
            "peer_dn": self.peer_dn(),
            "claimed_dn": self.claimed_dn(),
            "identity": self.user.as_ref().map(|u| u.identity.audit_label()),
            "sender": self.tx.as_ref().map(|t| t.sender.as_ref().map_or_else(|| "<>".to_string(), |s| s.to_string())),
            "address": about,
        });
        let kind = format!("{}.refused", self.role_name());
        // Before authentication (no user, no validated peer certificate) a client can repeat
        // a refused command as fast as it likes: past a few lines a minute, count them.
        let authenticated =
            self.user.is_some() || matches!(self.verdict, Some(PeerVerdict::Valid(_)));
        let detail = match authenticated {
            true => detail,
            false => match self
                .ctx
                .auth
                .refusal_audit()
                .gate(self.peer.ip(), &kind, detail)
            {
                Some(detail) => detail,
                None => return,
            },
        };
        self.ctx
            .audit(
                &kind,
                self.peer.to_string(),
                stage.to_string(),
                "refused",
                detail,
            )
            .await;
    }

    /// The subject DN of the peer's certificate once it validated against our anchors.
    pub(super) fn peer_dn(&self) -> Option<String> {
        match &self.verdict {
            Some(PeerVerdict::Valid(info)) => Some(info.subject.to_string()),
            _ => None,
        }
    }

    /// The subject of a presented certificate that did not validate (or was not checked
    /// yet): what the peer claims to be, kept apart from `peer_dn` so no one reads it as
    /// verified.
    pub(super) fn claimed_dn(&self) -> Option<String> {
        match &self.verdict {
            Some(PeerVerdict::Valid(_)) => None,
            _ => self
                .tls
                .as_ref()
                .and_then(|t| mssd_certs::peer_info(&t.peer_chain))
                .map(|info| info.subject.to_string()),
        }
    }
}
