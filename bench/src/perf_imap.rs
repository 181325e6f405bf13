//! IMAP LOGIN latency, warm: each client (its own mailbox, its own loopback address) logs in
//! once unmeasured, then until the time is up opens a new TCP + TLS connection (implicit TLS),
//! sends LOGIN (timed alone, to its tagged OK) and LOGOUT.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use mssd_e2e::ImapClient;

use crate::error::{Error, Result, io};
use crate::imap_setup::{ImapEndpoint, PASSWORD, expect_ok};
use crate::perf_smtp::Client;
use crate::stats::{LatencySummary, rate, summarize};

const KEPT_FAILURES: usize = 20;

#[derive(Debug, Clone, Default)]
pub struct LoginReport {
    pub clients: usize,
    pub logins: usize,
    pub elapsed: Duration,
    /// Sending LOGIN to its tagged OK.
    pub login: Option<LatencySummary>,
    /// TCP connect + TLS handshake + greeting, for comparison.
    pub connect: Option<LatencySummary>,
    pub failures: usize,
    pub first_failures: Vec<String>,
}

impl fmt::Display for LoginReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} logins over {} clients in {:.2} s: {:.0} logins/s",
            self.logins,
            self.clients,
            self.elapsed.as_secs_f64(),
            rate(self.logins, self.elapsed)
        )?;
        let line = |l: &LatencySummary| {
            format!(
                "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={})",
                l.p50.as_secs_f64() * 1000.0,
                l.p99.as_secs_f64() * 1000.0,
                l.max.as_secs_f64() * 1000.0,
                l.count
            )
        };
        if let Some(l) = &self.login {
            writeln!(f, "LOGIN -> tagged OK: {}", line(l))?;
        }
        if let Some(l) = &self.connect {
            writeln!(f, "connect + TLS + greeting: {}", line(l))?;
        }
        writeln!(f, "failures: {}", self.failures)?;
        for failure in &self.first_failures {
            writeln!(f, "  {failure}")?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Outcome {
    logins: Vec<Duration>,
    connects: Vec<Duration>,
    failures: usize,
    first_failures: Vec<String>,
}

/// Runs the clients for `duration` after their warm-up login.
pub async fn run_logins(
    endpoint: &ImapEndpoint,
    clients: &[Client],
    duration: Duration,
) -> LoginReport {
    // Warm-up first, all clients, so the measured window starts with every password verified
    // (the server remembers verifications) and every client ready.
    let mut warm = tokio::task::JoinSet::new();
    for client in clients {
        let (endpoint, client) = (endpoint.clone(), client.clone());
        warm.spawn(async move {
            login_once(&endpoint, &client)
                .await
                .map_err(|e| format!("warm-up of {} from {}: {e}", client.user, client.from))
        });
    }
    let mut report = LoginReport {
        clients: clients.len(),
        ..LoginReport::default()
    };
    while let Some(joined) = warm.join_next().await {
        if let Err(e) = joined
            .map_err(|e| e.to_string())
            .and_then(|r| r.map(|_| ()))
        {
            report.failures += 1;
            report.first_failures.push(e);
        }
    }
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = clients
        .iter()
        .map(|client| {
            let (endpoint, client) = (endpoint.clone(), client.clone());
            tokio::spawn(async move {
                let mut outcome = Outcome::default();
                while Instant::now() < deadline {
                    match login_once(&endpoint, &client).await {
                        Ok((connect, login)) => {
                            outcome.connects.push(connect);
                            outcome.logins.push(login);
                        }
                        Err(e) => {
                            outcome.failures += 1;
                            if outcome.first_failures.len() < KEPT_FAILURES {
                                outcome
                                    .first_failures
                                    .push(format!("{} from {}: {e}", client.user, client.from));
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    }
                }
                outcome
            })
        })
        .collect();
    let (mut logins, mut connects) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await {
            Ok(outcome) => {
                report.failures += outcome.failures;
                let room = KEPT_FAILURES.saturating_sub(report.first_failures.len());
                report
                    .first_failures
                    .extend(outcome.first_failures.into_iter().take(room));
                logins.extend(outcome.logins);
                connects.extend(outcome.connects);
            }
            Err(e) => {
                report.failures += 1;
                report.first_failures.push(format!("client task: {e}"));
            }
        }
    }
    report.elapsed = started.elapsed();
    report.logins = logins.len();
    report.login = summarize(&mut logins);
    report.connect = summarize(&mut connects);
    report
}

/// One connection: (connect + TLS + greeting, LOGIN alone); then LOGOUT.
async fn login_once(endpoint: &ImapEndpoint, client: &Client) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    let (mut imap, greeting) = connect(client.from, endpoint).await?;
    let connected = started.elapsed();
    if !greeting.starts_with("* OK") {
        return Err(Error::UnexpectedReply {
            step: "IMAP greeting",
            expected: "* OK",
            reply: greeting,
        });
    }
    let sent = Instant::now();
    let reply = imap
        .login(&client.user, PASSWORD)
        .await
        .map_err(io(format!("LOGIN {}", client.user)))?;
    let login = sent.elapsed();
    expect_ok("LOGIN", &reply)?;
    let reply = imap.command("LOGOUT").await.map_err(io("LOGOUT"))?;
    expect_ok("LOGOUT", &reply)?;
    Ok((connected, login))
}

async fn connect(from: IpAddr, endpoint: &ImapEndpoint) -> Result<(ImapClient, String)> {
    ImapClient::connect_tls_from(
        from,
        endpoint.addr,
        endpoint.tls.clone(),
        &endpoint.server_name,
    )
    .await
    .map_err(io(format!(
        "connecting to imaps {} from {from}",
        endpoint.addr
    )))
}
