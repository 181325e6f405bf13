//! Filling folders by IMAP APPEND: LITERAL+ (no round trip per literal) and pipelined, with
//! up to `window` commands in flight per connection, several connections per folder.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mssd_e2e::ImapClient;
use mssd_e2e::imap_client::quoted;

use crate::error::{Error, Result, io};
use crate::imap_messages::bench_message;
use crate::imap_setup::{ImapEndpoint, expect_ok};

/// What one fill achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FillReport {
    pub messages: usize,
    pub bytes: usize,
    pub elapsed: Duration,
}

impl FillReport {
    pub fn rate(&self) -> f64 {
        crate::stats::rate(self.messages, self.elapsed)
    }
}

/// One folder to fill: `count` messages of `seed`, as `user`.
#[derive(Debug, Clone)]
pub struct FillJob {
    pub user: String,
    pub folder: String,
    pub count: usize,
    pub seed: u64,
}

/// The APPEND command line of a LITERAL+ append of `size` bytes, its literal to follow.
pub fn append_line(tag: &str, folder: &str, flags: &str, date: &str, size: usize) -> String {
    format!(
        "{tag} APPEND {} {flags} \"{date}\" {{{size}+}}\r\n",
        quoted(folder)
    )
}

/// Runs every job at once, each over `connections` connections with `window` APPENDs in
/// flight on each; the report covers them all.
pub async fn fill_all(
    endpoint: &ImapEndpoint,
    jobs: &[FillJob],
    connections: usize,
    window: usize,
    domain: &str,
) -> Result<FillReport> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs {
        let connections = connections.clamp(1, job.count.max(1));
        for part in 0..connections {
            // Message indexes part, part + connections, ... of this job.
            let indexes: Vec<usize> = (part..job.count).step_by(connections).collect();
            let (endpoint, job, domain) = (endpoint.clone(), job.clone(), domain.to_string());
            tasks.spawn(async move {
                fill_connection(&endpoint, &job, &indexes, window.max(1), &domain).await
            });
        }
    }
    let mut report = FillReport::default();
    while let Some(joined) = tasks.join_next().await {
        let part = joined.map_err(|e| Error::Metrics(format!("fill task failed: {e}")))??;
        report.messages += part.messages;
        report.bytes += part.bytes;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn fill_connection(
    endpoint: &ImapEndpoint,
    job: &FillJob,
    indexes: &[usize],
    window: usize,
    domain: &str,
) -> Result<FillReport> {
    let mut client = endpoint.login(&job.user).await?;
    let mut in_flight: VecDeque<String> = VecDeque::with_capacity(window);
    let mut report = FillReport::default();
    for &index in indexes {
        if in_flight.len() >= window {
            complete_one(&mut client, &mut in_flight).await?;
        }
        let message = bench_message(job.seed, index, domain);
        let tag = client.next_tag();
        let line = append_line(
            &tag,
            &job.folder,
            message.flags,
            &message.internal_date,
            message.bytes.len(),
        );
        let mut wire = Vec::with_capacity(line.len() + message.bytes.len() + 2);
        wire.extend_from_slice(line.as_bytes());
        wire.extend_from_slice(&message.bytes);
        wire.extend_from_slice(b"\r\n");
        client
            .send_raw(&wire)
            .await
            .map_err(io(format!("APPEND to {} as {}", job.folder, job.user)))?;
        in_flight.push_back(tag);
        report.messages += 1;
        report.bytes += message.bytes.len();
    }
    while !in_flight.is_empty() {
        complete_one(&mut client, &mut in_flight).await?;
    }
    let _ = client.command("LOGOUT").await;
    Ok(report)
}

/// Reads the reply to the oldest APPEND in flight; an error unless it is OK.
async fn complete_one(client: &mut ImapClient, in_flight: &mut VecDeque<String>) -> Result<()> {
    let Some(tag) = in_flight.pop_front() else {
        return Ok(());
    };
    let reply = client
        .read_reply(&tag)
        .await
        .map_err(io(format!("reading the APPEND reply {tag}")))?;
    expect_ok("APPEND", &reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_lines_table() {
        let cases = [
            (
                (
                    "a1",
                    "INBOX",
                    "(\\Seen)",
                    "05-Mar-2021 14:07:00 +0000",
                    2048,
                ),
                "a1 APPEND \"INBOX\" (\\Seen) \"05-Mar-2021 14:07:00 +0000\" {2048+}\r\n",
            ),
            (
                (
                    "a9",
                    "Shared/org@a.fr",
                    "()",
                    "01-Jan-2020 00:00:00 +0000",
                    7,
                ),
                "a9 APPEND \"Shared/org@a.fr\" () \"01-Jan-2020 00:00:00 +0000\" {7+}\r\n",
            ),
            (
                ("t", "we\"ird", "()", "d", 0),
                "t APPEND \"we\\\"ird\" () \"d\" {0+}\r\n",
            ),
        ];
        for ((tag, folder, flags, date, size), expected) in cases {
            assert_eq!(append_line(tag, folder, flags, date, size), expected);
        }
    }
}
