//! The change feed across nodes: every write that changes folders sends one
//! `pg_notify('mssd_changes', '<node>:<mailbox>:<folder>:<modseq>')` per folder inside its
//! transaction (PostgreSQL delivers notifications at commit, never for a rolled-back write);
//! every store keeps one connection that `LISTEN`s and publishes what other nodes changed on
//! its own [`ChangeFeed`]. Its own changes it publishes itself right after commit.
//!
//! Notifications sent while the listening connection is down are lost: after each (re)connect
//! the listener publishes the current highest modseq of every watched folder, so a watcher may
//! be woken for nothing but never misses a change.

use std::future::poll_fn;
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::sync::mpsc;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{AsyncMessage, Socket};
use tracing::{debug, warn};

use super::{PostgresTls, Tx, execute, tls::MakeRustlsConnect};
use crate::change_feed::ChangeFeed;
use crate::error::{Error, Result};
use crate::model::{FolderChange, FolderId, MailboxId};

pub(crate) const CHANNEL: &str = "mssd_changes";

/// Longest wait between two attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Queues the notifications of `changes` in the writing transaction.
pub(crate) async fn send(tx: &Tx<'_>, node: &str, changes: &[FolderChange]) -> Result<()> {
    for c in changes {
        execute(
            tx,
            "SELECT pg_notify($1, $2)",
            &[&CHANNEL, &payload(node, c)],
        )
        .await?;
    }
    Ok(())
}

/// The notice of `change` made by `node` (read back by [`parse`]).
pub(crate) fn payload(node: &str, c: &FolderChange) -> String {
    format!("{node}:{}:{}:{}", c.mailbox.0, c.folder.0, c.highest_modseq)
}

/// A change another node made, from a payload; `None` for one of ours or an unreadable one.
fn parse(payload: &str, node: &str) -> Option<FolderChange> {
    let mut parts = payload.split(':');
    let (from, mailbox, folder, modseq) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if from == node || parts.next().is_some() {
        return None;
    }
    Some(FolderChange {
        mailbox: MailboxId(mailbox.parse().ok()?),
        folder: FolderId(folder.parse().ok()?),
        highest_modseq: modseq.parse().ok()?,
    })
}

/// What the listener needs; it runs until the store drops it (abort).
pub(crate) struct Listener {
    pub config: tokio_postgres::Config,
    pub tls: PostgresTls,
    pub feed: ChangeFeed,
    pub node: String,
    pub pool: Pool,
}

impl Listener {
    /// Listens, and listens again after every failure (with a growing pause).
    pub(crate) async fn run(self) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let outcome = match &self.tls {
                PostgresTls::Disabled => self.listen_once(tokio_postgres::NoTls).await,
                PostgresTls::Rustls(config) => {
                    self.listen_once(MakeRustlsConnect::new(config.clone()))
                        .await
                }
            };
            match outcome {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => warn!(error = %e, "postgres change feed: listening failed"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One listening connection, until it ends. `Ok` when it had been listening.
    async fn listen_once<T>(&self, tls: T) -> Result<()>
    where
        T: MakeTlsConnect<Socket>,
        T::Stream: Send + 'static,
    {
        let (client, mut connection) = self
            .config
            .connect(tls)
            .await
            .map_err(|e| super::pg_error("connecting to listen for changes", &e))?;
        let (sender, mut received) = mpsc::unbounded_channel();
        // The connection is driven here; notifications go to the loop below.
        let driver = tokio::spawn(async move {
            while let Some(message) = poll_fn(|cx| connection.poll_message(cx)).await {
                match message {
                    Ok(AsyncMessage::Notification(n)) => {
                        if sender.send(n.payload().to_owned()).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        debug!(error = %e, "postgres change feed: connection ended");
                        break;
                    }
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .await
            .map_err(|e| super::pg_error("listening for changes", &e))?;
        self.resync().await?;
        while let Some(payload) = received.recv().await {
            if let Some(change) = parse(&payload, &self.node) {
                self.feed.publish(change);
            }
        }
        driver.abort();
        Err(Error::Postgres(
            "listening for changes: the connection ended".to_owned(),
        ))
    }

    /// Publishes the current highest modseq of every watched folder.
    async fn resync(&self) -> Result<()> {
        let watched: Vec<i64> = self.feed.watched().iter().map(|f| f.0).collect();
        if watched.is_empty() {
            return Ok(());
        }
        let conn = self
            .pool
            .get()
            .await
            .map_err(|e| Error::Postgres(format!("getting a connection from the pool: {e}")))?;
        let rows = conn
            .query(
                "SELECT mailbox_id, id, highest_modseq FROM folders WHERE id = ANY($1)",
                &[&watched],
            )
            .await
            .map_err(|e| super::pg_error("reading watched folders", &e))?;
        for r in rows {
            let modseq: i64 = r.get(2);
            self.feed.publish(FolderChange {
                mailbox: MailboxId(r.get(0)),
                folder: FolderId(r.get(1)),
                highest_modseq: u64::try_from(modseq).unwrap_or(0),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (mailbox, folder, modseq) of a parsed change.
    type Parsed = Option<(i64, i64, u64)>;

    #[test]
    fn payloads() {
        let cases: &[(&str, Parsed)] = &[
            ("other:1:2:3", Some((1, 2, 3))),
            ("me:1:2:3", None),
            ("other:1:2", None),
            ("other:1:2:3:4", None),
            ("other:x:2:3", None),
            ("other:1:2:-3", None),
        ];
        for (payload, expected) in cases {
            let got = parse(payload, "me").map(|c| (c.mailbox.0, c.folder.0, c.highest_modseq));
            assert_eq!(got, *expected, "{payload}");
        }
    }
}
