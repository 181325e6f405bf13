//! The SMTP load: N connections over STARTTLS, each sending M messages in turn, MAIL/RCPT/DATA
//! pipelined (RFC 2920), each message timed from its final dot to the server's reply.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::connection::{SmtpConnection, connect_starttls};
use crate::error::Result;
use crate::message::{build_message, message_id};
use crate::reply::Reply;
use crate::stats::{LatencySummary, rate, summarize};

#[derive(Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    pub tls: Arc<ClientConfig>,
    /// The name the server certificate must carry.
    pub server_name: String,
    pub ehlo_name: String,
    pub from: String,
    pub to: String,
    /// When not empty, connection `n` writes to `spread[n % len]` instead of `to` (traffic
    /// spread over mailboxes, as between operators, rather than one hot mailbox).
    pub spread: Vec<String>,
    pub connections: usize,
    pub messages: usize,
    pub size: usize,
    /// Makes Message-IDs unique across runs.
    pub run_id: String,
}

/// A message (or a whole connection) that did not end with 250, and what the server said.
#[derive(Debug, Clone)]
pub struct Failure {
    pub connection: usize,
    /// `None` when the connection itself failed before its first message.
    pub message: Option<usize>,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct LoadReport {
    pub connections: usize,
    pub attempted: usize,
    pub accepted: usize,
    pub elapsed: Duration,
    pub latency: Option<LatencySummary>,
    pub failures: Vec<Failure>,
}

impl LoadReport {
    pub fn messages_per_second(&self) -> f64 {
        rate(self.accepted, self.elapsed)
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "accepted {} of {} messages over {} connections in {:.2} s: {:.0} messages/s",
            self.accepted,
            self.attempted,
            self.connections,
            self.elapsed.as_secs_f64(),
            self.messages_per_second()
        )?;
        match &self.latency {
            Some(l) => writeln!(
                f,
                "latency (final dot -> reply) over {} messages: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                l.count,
                millis(l.p50),
                millis(l.p99),
                millis(l.max)
            )?,
            None => writeln!(f, "latency: no message reached its final dot")?,
        }
        writeln!(f, "failures: {}", self.failures.len())?;
        // Enough to see what went wrong without flooding the terminal.
        for failure in self.failures.iter().take(20) {
            match failure.message {
                Some(m) => writeln!(
                    f,
                    "  connection {} message {m}: {}",
                    failure.connection, failure.detail
                )?,
                None => writeln!(f, "  connection {}: {}", failure.connection, failure.detail)?,
            }
        }
        if self.failures.len() > 20 {
            writeln!(f, "  … and {} more", self.failures.len() - 20)?;
        }
        Ok(())
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What one connection did.
#[derive(Default)]
struct ConnectionOutcome {
    attempted: usize,
    accepted: usize,
    latencies: Vec<Duration>,
    failures: Vec<Failure>,
}

/// Runs the whole load and reports it; failures are in the report, not errors.
pub async fn run_load(config: LoadConfig) -> LoadReport {
    let config = Arc::new(config);
    let started = Instant::now();
    let tasks: Vec<_> = (0..config.connections)
        .map(|n| tokio::spawn(run_connection(config.clone(), n)))
        .collect();
    let mut report = LoadReport {
        connections: config.connections,
        attempted: 0,
        accepted: 0,
        elapsed: Duration::ZERO,
        latency: None,
        failures: Vec::new(),
    };
    let mut latencies = Vec::with_capacity(config.connections * config.messages);
    for (n, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(outcome) => {
                report.attempted += outcome.attempted;
                report.accepted += outcome.accepted;
                latencies.extend(outcome.latencies);
                report.failures.extend(outcome.failures);
            }
            Err(e) => report.failures.push(Failure {
                connection: n,
                message: None,
                detail: format!("connection task failed: {e}"),
            }),
        }
    }
    report.elapsed = started.elapsed();
    report.latency = summarize(&mut latencies);
    report
}

async fn run_connection(config: Arc<LoadConfig>, n: usize) -> ConnectionOutcome {
    let mut outcome = ConnectionOutcome::default();
    let mut session = match connect_starttls(
        config.addr,
        &config.server_name,
        &config.ehlo_name,
        config.tls.clone(),
    )
    .await
    {
        Ok(session) => session,
        Err(e) => {
            outcome.failures.push(Failure {
                connection: n,
                message: None,
                detail: e.to_string(),
            });
            return outcome;
        }
    };
    for m in 0..config.messages {
        outcome.attempted += 1;
        match send_one(&mut session, &config, n, m).await {
            Ok(Sent::Accepted(latency)) => {
                outcome.accepted += 1;
                outcome.latencies.push(latency);
            }
            Ok(Sent::Refused { replies, latency }) => {
                outcome.latencies.extend(latency);
                outcome.failures.push(Failure {
                    connection: n,
                    message: Some(m),
                    detail: replies,
                });
            }
            Err(e) => {
                // The session is unusable (closed, broken TLS): stop this connection.
                outcome.failures.push(Failure {
                    connection: n,
                    message: Some(m),
                    detail: e.to_string(),
                });
                return outcome;
            }
        }
    }
    let _ = session.command("QUIT", "QUIT").await;
    outcome
}

/// How one message ended: accepted (with its final-dot-to-reply latency) or refused.
pub enum Sent {
    Accepted(Duration),
    Refused {
        /// The replies to MAIL, RCPT, DATA (and the final dot when it was sent).
        replies: String,
        latency: Option<Duration>,
    },
}

async fn send_one(
    session: &mut SmtpConnection<TlsStream<TcpStream>>,
    config: &LoadConfig,
    n: usize,
    m: usize,
) -> Result<Sent> {
    let id = message_id(&config.run_id, n, m, sender_domain(&config.from));
    let to = match config.spread.len() {
        0 => &config.to,
        len => &config.spread[n % len],
    };
    let body = build_message(&config.from, to, &id, config.size);
    send_message(session, &config.from, to, &body).await
}

/// Sends `body` (ready for the wire: no dot-stuffing needed) from `from` to `to`, MAIL/RCPT/
/// DATA pipelined, and times its final dot to the server's reply.
pub async fn send_message<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut SmtpConnection<S>,
    from: &str,
    to: &str,
    body: &[u8],
) -> Result<Sent> {
    session
        .send(format!("MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n").as_bytes())
        .await?;
    let mail = session.reply("MAIL").await?;
    let rcpt = session.reply("RCPT").await?;
    let data = session.reply("DATA").await?;
    if data.code != 354 {
        // Clear whatever MAIL left open, so the next message starts afresh.
        session.command("RSET", "RSET").await?;
        return Ok(Sent::Refused {
            replies: joined(&[&mail, &rcpt, &data]),
            latency: None,
        });
    }
    session.write(body).await?;
    let dot_sent = Instant::now();
    session.send(b".\r\n").await?;
    let end = session.reply("the final dot").await?;
    let latency = dot_sent.elapsed();
    if end.code == 250 && mail.code == 250 && rcpt.code == 250 {
        Ok(Sent::Accepted(latency))
    } else {
        Ok(Sent::Refused {
            replies: joined(&[&mail, &rcpt, &data, &end]),
            latency: Some(latency),
        })
    }
}

pub fn sender_domain(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(_, d)| d)
}

fn joined(replies: &[&Reply]) -> String {
    let parts: Vec<String> = replies.iter().map(|r| r.to_string()).collect();
    parts.join(" | ")
}
