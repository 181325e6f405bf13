//! The health documents of a message, between the end of DATA and the commit: read the XDM
//! archive (off the async workers), set or check `X-MSS-CODECDA` / `X-MSS-INS`, refuse
//! professionals a `MASQUE_PS` document, route to integration mailboxes, and prepare the
//! index rows that commit with the delivery. Every decision is audited.

use mssd_cda::mss_headers::{CODECDA, INS};
use mssd_cda::{CdaError, HeaderMismatch, Malformed, MssHeaders, Package};
use mssd_core::{Address, MailboxKind};
use mssd_store::{DocumentAction, NewDocument};

use super::state::{Recipient, Transaction};
use super::{Role, Session};
use crate::cda_counters::CdaCounters;
use crate::message::headers;
use crate::reply::Reply;

/// What the documents step leaves for the commit.
#[derive(Debug, Default)]
pub(super) struct DocumentFacts {
    pub xdm: bool,
    pub documents: Vec<NewDocument>,
    pub qualified_ins: u32,
    /// Recipients refused after DATA, each with its reply (a `MASQUE_PS` document to a
    /// professional, a document for another patient, a citizen rule).
    pub refused: Vec<(Recipient, Reply)>,
    /// The documents, for the citizen checks.
    pub package: Option<Package>,
}

