//! The IMAP benchmark on a fresh operator: one ORG mailbox of 10,000 messages shared read,write
//! with 20 professionals who each have 500 messages, filled by pipelined LITERAL+ APPEND; then
//! a shared-folder mix, a personal-folder mix, the latency of FETCH 1:* on the big folder
//! (cold after a restart, then warm), and the server's memory with 1,000 connections in IDLE.
//!
//! Build the server and the bench first (release only measures anything), then run:
//!   cargo build --release -p mssd-bench -p mssd
//!   target/release/imap-bench [--clients 20 --shared-messages 10000 --duration 20 ...]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use mssd_bench::imap_fill::{FillJob, FillReport, fill_all};
use mssd_bench::imap_idle::{notification_delay, open_idle};
use mssd_bench::imap_mix::{Kind, MixClient, MixReport, run_mix};
use mssd_bench::imap_proc::{child_pid, cpu_time, raise_open_files, rss_kib};
use mssd_bench::imap_report::{Figure, Target, latency_line, millis, table};
use mssd_bench::imap_setup::{
    BenchWorld, ImapEndpoint, add_professional, configure_imap, create_world, expect_ok,
};
use mssd_bench::operator::BenchOperator;
use mssd_bench::{Error, Result};

const DOMAIN: &str = "hopital-a.test.mssante.fr";

#[derive(Parser)]
#[command(
    about = "Runs mssd serve on a temporary operator and measures IMAP throughput, latency and memory",
    after_help = "Build first: cargo build --release -p mssd-bench -p mssd\nThen: target/release/imap-bench"
)]
struct Args {
    /// The mssd binary (default: the workspace's target/release/mssd).
    #[arg(long)]
    mssd: Option<PathBuf>,
    /// Concurrent clients of the mixes (one professional mailbox each).
    #[arg(long, default_value_t = 20)]
    clients: usize,
    /// Messages in the shared ORG mailbox.
    #[arg(long, default_value_t = 10_000)]
    shared_messages: usize,
    /// Messages in each professional's INBOX.
    #[arg(long, default_value_t = 500)]
    personal_messages: usize,
    /// Seconds each mix runs.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Connections filling the shared mailbox.
    #[arg(long, default_value_t = 4)]
    fill_connections: usize,
    /// APPENDs in flight per filling connection.
    #[arg(long, default_value_t = 32)]
    pipeline: usize,
    /// Connections left in IDLE for the memory measure (0 skips it).
    #[arg(long, default_value_t = 1000)]
    idle_connections: usize,
    /// IDLE connections per mailbox (the server limits sessions per mailbox).
    #[arg(long, default_value_t = 40)]
    idle_per_mailbox: usize,
    /// IDLE connections being set up at once (each login verifies an argon2 hash, ~19 MiB
    /// each: more at once would inflate the server's RSS with hashing memory).
    #[arg(long, default_value_t = 2)]
    idle_parallel: usize,
    /// Warm FETCH 1:* repetitions after the cold one.
    #[arg(long, default_value_t = 10)]
    warm_fetches: usize,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

/// Everything measured, `None` where a step could not run.
#[derive(Default)]
struct Figures {
    fill: Option<FillReport>,
    mix_a: Option<MixReport>,
    mix_b: Option<MixReport>,
    fetch_cold: Option<Duration>,
    fetch_warm: Option<Duration>,
    fetch_bytes: Option<usize>,
    rss_idle_before_kib: Option<u64>,
    rss_idle_with_kib: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("imap-bench: starting the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("imap-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// True when every figure meets its target.
async fn run(args: &Args) -> Result<bool> {
    let bin = args.mssd.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/mssd")
    });
    if !bin.is_file() {
        return Err(Error::ServerStart(format!(
            "no mssd binary at {}: build it with `cargo build --release -p mssd`",
            bin.display()
        )));
    }
    // The server runs in the operator's folder: a relative path would not resolve there.
    let bin = std::path::absolute(&bin).map_err(|source| Error::Io {
        what: format!("resolving {}", bin.display()),
        source,
    })?;
    let wanted_files = (args.idle_connections + args.clients * 4 + 1024) as u64;
    let files = raise_open_files(wanted_files)?;
    if files < wanted_files {
        println!("warning: open-files limit {files} < {wanted_files}: IDLE connections may fail");
    }

