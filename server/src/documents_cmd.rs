//! `mssd documents list|show`: a mailbox's health document index, for operators. Patient
//! identifiers are redacted unless `--reveal`, which is written to the audit trail first.

use mssd_core::Address;
use mssd_store::{AuditEvent, IndexedDocument, Mailbox, Store};

use crate::audit;
use crate::cli::DocumentsCommand;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store_open;

pub async fn run(config: &Config, command: DocumentsCommand) -> Result<()> {
    let store = store_open::open(config).await?;
    let store = store.as_ref();
    match command {
        DocumentsCommand::List { mailbox, all, json } => {
            let mailbox = find_mailbox(store, &mailbox).await?;
            let docs = store.documents(mailbox.id, all).await?;
            if json {
                let rows: Vec<_> = docs.iter().map(json_row).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for d in &docs {
                    println!("{}", line(d));
                }
            }
            Ok(())
        }
        DocumentsCommand::Show {
            mailbox,
            id,
            reveal,
        } => {
            let mailbox = find_mailbox(store, &mailbox).await?;
            let docs: Vec<_> = store
                .documents(mailbox.id, true)
                .await?
                .into_iter()
                .filter(|d| d.cda_id == id)
                .collect();
            if docs.is_empty() {
                return Err(Error::Usage(format!(
                    "{} has no document {id:?}; `mssd documents list {} --all` lists them",
                    mailbox.address, mailbox.address
                )));
            }
            if reveal {
                store
                    .audit(AuditEvent {
                        at: audit::now_ms(),
                        kind: "documents.reveal".into(),
                        actor: audit::operator_actor(),
                        subject: mailbox.address.to_string(),
                        outcome: "revealed".into(),
                        detail: serde_json::json!({ "document": id }),
                    })
                    .await?;
            }
            for (i, d) in docs.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                print!("{}", details(d, reveal));
            }
            Ok(())
        }
    }
}

async fn find_mailbox(store: &dyn Store, text: &str) -> Result<Mailbox> {
    let address = Address::parse(text).map_err(|e| Error::Usage(format!("{text:?}: {e}")))?;
    store.mailbox(&address).await?.ok_or_else(|| {
        Error::Usage(format!(
            "no mailbox {address}; `mssd mailbox list` shows them"
        ))
    })
}

/// `<status> <id> <setId> v<version> <code> <title>`.
fn line(d: &IndexedDocument) -> String {
    format!(
        "{} {} {} v{} {} {}",
        d.status.as_str(),
        d.cda_id,
        d.set_id.as_deref().unwrap_or("-"),
        d.version.map_or_else(|| "?".into(), |v| v.to_string()),
        d.code,
        d.title.as_deref().unwrap_or("")
    )
}

fn json_row(d: &IndexedDocument) -> serde_json::Value {
    serde_json::json!({
        "id": d.cda_id,
        "set_id": d.set_id,
        "version": d.version,
        "code": d.code,
        "title": d.title,
        "status": d.status.as_str(),
        "message_uid": d.message_uid,
        "restrictions": d.restrictions,
        "patient": d.patient_ids.iter().map(|p| redact_patient(p)).collect::<Vec<_>>(),
        "action": d.action,
        "parent_id": d.parent_id,
        "anomaly": d.anomaly,
        "note": d.note,
    })
}

fn details(d: &IndexedDocument, reveal: bool) -> String {
    let patients: Vec<String> = d
        .patient_ids
        .iter()
        .map(|p| if reveal { p.clone() } else { redact_patient(p) })
        .collect();
    let mut out = String::new();
    let mut field = |name: &str, value: &str| out.push_str(&format!("{name:<14}{value}\n"));
    field("id", &d.cda_id);
    field("status", d.status.as_str());
    field("set id", d.set_id.as_deref().unwrap_or("-"));
    field(
        "version",
        &d.version.map_or_else(|| "-".into(), |v| v.to_string()),
    );
    field("code", &d.code);
    field("title", d.title.as_deref().unwrap_or("-"));
    field("date", d.effective_time.as_deref().unwrap_or("-"));
    field("author", d.author.as_deref().unwrap_or("-"));
    field("structure", d.author_org.as_deref().unwrap_or("-"));
    field("patient", &patients.join(", "));
    field(
        "restrictions",
        &if d.restrictions.is_empty() {
            "-".into()
        } else {
            d.restrictions.join(", ")
        },
    );
    field("action", &d.action);
    field("replaces", d.parent_id.as_deref().unwrap_or("-"));
    if let Some(code) = d.anomaly {
        field("anomaly", &format!("{code} {}", anomaly_label(code)));
    }
    field("note", d.note.as_deref().unwrap_or("-"));
    field("message uid", &d.message_uid.to_string());
    out
}

fn anomaly_label(code: u32) -> &'static str {
    match code {
        900 => "(the version replaced or deleted is not the latest)",
        901 => "(the author may not replace or delete this document)",
        _ => "",
    }
}

/// `root^extension` with an INS extension redacted.
fn redact_patient(id: &str) -> String {
    match id.split_once('^') {
        Some((root, ext)) => mssd_cda::PatientId::new(root, ext).redacted(),
        None => id.to_string(),
    }
}
