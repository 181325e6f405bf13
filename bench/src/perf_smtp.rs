//! Two timed SMTP loads of `perf-bench`, each client from its own loopback address:
//! submission (STARTTLS + AUTH PLAIN once, then messages to oneself until the time is up) and
//! the MTA reconnecting for every message (new TCP + STARTTLS with the peer certificate, a
//! session cache per client so TLS 1.3 tickets are reused, EHLO, one message, QUIT).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ClientConfig, HandshakeKind};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::connection::{SmtpConnection, client_config, connect_starttls_from};
use crate::error::{Error, Result};
use crate::load::{Sent, send_message};
use crate::message::{build_message, message_id};
use crate::stats::{LatencySummary, rate, summarize};

/// Failures kept in a report (the count is kept whole).
const KEPT_FAILURES: usize = 20;
/// Pause after a failed connection before the next one, so a refusing server is not spun on.
const AFTER_FAILURE: Duration = Duration::from_millis(20);

/// One client: its source address and its mailbox (for submission).
#[derive(Debug, Clone)]
pub struct Client {
    pub from: IpAddr,
    pub user: String,
}

/// What a timed load did.
#[derive(Debug, Clone, Default)]
pub struct TimedReport {
    pub clients: usize,
    pub accepted: usize,
    pub refused: usize,
    pub elapsed: Duration,
    /// Final dot to the reply.
    pub latency: Option<LatencySummary>,
    /// Reconnect load: connect to the reply to QUIT, per message.
    pub cycle: Option<LatencySummary>,
    /// Reconnect load: TLS handshakes completed, and how many of them resumed a session.
    pub handshakes: usize,
    pub resumed: usize,
    pub failures: usize,
    pub first_failures: Vec<String>,
    /// Submission: when the last client was authenticated (the sending phase starts).
    pub all_authenticated: Option<Instant>,
}

impl TimedReport {
    pub fn messages_per_second(&self) -> f64 {
        rate(self.accepted, self.elapsed)
    }

    /// Share of handshakes that were resumed, `None` without a handshake.
    pub fn resumed_share(&self) -> Option<f64> {
        (self.handshakes > 0).then(|| self.resumed as f64 / self.handshakes as f64)
    }
}

impl fmt::Display for TimedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "accepted {} messages ({} refused) over {} clients in {:.2} s: {:.0} messages/s",
            self.accepted,
            self.refused,
            self.clients,
            self.elapsed.as_secs_f64(),
            self.messages_per_second()
        )?;
        let line = |l: &LatencySummary| {
            format!(
                "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})",
                millis(l.p50),
                millis(l.p99),
                millis(l.max),
                l.count
            )
        };
        if let Some(l) = &self.latency {
            writeln!(f, "latency (final dot -> 250): {}", line(l))?;
        }
        if let Some(l) = &self.cycle {
            writeln!(f, "whole cycle (connect -> 221 to QUIT): {}", line(l))?;
        }
        if let Some(share) = self.resumed_share() {
            writeln!(
                f,
                "TLS handshakes: {} of {} resumed ({:.1} %)",
                self.resumed,
                self.handshakes,
                share * 100.0
            )?;
        }
        writeln!(f, "failures: {}", self.failures)?;
        for failure in &self.first_failures {
            writeln!(f, "  {failure}")?;
        }
        Ok(())
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What one client task did.
#[derive(Default)]
struct Outcome {
    accepted: usize,
    refused: usize,
    latencies: Vec<Duration>,
    cycles: Vec<Duration>,
    handshakes: usize,
    resumed: usize,
    failures: usize,
    first_failures: Vec<String>,
    authenticated: Option<Instant>,
}

impl Outcome {
    fn fail(&mut self, what: String) {
        self.failures += 1;
        if self.first_failures.len() < KEPT_FAILURES {
            self.first_failures.push(what);
        }
    }

    fn count(&mut self, sent: Sent, who: &str) {
        match sent {
            Sent::Accepted(latency) => {
                self.accepted += 1;
                self.latencies.push(latency);
            }
            Sent::Refused { replies, latency } => {
                self.refused += 1;
                self.latencies.extend(latency);
                self.fail(format!("{who}: refused: {replies}"));
            }
        }
    }
}

/// Joins the client tasks into one report.
async fn gather(tasks: Vec<tokio::task::JoinHandle<Outcome>>, started: Instant) -> TimedReport {
    let mut report = TimedReport {
        clients: tasks.len(),
        ..TimedReport::default()
    };
    let (mut latencies, mut cycles) = (Vec::new(), Vec::new());
    for task in tasks {
        let outcome = match task.await {
            Ok(outcome) => outcome,
            Err(e) => {
                let mut outcome = Outcome::default();
                outcome.fail(format!("client task failed: {e}"));
                outcome
            }
        };
        report.accepted += outcome.accepted;
        report.refused += outcome.refused;
        report.handshakes += outcome.handshakes;
        report.resumed += outcome.resumed;
        report.failures += outcome.failures;
        report.all_authenticated = report.all_authenticated.max(outcome.authenticated);
        let room = KEPT_FAILURES.saturating_sub(report.first_failures.len());
        report
            .first_failures
            .extend(outcome.first_failures.into_iter().take(room));
        latencies.extend(outcome.latencies);
        cycles.extend(outcome.cycles);
    }
    report.elapsed = started.elapsed();
    report.latency = summarize(&mut latencies);
    report.cycle = summarize(&mut cycles);
    report
}