    let operator = BenchOperator::new(&bin, DOMAIN)?;
    configure_imap(&operator, args.idle_connections + args.clients * 2)?;
    let world = create_world(&operator, args.clients)?;
    let mut idle_users = world.professionals.clone();
    let needed = args.idle_connections.div_ceil(args.idle_per_mailbox.max(1));
    for n in idle_users.len()..needed {
        idle_users.push(add_professional(&operator, "idle", n)?);
    }
    let tls = mssd_e2e::tls_client_config(&operator.pki("root.pem"), None);
    let server_name = format!("mail.{DOMAIN}");

    let server = operator.start()?;
    let endpoint = ImapEndpoint {
        addr: server.addr("imaps")?,
        tls: tls.clone(),
        server_name: server_name.clone(),
    };
    println!(
        "mssd {} (pid {}), imaps on {}; {} clients, {} shared + {} x {} personal messages",
        bin.display(),
        child_pid(&bin)?,
        endpoint.addr,
        args.clients,
        args.shared_messages,
        args.clients,
        args.personal_messages
    );
    let mut figures = Figures {
        fill: Some(fill(args, &endpoint, &world).await?),
        ..Figures::default()
    };

    // A restart empties the server's caches: the first FETCH 1:* below is a cold one.
    let stopped = Instant::now();
    server.stop(Duration::from_secs(30))?;
    let server = operator.start()?;
    let endpoint = ImapEndpoint {
        addr: server.addr("imaps")?,
        ..endpoint
    };
    let pid = child_pid(&bin)?;
    println!(
        "\nrestarted mssd (pid {pid}) in {:.1} s; RSS {} MB",
        stopped.elapsed().as_secs_f64(),
        rss_kib(pid)? / 1024
    );

    fetch_latency(args, &endpoint, &world, &mut figures).await?;
    let shared = world.shared_folder();
    let clients_a: Vec<MixClient> = world
        .professionals
        .iter()
        .map(|user| MixClient {
            user: user.clone(),
            folder: shared.clone(),
        })
        .collect();
    let duration = Duration::from_secs(args.duration);
    let cpu = CpuMeter::start(pid);
    let mix_a = run_mix(&endpoint, &clients_a, duration, args.seed).await?;
    print_mix(
        &format!("mix A: {} clients on {shared}", args.clients),
        &mix_a,
    );
    cpu.print();
    figures.mix_a = Some(mix_a);

    let clients_b: Vec<MixClient> = world
        .professionals
        .iter()
        .map(|user| MixClient {
            user: user.clone(),
            folder: "INBOX".into(),
        })
        .collect();
    let cpu = CpuMeter::start(pid);
    let mix_b = run_mix(&endpoint, &clients_b, duration, args.seed + 1).await?;
    print_mix(
        &format!("mix B: {} clients, each on its own INBOX", args.clients),
        &mix_b,
    );
    cpu.print();
    figures.mix_b = Some(mix_b);

    // A fresh process for the memory figure: it is what the IDLE sessions cost, not the
    // caches the mixes warmed (those are bounded and reported before the IDLE connections).
    let server = if args.idle_connections > 0 {
        server.stop(Duration::from_secs(30))?;
        let server = operator.start()?;
        let endpoint = ImapEndpoint {
            addr: server.addr("imaps")?,
            ..endpoint
        };
        let pid = child_pid(&bin)?;
        println!("\nrestarted mssd (pid {pid}) for the IDLE memory measure");
        idle_memory(args, &endpoint, &idle_users, pid, &mut figures).await;
        server
    } else {
        server
    };

