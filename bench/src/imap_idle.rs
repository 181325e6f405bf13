//! Many connections logged in and waiting in IDLE, as mail clients leave them all day: what
//! they cost the server in memory, and whether one of them is still told about new mail.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mssd_e2e::ImapClient;

use crate::error::{Error, Result, io};
use crate::imap_messages::bench_message;
use crate::imap_setup::{ImapEndpoint, expect_ok};

/// Connections logged in, INBOX selected, in IDLE.
pub struct IdleCrowd {
    pub clients: Vec<(String, ImapClient)>,
    pub elapsed: Duration,
}

/// Opens `count` IDLE connections spread over `users`, at most `parallel` being set up at once.
pub async fn open_idle(
    endpoint: &ImapEndpoint,
    users: &[String],
    count: usize,
    parallel: usize,
) -> Result<IdleCrowd> {
    if users.is_empty() {
        return Err(Error::Metrics("no user for the IDLE connections".into()));
    }
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..count {
        let (endpoint, user, gate) = (
            endpoint.clone(),
            users[n % users.len()].clone(),
            gate.clone(),
        );
        tasks.spawn(async move {
            let _permit = gate
                .acquire_owned()
                .await
                .map_err(|e| Error::Metrics(format!("IDLE gate closed: {e}")))?;
            let client = enter_idle(&endpoint, &user)
                .await
                .map_err(|e| Error::Metrics(format!("IDLE connection {n} as {user}: {e}")))?;
            Ok::<_, Error>((user, client))
        });
    }
    let mut clients = Vec::with_capacity(count);
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined.map_err(|e| Error::Metrics(format!("IDLE task failed: {e}")))? {
            Ok(client) => clients.push(client),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(Error::Metrics(format!(
            "{} of {count} IDLE connections opened; first failure: {e}",
            clients.len()
        )));
    }
    Ok(IdleCrowd {
        clients,
        elapsed: started.elapsed(),
    })
}

async fn enter_idle(endpoint: &ImapEndpoint, user: &str) -> Result<ImapClient> {
    let mut client = endpoint.login(user).await?;
    let select = client
        .command("SELECT INBOX")
        .await
        .map_err(io("SELECT INBOX"))?;
    expect_ok("SELECT INBOX", &select)?;
    client.idle().await.map_err(io("IDLE"))?;
    Ok(client)
}

/// Appends one message to the INBOX of the crowd's first user and waits for that user's
/// idling connection to be told `* n EXISTS`; returns how long it took (None: not told).
pub async fn notification_delay(
    endpoint: &ImapEndpoint,
    crowd: &mut IdleCrowd,
    domain: &str,
    wait: Duration,
) -> Result<Option<Duration>> {
    let Some((user, _)) = crowd.clients.first() else {
        return Ok(None);
    };
    let user = user.clone();
    let mut writer = endpoint.login(&user).await?;
    let message = bench_message(99, 0, domain);
    let sent = Instant::now();
    let reply = writer
        .append("INBOX", "", &message.bytes, true)
        .await
        .map_err(io("APPEND for the IDLE check"))?;
    expect_ok("APPEND for the IDLE check", &reply)?;
    let _ = writer.command("LOGOUT").await;
    let Some((_, idler)) = crowd.clients.iter_mut().find(|(u, _)| *u == user) else {
        return Ok(None);
    };
    let deadline = sent + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match idler.idle_wait(left).await.map_err(io("waiting in IDLE"))? {
            Some(line) if line.ends_with(" EXISTS") => return Ok(Some(sent.elapsed())),
            Some(_) => continue,
            None => return Ok(None),
        }
    }
}
