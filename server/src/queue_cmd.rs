//! `mssd queue list|retry|remove`: the outbound queue, for operators. The running server
//! delivers; these commands inspect and reschedule through the store it shares.

use mssd_store::{AuditEvent, QueueId, RecipientStatus, Store};

use crate::audit;
use crate::cli::QueueCommand;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store_open;

pub async fn run(config: &Config, command: QueueCommand) -> Result<()> {
    let store = store_open::open(config).await?;
    let store = store.as_ref();
    match command {
        QueueCommand::List { json } => list(store, json).await,
        QueueCommand::Retry { id, all } => retry(store, id, all).await,
        QueueCommand::Remove { id, yes } => remove(store, id, yes).await,
    }
}

fn status_name(status: RecipientStatus) -> &'static str {
    match status {
        RecipientStatus::Pending => "pending",
        RecipientStatus::Delivered => "delivered",
        RecipientStatus::Failed => "failed",
    }
}

async fn list(store: &dyn Store, json: bool) -> Result<()> {
    let entries = store.queue().await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if json {
        let rows: Vec<_> = entries
            .iter()
            .map(|q| {
                serde_json::json!({
                    "id": q.id.0,
                    "sender": q.sender.as_ref().map_or_else(|| "<>".to_string(), |s| s.to_string()),
                    "recipients": q.recipients.iter().map(|r| serde_json::json!({
                        "address": r.address.to_string(), "status": status_name(r.status), "detail": r.detail,
                    })).collect::<Vec<_>>(),
                    "size": q.message.len(),
                    "created_at": q.created_at,
                    "next_attempt": q.next_attempt,
                    "attempts": q.attempts,
                    "last_error": q.last_error,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    for q in &entries {
        let next = match q.next_attempt {
            Some(t) if t <= now => "due now".to_string(),
            Some(t) => format!("next in {}s", t - now),
            None => "no attempt planned".to_string(),
        };
        let sender = q
            .sender
            .as_ref()
            .map_or_else(|| "<>".to_string(), |s| s.to_string());
        println!(
            "{:>6}  {:>7} B  age {}s  {} attempt(s), {next}  from {sender}",
            q.id.0,
            q.message.len(),
            now - q.created_at,
            q.attempts
        );
        for r in &q.recipients {
            let detail = r
                .detail
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            println!(
                "          to {} [{}]{detail}",
                r.address,
                status_name(r.status)
            );
        }
        if let Some(error) = &q.last_error {
            println!("          last error: {error}");
        }
    }
    println!("{} message(s) queued", entries.len());
    Ok(())
}

async fn retry(store: &dyn Store, id: Option<i64>, all: bool) -> Result<()> {
    let ids: Vec<QueueId> = match (id, all) {
        (Some(id), false) => vec![QueueId(id)],
        (None, true) => store.queue().await?.into_iter().map(|q| q.id).collect(),
        _ => return Err(Error::Usage("give a queue id, or --all".into())),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for id in &ids {
        store.reschedule(*id, now).await?;
    }
    println!(
        "{} message(s) due now: the running server tries them at its next queue pass",
        ids.len()
    );
    Ok(())
}

async fn remove(store: &dyn Store, id: i64, yes: bool) -> Result<()> {
    let entry = store.queue().await?.into_iter().find(|q| q.id.0 == id);
    let Some(entry) = entry else {
        return Err(Error::Usage(format!("no queued message {id}")));
    };
    if !yes {
        return Err(Error::Usage(format!(
            "removing queued message {id} drops it without a bounce to its sender; run again with --yes"
        )));
    }
    store.dequeue(QueueId(id)).await?;
    let recipients: Vec<String> = entry
        .recipients
        .iter()
        .map(|r| r.address.to_string())
        .collect();
    store
        .audit(AuditEvent {
            at: audit::now_ms(),
            kind: "queue.remove".into(),
            actor: audit::operator_actor(),
            subject: id.to_string(),
            outcome: "ok".into(),
            detail: serde_json::json!({ "recipients": recipients, "size": entry.message.len() }),
        })
        .await?;
    println!("removed queued message {id}");
    Ok(())
}
