//! `mssd mailbox add|list|suspend|resume|remove`: the operator's mailbox lifecycle, each
//! change written to the audit trail.

use std::io::BufRead;

use mssd_core::{Address, IdNatPs, Ins, MailboxKind};
use mssd_store::{AuditEvent, Mailbox, MailboxStatus, NewMailbox, Rights, Store};
use rand::Rng;
use rand::distributions::Alphanumeric;

use crate::audit;
use crate::cli::{AddArgs, MailboxCommand};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store_open;

pub async fn run(config: &Config, command: MailboxCommand) -> Result<()> {
    let store = store_open::open(config).await?;
    let store = store.as_ref();
    let actor = audit::operator_actor();
    match command {
        MailboxCommand::Add(args) => add(config, store, args, &actor).await,
        MailboxCommand::List { json } => list(store, json).await,
        MailboxCommand::Suspend { address } => {
            set_status(
                store,
                &address,
                MailboxStatus::Suspended,
                "mailbox.suspend",
                &actor,
            )
            .await
        }
        MailboxCommand::Resume { address } => {
            set_status(
                store,
                &address,
                MailboxStatus::Active,
                "mailbox.resume",
                &actor,
            )
            .await
        }
        MailboxCommand::Remove { address, yes } => remove(store, &address, yes, &actor).await,
        MailboxCommand::Grant {
            mailbox,
            to,
            rights,
        } => grant(store, &mailbox, &to, &rights, &actor).await,
        MailboxCommand::Revoke { mailbox, to } => revoke(store, &mailbox, &to, &actor).await,
    }
}

async fn add(config: &Config, store: &dyn Store, args: AddArgs, actor: &str) -> Result<()> {
    let address = Address::parse(&args.address)?;
    let kind = MailboxKind::parse(&args.kind)?;
    check_domain(config, &address, kind)?;
    let owner_id_nat = match (&args.owner, kind) {
        (Some(owner), _) => Some(IdNatPs::parse(owner)?.as_str().to_string()),
        (None, MailboxKind::Per) => {
            return Err(Error::Usage(
                "a PER mailbox belongs to one professional: give --owner with the idNat_PS (8+RPPS or 0+ADELI)".into(),
            ));
        }
        (None, _) => None,
    };
    let certificate_dn = match (&args.certificate, &args.certificate_dn) {
        (Some(path), None) => {
            let certs = mssd_certs::load_certs(path)?;
            let leaf = certs
                .first()
                .ok_or_else(|| Error::Usage(format!("{}: no certificate", path.display())))?;
            Some(mssd_certs::CertInfo::parse(leaf)?.subject.canonical())
        }
        (None, Some(dn)) => Some(mssd_certs::DistinguishedName::parse(dn)?.canonical()),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "give --certificate or --certificate-dn, not both".into(),
            ));
        }
    };
    let password = if args.password_stdin {
        Some(read_password_line()?)
    } else if args.generate_password {
        Some(generate_password())
    } else {
        None
    };
    if password.is_none() && certificate_dn.is_none() && kind != MailboxKind::Citizen {
        tracing::warn!(
            "mailbox has neither a password nor a certificate: it can receive but nobody can log in yet"
        );
    }
    let new = NewMailbox {
        address: address.clone(),
        kind,
        display_name: args.name,
        owner_id_nat,
        password_hash: password
            .as_deref()
            .map(mssd_core::hash_password)
            .transpose()?,
        certificate_dn,
        quota_bytes: args
            .quota
            .as_deref()
            .map(|q| crate::config::parse_size(q).map_err(|m| Error::Usage(format!("--quota {m}"))))
            .transpose()?,
    };
    create(store, new, actor).await?;
    println!("created {address} ({kind})");
    if let (true, Some(password)) = (args.generate_password, password) {
        println!("password: {password}");
    }
    Ok(())
}

/// Creates a mailbox and records it in the audit trail.
pub async fn create(store: &dyn Store, new: NewMailbox, actor: &str) -> Result<Mailbox> {
    let mailbox = store.create_mailbox(new).await?;
    store
        .audit(AuditEvent {
            at: audit::now_ms(),
            kind: "mailbox.create".into(),
            actor: actor.into(),
            subject: mailbox.address.to_string(),
            outcome: "ok".into(),
            detail: serde_json::json!({ "kind": mailbox.kind.as_str() }),
        })
        .await?;
    Ok(mailbox)
}

fn check_domain(config: &Config, address: &Address, kind: MailboxKind) -> Result<()> {
    if kind == MailboxKind::Citizen {
        let Some(citizen) = &config.citizen_domain else {
            return Err(Error::Usage(
                "citizen mailboxes need [citizen] domain in the configuration".into(),
            ));
        };
        if address.domain() != citizen {
            return Err(Error::Usage(format!(
                "a CITIZEN mailbox must be <INS>@{citizen}"
            )));
        }
        Ins::parse(address.local_part())?;
        return Ok(());
    }
    if !config.hosts_domain(address.domain()) {
        return Err(Error::Usage(format!(
            "{} is not one of our domains ({}): add it to server.domains first",
            address.domain(),
            config.domains.join(", ")
        )));
    }
    Ok(())
}