    let status = server.stop(Duration::from_secs(30))?;
    println!(
        "\nmssd stopped ({status}); log in {}",
        operator.dir.path().join("serve.log").display()
    );
    let rows = figure_rows(&figures, args.shared_messages);
    println!("\n{}", table(&rows));
    Ok(rows.iter().all(|f| f.passes() != Some(false)))
}

async fn fill(args: &Args, endpoint: &ImapEndpoint, world: &BenchWorld) -> Result<FillReport> {
    let shared = FillJob {
        user: world.org.clone(),
        folder: "INBOX".into(),
        count: args.shared_messages,
        seed: args.seed,
    };
    let report = fill_all(
        endpoint,
        &[shared],
        args.fill_connections,
        args.pipeline,
        DOMAIN,
    )
    .await?;
    print_fill(&format!("APPEND {} (shared INBOX)", world.org), &report);
    let personal: Vec<FillJob> = world
        .professionals
        .iter()
        .enumerate()
        .map(|(n, user)| FillJob {
            user: user.clone(),
            folder: "INBOX".into(),
            count: args.personal_messages,
            seed: args.seed + 1 + n as u64,
        })
        .collect();
    let second = fill_all(endpoint, &personal, 1, args.pipeline, DOMAIN).await?;
    print_fill(
        &format!("APPEND {} personal INBOXes", personal.len()),
        &second,
    );
    let total = FillReport {
        messages: report.messages + second.messages,
        bytes: report.bytes + second.bytes,
        elapsed: report.elapsed + second.elapsed,
    };
    print_fill("APPEND total", &total);
    Ok(total)
}

/// CPU used by the server and by this benchmark (TLS and parsing on the same 2 cores) during
/// one step, so a reader can tell which side was busy.
struct CpuMeter {
    pid: u32,
    started: Instant,
    server: Option<Duration>,
    bench: Option<Duration>,
}

impl CpuMeter {
    fn start(pid: u32) -> CpuMeter {
        CpuMeter {
            pid,
            started: Instant::now(),
            server: cpu_time(pid).ok(),
            bench: cpu_time(std::process::id()).ok(),
        }
    }