impl Session<'_> {
    /// Examines `tx`'s documents; `Err` is the reply refusing the whole message.
    pub(super) async fn examine_documents(
        &self,
        tx: &mut Transaction,
    ) -> Result<DocumentFacts, Reply> {
        let policy = self.ctx.config.cda.clone();
        if !mssd_cda::attachment::may_carry_xdm(&tx.body) {
            return Ok(DocumentFacts::default());
        }
        // Parsing is CPU work of up to a few milliseconds: keep it off the async workers.
        let body = std::mem::take(&mut tx.body);
        let limits = policy.limits;
        let (body, read) = tokio::task::spawn_blocking(move || {
            let read = mssd_cda::read_message(&body, &limits);
            (body, read)
        })
        .await
        .map_err(|e| {
            tracing::error!(id = %tx.id, error = %e, "smtp: the document reader failed");
            crate::replies::local_error()
        })?;
        tx.body = body;
        let counters = &self.ctx.counters.cda;
        let package = match read {
            Ok(None) => return Ok(DocumentFacts::default()),
            Ok(Some(package)) => package,
            Err(e) => {
                return self
                    .malformed(tx, &e, policy.malformed)
                    .await
                    .map(|()| DocumentFacts::default());
            }
        };
        CdaCounters::add(&counters.xdm_messages, 1);
        CdaCounters::add(&counters.documents, package.documents.len() as u64);
        for doc in &package.documents {
            counters.count_code(&doc.cda.code.code);
        }
        let qualified = package
            .documents
            .iter()
            .filter(|d| d.cda.has_qualified_ins(&policy.accepted_ins_oids))
            .count() as u32;
        CdaCounters::add(&counters.documents_qualified_ins, u64::from(qualified));
        if let Some(computed) = MssHeaders::of(&package, &policy.accepted_ins_oids) {
            self.check_mss_headers(tx, &computed, policy.header_mismatch)
                .await?;
        }
        let refused = if package
            .documents
            .iter()
            .any(|d| d.restrictions.masked_from_professionals())
        {
            self.refuse_professionals(tx).await?
        } else {
            self.route(tx, &package).await;
            Vec::new()
        };
        Ok(DocumentFacts {
            xdm: true,
            documents: index_rows(&package),
            qualified_ins: qualified,
            refused,
            package: Some(package),
        })
    }

    async fn malformed(
        &self,
        tx: &Transaction,
        e: &CdaError,
        policy: Malformed,
    ) -> Result<(), Reply> {
        CdaCounters::add(&self.ctx.counters.cda.malformed, 1);
        let outcome = match policy {
            Malformed::Accept => "accepted",
            Malformed::Refuse => "refused",
        };
        let detail =
            serde_json::json!({ "id": tx.id, "problem": e.kind(), "error": e.to_string() });
        self.ctx
            .audit(
                "cda.malformed",
                self.peer.to_string(),
                tx.id.clone(),
                outcome,
                detail,
            )
            .await;
        tracing::warn!(id = %tx.id, problem = e.kind(), "smtp: malformed XDM archive ({outcome})");
        match policy {
            Malformed::Accept => Ok(()),
            Malformed::Refuse => {
                CdaCounters::add(&self.ctx.counters.cda.refused, 1);
                let text = mssd_core::redact::redact_ins_runs(&e.to_string());
                Err(Reply::new(
                    554,
                    (5, 6, 0),
                    format!("Health documents refused: {text}"),
                ))
            }
        }
    }

    /// Sets the headers the client left out (submission); audits or refuses a disagreement.
    async fn check_mss_headers(
        &self,
        tx: &mut Transaction,
        computed: &MssHeaders,
        policy: HeaderMismatch,
    ) -> Result<(), Reply> {
        let block = &tx.body[..headers::header_block_len(&tx.body)];
        let claimed_codes = headers::field_value(block, CODECDA);
        let claimed_ins = headers::field_value(block, INS);
        let wrong = computed.disagreements(claimed_codes.as_deref(), claimed_ins.as_deref());
        if !wrong.is_empty() {
            CdaCounters::add(&self.ctx.counters.cda.header_mismatches, 1);
            let outcome = match policy {
                HeaderMismatch::Warn => "accepted",
                HeaderMismatch::Refuse => "refused",
            };
            let detail = serde_json::json!({
                "id": tx.id,
                "headers": wrong,
                "claimed": { CODECDA: claimed_codes, INS: claimed_ins },
                "documents": { CODECDA: computed.code_cda, INS: computed.ins },
            });
            self.ctx
                .audit(
                    "cda.header_mismatch",
                    self.peer.to_string(),
                    tx.id.clone(),
                    outcome,
                    detail,
                )
                .await;
            if policy == HeaderMismatch::Refuse {
                CdaCounters::add(&self.ctx.counters.cda.refused, 1);
                let expected = |h: &str| {
                    if h == CODECDA {
                        computed.code_cda.clone()
                    } else {
                        computed.ins.to_string()
                    }
                };
                let text = wrong
                    .iter()
                    .map(|h| {
                        format!(
                            "{h} does not match the documents (they give {})",
                            expected(h)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(Reply::new(554, (5, 6, 0), text));
            }
        }
        if self.role == Role::Submission {
            let mut extra = String::new();
            if claimed_codes.is_none() {
                extra.push_str(&format!("{CODECDA}: {}\r\n", computed.code_cda));
            }
            if claimed_ins.is_none() {
                extra.push_str(&format!("{INS}: {}\r\n", computed.ins));
            }
            if !extra.is_empty() {
                let at = headers::header_insert_point(&tx.body);
                tx.body.splice(at..at, extra.into_bytes());
            }
        }
        Ok(())
    }

    /// A `MASQUE_PS` document never reaches a professional: those recipients are refused
    /// (the whole message when no citizen is left) and returned for a failure DSN.
    async fn refuse_professionals(
        &self,
        tx: &mut Transaction,
    ) -> Result<Vec<(Recipient, Reply)>, Reply> {
        let mut kept = Vec::with_capacity(tx.recipients.len());
        let mut refused: Vec<Recipient> = Vec::new();
        for r in std::mem::take(&mut tx.recipients) {
            if self.is_citizen(&r).await {
                kept.push(r);
            } else {
                refused.push(r);
            }
        }
        tx.recipients = kept;
        if refused.is_empty() {
            return Ok(Vec::new());
        }
        CdaCounters::add(&self.ctx.counters.cda.refused, 1);
        let all = tx.recipients.is_empty();
        let detail = serde_json::json!({
            "id": tx.id,
            "reason": "MASQUE_PS",
            "recipients": refused.iter().map(|r| r.address.to_string()).collect::<Vec<_>>(),
            "whole_message": all,
        });
        self.ctx
            .audit(
                "cda.refused",
                self.peer.to_string(),
                tx.id.clone(),
                "refused",
                detail,
            )
            .await;
        if all {
            return Err(masked_reply());
        }
        Ok(refused.into_iter().map(|r| (r, masked_reply())).collect())
    }

    async fn is_citizen(&self, r: &Recipient) -> bool {
        if self.ctx.config.is_citizen_domain(r.address.domain()) {
            return true;
        }
        if r.mailbox.is_none() {
            return false;
        }
        matches!(self.ctx.store.mailbox(&r.address).await, Ok(Some(m)) if m.kind == MailboxKind::Citizen)
    }

    /// Applies `[[cda.routes]]`: targets join the recipients (copy) or replace them
    /// (redirect). A target that cannot be reached leaves the recipient as it was.
    async fn route(&self, tx: &mut Transaction, package: &Package) {
        let routes = &self.ctx.config.cda.routes;
        if routes.is_empty() {
            return;
        }
        let codes = package.codes();
        let addresses: Vec<Address> = tx.recipients.iter().map(|r| r.address.clone()).collect();
        let (_, decisions) = mssd_cda::routing::plan(routes, &addresses, &codes);
        for decision in decisions {
            let target = match self.route_target(&decision.to).await {
                Ok(target) => target,
                Err(reason) => {
                    let detail = serde_json::json!({
                        "id": tx.id, "recipient": decision.recipient.to_string(),
                        "action": decision.action.as_str(), "to": decision.to.to_string(),
                        "codes": codes, "error": reason,
                    });
                    self.ctx
                        .audit(
                            "cda.routed",
                            self.peer.to_string(),
                            tx.id.clone(),
                            "failed",
                            detail,
                        )
                        .await;
                    continue;
                }
            };
            let source = tx
                .recipients
                .iter()
                .position(|r| r.address.canonical() == decision.recipient.canonical());
            let (notify, orcpt) = source.map_or((0, None), |i| {
                let r = &tx.recipients[i];
                // RFC 3461: the recipient the sender named stays the original recipient.
                let orcpt = r.orcpt.clone().or_else(|| Some(r.address.to_string()));
                (r.notify, orcpt)
            });
            let redirect = decision.action == mssd_cda::routing::RouteAction::Redirect;
            if redirect && let Some(i) = source {
                tx.recipients.remove(i);
            }
            if !tx
                .recipients
                .iter()
                .any(|r| r.address.canonical() == decision.to.canonical())
            {
                tx.recipients.push(Recipient {
                    address: decision.to.clone(),
                    mailbox: target,
                    // The target inherits NOTIFY (and ORCPT) only when it stands in for the
                    // recipient; a copy is the operator's business, not the sender's.
                    notify: if redirect { notify } else { 0 },
                    orcpt: if redirect { orcpt } else { None },
                });
            }
            CdaCounters::add(&self.ctx.counters.cda.routed, 1);
            let detail = serde_json::json!({
                "id": tx.id, "recipient": decision.recipient.to_string(),
                "action": decision.action.as_str(), "to": decision.to.to_string(), "codes": codes,
            });
            self.ctx
                .audit(
                    "cda.routed",
                    self.peer.to_string(),
                    tx.id.clone(),
                    "routed",
                    detail,
                )
                .await;
        }
    }

    /// The target's local mailbox (or `None` for another operator's address).
    async fn route_target(&self, to: &Address) -> Result<Option<mssd_store::MailboxId>, String> {
        if !self.ctx.config.is_local_domain(to.domain()) {
            return Ok(None);
        }
        match self.ctx.store.mailbox(to).await {
            Ok(Some(m)) if m.status == mssd_store::MailboxStatus::Active => Ok(Some(m.id)),
            Ok(Some(_)) => Err("the target mailbox is suspended".into()),
            Ok(None) => Err("the target mailbox does not exist".into()),
            Err(e) => Err(format!("store: {e}")),
        }
    }
}

pub(super) fn masked_reply() -> Reply {
    Reply::new(
        550,
        (5, 7, 1),
        "A document restricted MASQUE_PS is never delivered to a health professional",
    )
}

/// One index row per document, the same for every recipient mailbox.
pub fn index_rows(package: &Package) -> Vec<NewDocument> {
    package
        .documents
        .iter()
        .map(|d| {
            let cda = &d.cda;
            let author = cda.authors.first();
            let action = match (d.entry.action, &cda.replaces) {
                (Some(mssd_cda::Action::Delete), _) => DocumentAction::Delete,
                (_, Some(parent)) => DocumentAction::Replace {
                    parent: parent.to_string(),
                },
                _ => DocumentAction::New,
            };
            NewDocument {
                cda_id: cda.id.to_string(),
                set_id: cda.set_id.as_ref().map(ToString::to_string),
                version: cda.version,
                code: cda.code.code.clone(),
                title: cda.title.clone(),
                effective_time: cda.effective_time.clone(),
                author: author.and_then(|a| a.id.as_ref()).map(ToString::to_string),
                author_org: author
                    .and_then(|a| a.organization.as_ref())
                    .map(ToString::to_string),
                patient_ids: cda.patient_ids.iter().map(|p| p.revealed()).collect(),
                restrictions: d
                    .restrictions
                    .codes
                    .iter()
                    .map(|c| (*c).to_string())
                    .collect(),
                action,
            }
        })
        .collect()
}
