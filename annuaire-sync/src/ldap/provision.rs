//! Applying a [`ProvisionPlan`] to the store: create, suspend, resume mailboxes and set
//! ORG membership grants, each change written to the audit trail (`ldap.provision.*`).

use std::time::{SystemTime, UNIX_EPOCH};

use mssd_core::Address;
use mssd_store::{AuditEvent, MailboxStatus, NewMailbox, Rights, Store};
use serde_json::json;

use super::mirror::Mirror;
use super::provision_plan::{PROVISION_STATE_DOCUMENT, ProvisionPlan, ProvisionState, plan};
use crate::error::{Error, Result};

/// Audit actor of every provisioning change.
pub const AUDIT_ACTOR: &str = "ldap-sync";

/// Provisioning settings (`[annuaire.ldap.provision]`).
#[derive(Clone, Debug)]
pub struct ProvisionConfig {
    /// Our mail domains: only entries there get mailboxes.
    pub domains: Vec<String>,
    pub quota_bytes: Option<u64>,
    /// Rights group members get on the ORG mailbox.
    pub member_rights: Rights,
    /// Largest share of the provisioned mailboxes one run may suspend (default 0.10): an
    /// LDAP search that suddenly returns far fewer entries (wrong base DN, ACL change) must
    /// not suspend everybody. `force` overrides.
    pub max_suspend_share: f64,
}

impl ProvisionConfig {
    pub fn new(domains: Vec<String>) -> ProvisionConfig {
        ProvisionConfig {
            domains: domains
                .into_iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            quota_bytes: None,
            member_rights: Rights {
                read: true,
                write: true,
                send: true,
            },
            max_suspend_share: 0.10,
        }
    }
}

/// Counts of what a run changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProvisionReport {
    pub created: usize,
    pub suspended: usize,
    pub resumed: usize,
    pub granted: usize,
    pub revoked: usize,
}

/// Brings the store in line with `mirror`. The ownership state is saved even when a step
/// fails, so what was done is remembered.
pub async fn provision(
    store: &dyn Store,
    mirror: &Mirror,
    config: &ProvisionConfig,
    force: bool,
) -> Result<ProvisionReport> {
    let mut state = load_state(store).await?;
    let existing = store.list_mailboxes().await?;
    let plan = plan(mirror, &existing, &state, &config.domains);
    check_suspend_share(&plan, &state, config, force)?;
    let mut report = ProvisionReport::default();
    let result = apply(store, &plan, config, &mut state, &mut report).await;
    save_state(store, &state).await?;
    result?;
    tracing::info!(
        created = report.created,
        suspended = report.suspended,
        resumed = report.resumed,
        granted = report.granted,
        revoked = report.revoked,
        "LDAP provisioning done"
    );
    Ok(report)
}

/// What LDAP provisioning owns (empty before the first run).
pub async fn load_state(store: &dyn Store) -> Result<ProvisionState> {
    match store.document(PROVISION_STATE_DOCUMENT).await? {
        None => Ok(ProvisionState::default()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::LdapMirror(format!("{PROVISION_STATE_DOCUMENT} cannot be read: {e}"))
        }),
    }
}

async fn save_state(store: &dyn Store, state: &ProvisionState) -> Result<()> {
    let bytes = serde_json::to_vec(state)
        .map_err(|e| Error::LdapMirror(format!("cannot serialise provisioning state: {e}")))?;
    store.put_document(PROVISION_STATE_DOCUMENT, bytes).await?;
    Ok(())
}

fn check_suspend_share(
    plan: &ProvisionPlan,
    state: &ProvisionState,
    config: &ProvisionConfig,
    force: bool,
) -> Result<()> {
    let owned = state.mailboxes.len().max(1);
    let share = plan.suspend.len() as f64 / owned as f64;
    if !force && !plan.suspend.is_empty() && share > config.max_suspend_share {
        return Err(Error::LdapProvisionRefused(format!(
            "would suspend {} of {} LDAP-provisioned mailboxes ({:.0} %, limit {:.0} %); \
             check the LDAP base DN and filter, or force the run",
            plan.suspend.len(),
            state.mailboxes.len(),
            share * 100.0,
            config.max_suspend_share * 100.0
        )));
    }
    Ok(())
}