async fn list(store: &dyn Store, json: bool) -> Result<()> {
    let mailboxes = store.list_mailboxes().await?;
    if json {
        let rows: Vec<_> = mailboxes
            .iter()
            .map(|m| {
                serde_json::json!({
                    "address": m.address.to_string(),
                    "kind": m.kind.as_str(),
                    "status": status_name(m.status),
                    "name": m.display_name,
                    "owner": m.owner_id_nat,
                    "certificate_dn": m.certificate_dn,
                    "password": m.password_hash.is_some(),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    println!(
        "{:<40} {:<8} {:<10} {:<14} AUTH",
        "ADDRESS", "KIND", "STATUS", "OWNER"
    );
    for m in &mailboxes {
        let auth = match (m.password_hash.is_some(), m.certificate_dn.is_some()) {
            (true, true) => "password+certificate",
            (true, false) => "password",
            (false, true) => "certificate",
            (false, false) => "-",
        };
        println!(
            "{:<40} {:<8} {:<10} {:<14} {auth}",
            m.address.to_string(),
            m.kind.as_str(),
            status_name(m.status),
            m.owner_id_nat.as_deref().unwrap_or("-"),
        );
    }
    println!("{} mailbox(es)", mailboxes.len());
    Ok(())
}

async fn set_status(
    store: &dyn Store,
    address: &str,
    status: MailboxStatus,
    kind: &str,
    actor: &str,
) -> Result<()> {
    let address = Address::parse(address)?;
    store.set_mailbox_status(&address, status).await?;
    audit_change(store, kind, actor, &address).await?;
    println!("{address}: {}", status_name(status));
    Ok(())
}

async fn remove(store: &dyn Store, address: &str, yes: bool, actor: &str) -> Result<()> {
    let address = Address::parse(address)?;
    let Some(_) = store.mailbox(&address).await? else {
        return Err(Error::Usage(format!("no mailbox {address}")));
    };
    if !yes {
        return Err(Error::Usage(format!(
            "removing {address} deletes its folders and messages for good; run again with --yes (or suspend it instead)"
        )));
    }
    store.remove_mailbox(&address).await?;
    audit_change(store, "mailbox.remove", actor, &address).await?;
    println!("removed {address}");
    Ok(())
}

async fn grant(
    store: &dyn Store,
    mailbox: &str,
    to: &str,
    rights: &str,
    actor: &str,
) -> Result<()> {
    let (mailbox, grantee) = (Address::parse(mailbox)?, Address::parse(to)?);
    let rights = Rights::parse(rights).map_err(|m| Error::Usage(format!("--rights: {m}")))?;
    store.grant(&mailbox, &grantee, rights).await?;
    audit_grant(
        store,
        "mailbox.grant",
        actor,
        &mailbox,
        &grantee,
        Some(rights),
    )
    .await?;
    for g in store.grants_on(&mailbox).await? {
        println!("{}: {} may {}", g.mailbox, g.grantee, g.rights);
    }
    Ok(())
}

async fn revoke(store: &dyn Store, mailbox: &str, to: &str, actor: &str) -> Result<()> {
    let (mailbox, grantee) = (Address::parse(mailbox)?, Address::parse(to)?);
    store.revoke(&mailbox, &grantee).await?;
    audit_grant(store, "mailbox.revoke", actor, &mailbox, &grantee, None).await?;
    println!("{mailbox}: rights of {grantee} withdrawn");
    Ok(())
}

async fn audit_grant(
    store: &dyn Store,
    kind: &str,
    actor: &str,
    mailbox: &Address,
    grantee: &Address,
    rights: Option<Rights>,
) -> Result<()> {
    let detail = serde_json::json!({ "grantee": grantee.to_string(), "rights": rights.map(|r| r.to_string()) });
    let event = AuditEvent {
        at: audit::now_ms(),
        kind: kind.into(),
        actor: actor.into(),
        subject: mailbox.to_string(),
        outcome: "ok".into(),
        detail,
    };
    store.audit(event).await?;
    Ok(())
}

async fn audit_change(store: &dyn Store, kind: &str, actor: &str, address: &Address) -> Result<()> {
    store
        .audit(AuditEvent {
            at: audit::now_ms(),
            kind: kind.into(),
            actor: actor.into(),
            subject: address.to_string(),
            outcome: "ok".into(),
            detail: serde_json::Value::Null,
        })
        .await?;
    Ok(())
}

fn status_name(status: MailboxStatus) -> &'static str {
    match status {
        MailboxStatus::Active => "active",
        MailboxStatus::Suspended => "suspended",
    }
}

/// 24 alphanumerics: about 142 bits.
pub fn generate_password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

/// One line from standard input, so that passwords never appear in argv or shell history.
fn read_password_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| Error::Io {
            what: "reading the password from standard input".into(),
            source,
        })?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.chars().count() < 12 {
        return Err(Error::Usage(
            "the password must have at least 12 characters".into(),
        ));
    }
    Ok(password)
}