    fn print(&self) {
        let wall = self.started.elapsed().as_secs_f64();
        let used = |before: Option<Duration>, pid: u32| {
            before
                .zip(cpu_time(pid).ok())
                .map_or("?".to_string(), |(b, a)| {
                    format!("{:.1} s", a.saturating_sub(b).as_secs_f64())
                })
        };
        println!(
            "  CPU over {wall:.1} s of wall time: mssd {}, imap-bench {}",
            used(self.server, self.pid),
            used(self.bench, std::process::id())
        );
    }
}

fn print_fill(what: &str, report: &FillReport) {
    println!(
        "{what}: {} messages, {:.1} MB in {:.1} s = {:.0} messages/s",
        report.messages,
        report.bytes as f64 / 1e6,
        report.elapsed.as_secs_f64(),
        report.rate()
    );
}

/// FETCH 1:* (FLAGS ENVELOPE) on the shared folder: first after the restart, then the median
/// of `warm_fetches` more.
async fn fetch_latency(
    args: &Args,
    endpoint: &ImapEndpoint,
    world: &BenchWorld,
    figures: &mut Figures,
) -> Result<()> {
    let folder = world.shared_folder();
    let user = world
        .professionals
        .first()
        .ok_or_else(|| Error::Metrics("no professional mailbox".into()))?;
    let mut client = endpoint.login(user).await?;
    let select = client
        .command(&format!("SELECT \"{folder}\""))
        .await
        .map_err(|source| Error::Io {
            what: format!("SELECT {folder}"),
            source,
        })?;
    expect_ok("SELECT shared folder", &select)?;
    let mut timings = Vec::with_capacity(args.warm_fetches + 1);
    for _ in 0..=args.warm_fetches {
        let sent = Instant::now();
        let reply = client
            .command("FETCH 1:* (FLAGS ENVELOPE)")
            .await
            .map_err(|source| Error::Io {
                what: "FETCH 1:* (FLAGS ENVELOPE)".into(),
                source,
            })?;
        timings.push(sent.elapsed());
        expect_ok("FETCH 1:*", &reply)?;
        let fetched = reply
            .untagged
            .iter()
            .filter(|u| u.line.contains(" FETCH "))
            .count();
        if fetched != args.shared_messages {
            return Err(Error::UnexpectedReply {
                step: "FETCH 1:* on the shared folder",
                expected: "one FETCH response per message",
                reply: format!("{fetched} for {} messages", args.shared_messages),
            });
        }
        figures.fetch_bytes = Some(reply.bytes);
    }
    let cold = timings[0];
    let mut warm = timings[1..].to_vec();
    warm.sort_unstable();
    let median = warm.get(warm.len() / 2).copied();
    println!(
        "\nFETCH 1:* (FLAGS ENVELOPE) on {folder}: cold {:.1} ms, warm median {} ({} bytes)",
        millis(cold),
        median.map_or("-".into(), |m| format!("{:.1} ms", millis(m))),
        figures.fetch_bytes.unwrap_or(0)
    );
    figures.fetch_cold = Some(cold);
    figures.fetch_warm = median;
    // SORT and THREAD (RFC 5256) on the same folder, warm: the median of five (target
    // < 100 ms).
    for command in [
        "SORT (DATE) UTF-8 ALL",
        "SORT (SUBJECT) UTF-8 ALL",
        "THREAD REFERENCES UTF-8 ALL",
        "THREAD ORDEREDSUBJECT UTF-8 ALL",
    ] {
        let mut timings = Vec::new();
        for _ in 0..5 {
            let sent = Instant::now();
            let reply = client.command(command).await.map_err(|source| Error::Io {
                what: command.into(),
                source,
            })?;
            timings.push(sent.elapsed());
            expect_ok(command, &reply)?;
        }
        timings.sort_unstable();
        println!(
            "{command} on {folder}: median {:.1} ms over 5",
            millis(timings[2])
        );
    }
    compression_savings(&mut client, &folder).await?;
    let _ = client.command("LOGOUT").await;
    Ok(())
}

/// COMPRESS=DEFLATE (RFC 4978): FETCH 1:* ENVELOPE of the folder in clear, then compressed,
/// and the bytes that travelled each time.
async fn compression_savings(client: &mut mssd_e2e::ImapClient, folder: &str) -> Result<()> {
    const FETCH: &str = "FETCH 1:* ENVELOPE";
    let io = |what: &str| {
        let what = what.to_owned();
        move |source| Error::Io { what, source }
    };
    let clear = client.command(FETCH).await.map_err(io(FETCH))?;
    expect_ok(FETCH, &clear)?;
    let reply = client.compress().await.map_err(io("COMPRESS"))?;
    expect_ok("COMPRESS DEFLATE", &reply)?;
    let before = client.wire_bytes_read();
    let compressed = client.command(FETCH).await.map_err(io(FETCH))?;
    expect_ok(FETCH, &compressed)?;
    let wire = client.wire_bytes_read() - before;
    let plain = compressed.bytes as u64;
    println!(
        "COMPRESS=DEFLATE, {FETCH} on {folder}: {plain} bytes ({} in clear), {wire} on the \
         wire: {:.0} % saved",
        clear.bytes,
        100.0 * (1.0 - wire as f64 / plain.max(1) as f64)
    );
    Ok(())
}

fn print_mix(title: &str, report: &MixReport) {
    println!(
        "\n{title}: {} commands in {:.1} s = {:.0} commands/s",
        report.commands,
        report.elapsed.as_secs_f64(),
        report.commands_per_second()
    );
    for (kind, summary) in &report.by_kind {
        println!("  {:<28} {}", kind.label(), latency_line(summary));
    }
    if let Some(overall) = &report.overall {
        println!("  {:<28} {}", "all", latency_line(overall));
    }
    println!("  FETCH 1:* response: {} bytes", report.fetch_all_bytes);
    for failure in &report.failures {
        println!("  failed: {failure}");
    }
}

/// RSS before and with `idle_connections` sessions in IDLE; failures are reported, not fatal.
async fn idle_memory(
    args: &Args,
    endpoint: &ImapEndpoint,
    users: &[String],
    pid: u32,
    figures: &mut Figures,
) {
    figures.rss_idle_before_kib = rss_kib(pid).ok();
    let mut crowd =
        match open_idle(endpoint, users, args.idle_connections, args.idle_parallel).await {
            Ok(crowd) => crowd,
            Err(e) => {
                println!("\nIDLE: {e}");
                return;
            }
        };
    // Let the server settle (buffers shrink after the logins).
    tokio::time::sleep(Duration::from_secs(2)).await;
    figures.rss_idle_with_kib = rss_kib(pid).ok();
    println!(
        "\n{} connections in IDLE over {} mailboxes, opened in {:.1} s; RSS {} -> {} MB",
        crowd.clients.len(),
        users.len(),
        crowd.elapsed.as_secs_f64(),
        figures.rss_idle_before_kib.unwrap_or(0) / 1024,
        figures.rss_idle_with_kib.unwrap_or(0) / 1024
    );
    match notification_delay(endpoint, &mut crowd, DOMAIN, Duration::from_secs(5)).await {
        Ok(Some(delay)) => println!(
            "an idling session saw the new message after {:.1} ms",
            millis(delay)
        ),
        Ok(None) => println!("FAILED: no idling session was told about a new message within 5 s"),
        Err(e) => println!("FAILED: IDLE notification check: {e}"),
    }
}

fn figure_rows(f: &Figures, shared_messages: usize) -> Vec<Figure> {
    let fetch = |what: &str| format!("FETCH 1:* on {shared_messages} messages, {what}");
    let mb = |kib: Option<u64>| kib.map(|k| k as f64 / 1024.0);
    let kind_p99 = |report: &Option<MixReport>, kind: Kind| {
        report.as_ref().and_then(|r| {
            r.by_kind
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, s)| millis(s.p99))
        })
    };
    let overall = |report: &Option<MixReport>, p99: bool| {
        report.as_ref().and_then(|r| {
            r.overall
                .as_ref()
                .map(|s| millis(if p99 { s.p99 } else { s.p50 }))
        })
    };
    vec![
        Figure::new(
            "APPEND rate (LITERAL+, pipelined)",
            f.fill.map(|r| r.rate()),
            "msg/s",
            Target::None,
        ),
        Figure::new(
            "mix A (shared folder) throughput",
            f.mix_a.as_ref().map(MixReport::commands_per_second),
            "cmd/s",
            Target::AtLeast(240.0),
        ),
        Figure::new(
            "mix A p50 (all commands)",
            overall(&f.mix_a, false),
            "ms",
            Target::None,
        ),
        Figure::new(
            "mix A p99 (all commands)",
            overall(&f.mix_a, true),
            "ms",
            Target::None,
        ),
        Figure::new(
            "mix A p99 FETCH 1:*",
            kind_p99(&f.mix_a, Kind::FetchAll),
            "ms",
            Target::None,
        ),
        Figure::new(
            "mix B (own INBOX) throughput",
            f.mix_b.as_ref().map(MixReport::commands_per_second),
            "cmd/s",
            Target::AtLeast(2850.0),
        ),
        Figure::new(
            "mix B p50 (all commands)",
            overall(&f.mix_b, false),
            "ms",
            Target::None,
        ),
        Figure::new(
            "mix B p99 (all commands)",
            overall(&f.mix_b, true),
            "ms",
            Target::None,
        ),
        Figure::new(
            fetch("cold"),
            f.fetch_cold.map(millis),
            "ms",
            Target::AtMost(150.0),
        ),
        Figure::new(
            fetch("warm median"),
            f.fetch_warm.map(millis),
            "ms",
            Target::AtMost(150.0),
        ),
        Figure::new(
            fetch("response"),
            f.fetch_bytes.map(|b| b as f64 / 1e6),
            "MB",
            Target::None,
        ),
        Figure::new(
            "RSS before IDLE connections",
            mb(f.rss_idle_before_kib),
            "MB",
            Target::None,
        ),
        Figure::new(
            "RSS with IDLE connections",
            mb(f.rss_idle_with_kib),
            "MB",
            Target::AtMost(100.0),
        ),
        Figure::new(
            "RSS added by IDLE connections",
            mb(f.rss_idle_with_kib
                .zip(f.rss_idle_before_kib)
                .map(|(w, b)| w.saturating_sub(b))),
            "MB",
            Target::None,
        ),
    ]
}