async fn apply(
    store: &dyn Store,
    plan: &ProvisionPlan,
    config: &ProvisionConfig,
    state: &mut ProvisionState,
    report: &mut ProvisionReport,
) -> Result<()> {
    for new in &plan.create {
        let created = store
            .create_mailbox(NewMailbox {
                address: new.address.clone(),
                kind: new.kind,
                display_name: new.display_name.clone(),
                owner_id_nat: new.owner_id_nat.clone(),
                password_hash: None,
                certificate_dn: None,
                quota_bytes: config.quota_bytes,
            })
            .await;
        match created {
            Ok(_) => {}
            // Created meanwhile by someone else: not ours, leave it.
            Err(mssd_store::Error::AlreadyExists { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
        state.mailboxes.insert(new.address.canonical());
        report.created += 1;
        let detail = json!({ "kind": new.kind.as_str(), "has_owner": new.owner_id_nat.is_some() });
        audit(store, "ldap.provision.create", &new.address, detail).await?;
    }
    for address in &plan.suspend {
        store
            .set_mailbox_status(address, MailboxStatus::Suspended)
            .await?;
        state.suspended.insert(address.canonical());
        report.suspended += 1;
        let detail = json!({ "reason": "LDAP entry no longer found" });
        audit(store, "ldap.provision.suspend", address, detail).await?;
    }
    for address in &plan.resume {
        store
            .set_mailbox_status(address, MailboxStatus::Active)
            .await?;
        state.suspended.remove(&address.canonical());
        report.resumed += 1;
        let detail = json!({ "reason": "LDAP entry found again" });
        audit(store, "ldap.provision.resume", address, detail).await?;
    }
    for (org, member) in &plan.grant {
        store.grant(org, member, config.member_rights).await?;
        state
            .grants
            .entry(org.canonical())
            .or_default()
            .insert(member.canonical());
        report.granted += 1;
        let detail =
            json!({ "grantee": member.as_str(), "rights": config.member_rights.to_string() });
        audit(store, "ldap.provision.grant", org, detail).await?;
    }
    for (org, member) in &plan.revoke {
        match store.revoke(org, member).await {
            // Revoked by hand (or the mailbox removed) already: the goal is reached.
            Ok(()) | Err(mssd_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(members) = state.grants.get_mut(&org.canonical()) {
            members.remove(&member.canonical());
            if members.is_empty() {
                state.grants.remove(&org.canonical());
            }
        }
        report.revoked += 1;
        let detail = json!({ "grantee": member.as_str() });
        audit(store, "ldap.provision.revoke", org, detail).await?;
    }
    Ok(())
}

async fn audit(
    store: &dyn Store,
    kind: &str,
    subject: &Address,
    detail: serde_json::Value,
) -> Result<()> {
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    store
        .audit(AuditEvent {
            at,
            kind: kind.to_owned(),
            actor: AUDIT_ACTOR.to_owned(),
            subject: subject.as_str().to_owned(),
            outcome: "ok".to_owned(),
            detail,
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn suspend_share_guard_table() {
        let addr = |i: usize| Address::parse(&format!("u{i}@h.test")).unwrap();
        // (owned, to suspend, force, allowed)
        let cases = [
            (100, 10, false, true),
            (100, 11, false, false),
            (100, 11, true, true),
            (0, 0, false, true),
            (3, 1, false, false),
            (3, 0, false, true),
        ];
        for (owned, suspend, force, allowed) in cases {
            let state = ProvisionState {
                mailboxes: (0..owned)
                    .map(|i| addr(i).canonical())
                    .collect::<BTreeSet<_>>(),
                ..ProvisionState::default()
            };
            let plan = ProvisionPlan {
                suspend: (0..suspend).map(addr).collect(),
                ..ProvisionPlan::default()
            };
            let config = ProvisionConfig::new(vec!["h.test".into()]);
            let result = check_suspend_share(&plan, &state, &config, force);
            assert_eq!(result.is_ok(), allowed, "{owned} {suspend} {force}");
        }
    }
}
