//! Durable message writes through the Store API: `writers` tasks, each with its own
//! mailbox, write `size`-byte messages for a fixed time, each call returning once its write
//! is committed. `accept` is what SMTP does for an accepted message (delivery, usage counter
//! and audit line in one transaction); `deliver` is the same delivery without the audit line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mssd_core::{Address, MailboxKind};
use mssd_store::{
    Acceptance, AuditEvent, Delivery, Direction, MailboxId, NewMailbox, Store, UsageCount,
};

use crate::error::{Error, Result};
use crate::stats::{LatencySummary, rate, summarize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCall {
    Accept,
    Deliver,
}

impl WriteCall {
    pub fn label(self) -> &'static str {
        match self {
            WriteCall::Accept => "accept",
            WriteCall::Deliver => "deliver",
        }
    }
}

#[derive(Debug)]
pub struct WriteReport {
    pub writes: usize,
    pub elapsed: Duration,
    pub latency: Option<LatencySummary>,
    /// Commits the store counted meanwhile (writes per commit = the group commit's gain).
    pub commits: u64,
}

impl WriteReport {
    pub fn per_second(&self) -> f64 {
        rate(self.writes, self.elapsed)
    }
}

/// Creates `writers` mailboxes (the first call on a store), then runs the writers.
pub async fn run_writes(
    store: Arc<dyn Store>,
    call: WriteCall,
    writers: usize,
    size: usize,
    duration: Duration,
) -> Result<WriteReport> {
    let mut mailboxes = Vec::with_capacity(writers);
    for n in 0..writers {
        let text = format!("{}-writer{n}@hopital-a.test.mssante.fr", call.label());
        let address = Address::parse(&text).map_err(|_| Error::Address(text.clone()))?;
        let m = store
            .create_mailbox(NewMailbox {
                address,
                kind: MailboxKind::Per,
                display_name: None,
                owner_id_nat: None,
                password_hash: None,
                certificate_dn: None,
                quota_bytes: None,
            })
            .await?;
        mailboxes.push((m.id, text));
    }
    let before = store.stats();
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for (id, address) in mailboxes {
        let store = Arc::clone(&store);
        tasks.spawn(async move { writer(store, call, id, address, size, deadline).await });
    }
    let mut samples = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let mine = joined.map_err(|e| Error::Metrics(format!("writer task failed: {e}")))??;
        samples.extend(mine);
    }
    let elapsed = started.elapsed();
    let after = store.stats();
    Ok(WriteReport {
        writes: samples.len(),
        elapsed,
        latency: summarize(&mut samples),
        commits: after.commits.saturating_sub(before.commits),
    })
}

async fn writer(
    store: Arc<dyn Store>,
    call: WriteCall,
    mailbox: MailboxId,
    address: String,
    size: usize,
    deadline: Instant,
) -> Result<Vec<Duration>> {
    let mut samples = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        let message = message_bytes(&address, n, size);
        let delivery = Delivery {
            recipients: vec![mailbox],
            message: message.into(),
            internal_date: 1_790_000_000,
            documents: Vec::new(),
        };
        let began = Instant::now();
        match call {
            WriteCall::Deliver => {
                store.deliver(delivery).await?;
            }
            WriteCall::Accept => {
                store
                    .accept(Acceptance {
                        delivery: Some(delivery),
                        queued: None,
                        audit: AuditEvent {
                            at: 1_790_000_000_000,
                            kind: "smtp.accept".into(),
                            actor: "mail.clinique-b.test.mssante.fr".into(),
                            subject: address.clone(),
                            outcome: "ok".into(),
                            detail: serde_json::json!({ "n": n, "size": size }),
                        },
                        usage: vec![UsageCount {
                            mailbox: address.clone(),
                            direction: Direction::Received,
                            xdm: false,
                            documents: 0,
                            qualified_ins: 0,
                        }],
                        exchanges: Vec::new(),
                        notify: Vec::new(),
                    })
                    .await?;
            }
        }
        samples.push(began.elapsed());
        n += 1;
    }
    Ok(samples)
}

/// A `size`-byte message (at least its header) for `to`.
fn message_bytes(to: &str, n: u64, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: <secretariat@clinique-b.test.mssante.fr>\r\nTo: <{to}>\r\n\
         Subject: backend bench {n}\r\nMessage-ID: <{n}.{to}>\r\n\r\n"
    )
    .into_bytes();
    let header = m.len();
    while m.len() < size {
        m.extend_from_slice(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n");
    }
    m.truncate(size.max(header));
    m
}