/// The submission load: where, how, what and for how long.
#[derive(Clone)]
pub struct SubmissionConfig {
    pub addr: SocketAddr,
    /// Trusts our root; no client certificate.
    pub tls: Arc<ClientConfig>,
    pub server_name: String,
    pub password: String,
    pub size: usize,
    pub duration: Duration,
    pub run_id: String,
}

/// Each client: STARTTLS, AUTH PLAIN as its mailbox, then 10 KB messages to itself, one after
/// the other, until `duration` has passed since the start; then QUIT.
pub async fn run_submission(config: SubmissionConfig, clients: &[Client]) -> TimedReport {
    let config = Arc::new(config);
    let started = Instant::now();
    let deadline = started + config.duration;
    let tasks = clients
        .iter()
        .enumerate()
        .map(|(n, client)| {
            let (config, client) = (config.clone(), client.clone());
            tokio::spawn(async move {
                let mut outcome = Outcome::default();
                if let Err(e) = submit_until(&config, &client, n, deadline, &mut outcome).await {
                    outcome.fail(format!("{} from {}: {e}", client.user, client.from));
                }
                outcome
            })
        })
        .collect();
    gather(tasks, started).await
}

async fn submit_until(
    config: &SubmissionConfig,
    client: &Client,
    n: usize,
    deadline: Instant,
    outcome: &mut Outcome,
) -> Result<()> {
    let mut session = connect_starttls_from(
        Some(client.from),
        config.addr,
        &config.server_name,
        "client.bench.invalid",
        config.tls.clone(),
    )
    .await?;
    let plain = mssd_e2e::peers::plain(&client.user, &config.password);
    let auth = session
        .command(&format!("AUTH PLAIN {plain}"), "AUTH PLAIN")
        .await?;
    if auth.code != 235 {
        return Err(Error::UnexpectedReply {
            step: "AUTH PLAIN",
            expected: "235",
            reply: auth.to_string(),
        });
    }
    outcome.authenticated = Some(Instant::now());
    let domain = crate::load::sender_domain(&client.user);
    let mut m = 0;
    while Instant::now() < deadline {
        let id = message_id(&config.run_id, n, m, domain);
        let body = build_message(&client.user, &client.user, &id, config.size);
        let sent = send_message(&mut session, &client.user, &client.user, &body).await?;
        outcome.count(sent, &client.user);
        m += 1;
    }
    let _ = session.command("QUIT", "QUIT").await;
    Ok(())
}

/// The reconnect load on the MTA listener.
#[derive(Clone)]
pub struct ReconnectConfig {
    pub addr: SocketAddr,
    pub server_name: String,
    pub ehlo_name: String,
    /// Our root (the server's chain), the peer MTA's chain and key.
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub from: String,
    pub to: String,
    pub size: usize,
    pub duration: Duration,
    pub run_id: String,
}

/// Each client, with its own TLS configuration (and so its own session cache): connect,
/// STARTTLS, EHLO, one message, QUIT, again until `duration` has passed.
pub async fn run_reconnect(config: ReconnectConfig, clients: &[Client]) -> Result<TimedReport> {
    // One ClientConfig per client: the default `Resumption` (in-memory, 256 sessions) keeps
    // the tickets this client received, as a peer MTA process would.
    let tls = clients
        .iter()
        .map(|_| client_config(&config.ca, &config.cert, &config.key))
        .collect::<Result<Vec<_>>>()?;
    let config = Arc::new(config);
    let started = Instant::now();
    let deadline = started + config.duration;
    let tasks = clients
        .iter()
        .zip(tls)
        .enumerate()
        .map(|(n, (client, tls))| {
            let (config, from) = (config.clone(), client.from);
            tokio::spawn(async move { reconnect_until(&config, tls, from, n, deadline).await })
        })
        .collect();
    Ok(gather(tasks, started).await)
}

async fn reconnect_until(
    config: &ReconnectConfig,
    tls: Arc<ClientConfig>,
    from: IpAddr,
    n: usize,
    deadline: Instant,
) -> Outcome {
    let mut outcome = Outcome::default();
    let domain = crate::load::sender_domain(&config.from);
    let mut m = 0;
    while Instant::now() < deadline {
        let id = message_id(&config.run_id, n, m, domain);
        let body = build_message(&config.from, &config.to, &id, config.size);
        m += 1;
        let started = Instant::now();
        if let Err(e) = one_connection(config, tls.clone(), from, &body, &mut outcome).await {
            outcome.fail(format!("client {n} from {from}, message {m}: {e}"));
            tokio::time::sleep(AFTER_FAILURE).await;
            continue;
        }
        outcome.cycles.push(started.elapsed());
    }
    outcome
}

async fn one_connection(
    config: &ReconnectConfig,
    tls: Arc<ClientConfig>,
    from: IpAddr,
    body: &[u8],
    outcome: &mut Outcome,
) -> Result<()> {
    let mut session = connect_starttls_from(
        Some(from),
        config.addr,
        &config.server_name,
        &config.ehlo_name,
        tls,
    )
    .await?;
    outcome.handshakes += 1;
    if handshake_kind(&session) == Some(HandshakeKind::Resumed) {
        outcome.resumed += 1;
    }
    let sent = send_message(&mut session, &config.from, &config.to, body).await?;
    outcome.count(sent, &config.from);
    session.expect("QUIT", "QUIT", 221).await?;
    Ok(())
}

fn handshake_kind(session: &SmtpConnection<TlsStream<TcpStream>>) -> Option<HandshakeKind> {
    session.get_ref().get_ref().1.handshake_kind()
}
