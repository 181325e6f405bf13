//! SQLite and PostgreSQL side by side on this machine (issue #15): (a) durable message writes
//! through the Store API, (b) SMTP msg/s through a real `mssd serve` (mutual TLS on the MTA
//! listener), (c) the IMAP command mix on that server, (d) provisioning citizen mailboxes and
//! looking them up by address. PostgreSQL is a throwaway cluster the bench starts itself
//! (`mssd_pg_test`). A final table gives each measure on both backends, its target and the
//! verdict.
//!
//!   cargo build --release -p mssd -p mssd-bench
//!   target/release/backend-bench [--citizens 100000] [--measures abcd]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use mssd_bench::backend::{Backend, cluster_settings, open_fresh};
use mssd_bench::backend_citizens::{CitizenConfig, CitizenReport, run_citizens};
use mssd_bench::backend_report::{Row, table};
use mssd_bench::backend_server::{ServerConfig, ServerReport, run_server};
use mssd_bench::backend_writes::{WriteCall, WriteReport, run_writes};
use mssd_bench::imap_proc::raise_open_files;
use mssd_bench::imap_report::{Target, millis};
use mssd_bench::{Error, Result};

#[derive(Parser)]
#[command(
    about = "Compares the SQLite and PostgreSQL stores: Store API writes, SMTP, IMAP mix, citizen provisioning and lookups",
    after_help = "Build first: cargo build --release -p mssd -p mssd-bench\nThen: target/release/backend-bench [--citizens 100000]"
)]
struct Args {
    /// The mssd binary (default: the workspace's target/release/mssd).
    #[arg(long)]
    mssd: Option<PathBuf>,
    /// Which measures to run: letters among a (Store API writes), b (SMTP), c (IMAP), d
    /// (citizens). b and c share one server run.
    #[arg(long, default_value = "abcd")]
    measures: String,
    /// (a) concurrent writers, each with its own mailbox.
    #[arg(long, default_value_t = 50)]
    writers: usize,
    /// (a, b) message size in bytes.
    #[arg(long, default_value_t = 10_240)]
    size: usize,
    /// (a) seconds each write measure runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// (b, c) SMTP connections and IMAP clients.
    #[arg(long, default_value_t = 20)]
    connections: usize,
    /// (b) messages per SMTP connection.
    #[arg(long, default_value_t = 500)]
    messages: usize,
    /// (c) messages appended to each client's INBOX before the mix.
    #[arg(long, default_value_t = 200)]
    imap_messages: usize,
    /// (c) seconds the IMAP mix runs.
    #[arg(long, default_value_t = 10)]
    mix_seconds: u64,
    /// (d) citizen mailboxes to provision.
    #[arg(long, default_value_t = 1_000_000)]
    citizens: usize,
    /// (d) concurrent `create_mailbox` callers.
    #[arg(long, default_value_t = 64)]
    provisioners: usize,
    /// (d) random lookups by address, and their concurrency.
    #[arg(long, default_value_t = 100_000)]
    lookups: usize,
    #[arg(long, default_value_t = 16)]
    lookers: usize,
    #[arg(long, default_value_t = 15)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("backend-bench: starting the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("backend-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// Figures of one backend; `None` where not run.
#[derive(Default)]
struct Figures {
    accept: Option<WriteReport>,
    deliver: Option<WriteReport>,
    server: Option<ServerReport>,
    citizens: Option<CitizenReport>,
}

async fn run(args: &Args) -> Result<bool> {
    let began = Instant::now();
    let wants = |m: char| args.measures.contains(m);
    println!(
        "backend-bench: {} cores; PostgreSQL (throwaway cluster of mssd_pg_test): {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cluster_settings().await?
    );
    let mut figures = [Figures::default(), Figures::default()];
    if wants('a') {
        for (i, backend) in Backend::BOTH.into_iter().enumerate() {
            for call in [WriteCall::Accept, WriteCall::Deliver] {
                println!(
                    "\n(a) {}: Store::{} x {} writers, {} B messages, {} s",
                    backend.label(),
                    call.label(),
                    args.writers,
                    args.size,
                    args.seconds
                );
                let store = open_fresh(backend).await?;
                let report = run_writes(
                    store.store.clone(),
                    call,
                    args.writers,
                    args.size,
                    Duration::from_secs(args.seconds),
                )
                .await?;
                print_writes(&report);
                match call {
                    WriteCall::Accept => figures[i].accept = Some(report),
                    WriteCall::Deliver => figures[i].deliver = Some(report),
                }
            }
        }
    }
    if wants('b') || wants('c') {
        let bin = mssd_binary(args.mssd.clone())?;
        raise_open_files(4096 + args.connections as u64 * 8)?;
        for (i, backend) in Backend::BOTH.into_iter().enumerate() {
            println!("\n(b, c) {}: mssd serve", backend.label());
            let config = ServerConfig {
                bin: &bin,
                connections: args.connections,
                messages: args.messages,
                size: args.size,
                imap_messages: args.imap_messages,
                mix: Duration::from_secs(args.mix_seconds),
                seed: args.seed,
            };
            let report = run_server(backend, &config).await?;
            println!(
                "  MTA recipient INBOX: {} messages stored, {} acknowledged: {}",
                report.stored,
                report.smtp.accepted,
                if report.stored == report.smtp.accepted {
                    "OK"
                } else {
                    "MISMATCH"
                }
            );
            figures[i].server = Some(report);
        }
    }
    if wants('d') {
        for (i, backend) in Backend::BOTH.into_iter().enumerate() {
            println!(
                "\n(d) {}: {} citizen mailboxes by {} concurrent create_mailbox, then {} lookups by {} tasks",
                backend.label(),
                args.citizens,
                args.provisioners,
                args.lookups,
                args.lookers
            );
            let store = open_fresh(backend).await?;
            let config = CitizenConfig {
                count: args.citizens,
                provisioners: args.provisioners,
                lookups: args.lookups,
                lookers: args.lookers,
                seed: args.seed,
            };
            let report = run_citizens(store.store.clone(), &config).await?;
            println!(
                "  provisioned in {:.1} s ({:.0}/s); lookups {:.0}/s{}",
                report.provisioning.as_secs_f64(),
                report.created_per_second(),
                report.lookups_per_second(),
                report.lookup_latency.map_or(String::new(), |l| format!(
                    ", p50 {:.3} ms, p99 {:.3} ms, max {:.1} ms",
                    millis(l.p50),
                    millis(l.p99),
                    millis(l.max)
                ))
            );
            figures[i].citizens = Some(report);
        }
    }
    let rows = rows(&figures, args);
    println!("\n{}", table(&rows));
    println!("total {:.0} s", began.elapsed().as_secs_f64());
    let consistent = figures.iter().all(|f| {
        f.server.as_ref().is_none_or(|s| {
            s.stored == s.smtp.accepted
                && s.smtp.failures.is_empty()
                && s.spread_stored == s.spread_smtp.accepted
                && s.spread_smtp.failures.is_empty()
        })
    });
    Ok(consistent && rows.iter().all(Row::postgres_passes))
}

fn print_writes(r: &WriteReport) {
    println!(
        "  {} writes in {:.1} s: {:.0}/s, {} commits ({:.1} writes per commit){}",
        r.writes,
        r.elapsed.as_secs_f64(),
        r.per_second(),
        r.commits,
        r.writes as f64 / r.commits.max(1) as f64,
        r.latency.map_or(String::new(), |l| format!(
            "; latency p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
            millis(l.p50),
            millis(l.p99),
            millis(l.max)
        ))
    );
}

fn rows(f: &[Figures; 2], args: &Args) -> Vec<Row> {
    let both = |get: &dyn Fn(&Figures) -> Option<f64>| [get(&f[0]), get(&f[1])];
    let kb = args.size / 1024;
    let w = args.writers;
    let n = args.connections;
    vec![
        Row::new(
            format!("(a) Store::accept, {w} writers, {kb} KB"),
            both(&|x| x.accept.as_ref().map(WriteReport::per_second)),
            "msg/s",
            Target::AtLeast(2000.0),
        ),
        Row::new(
            "(a) accept latency p50",
            both(&|x| x.accept.as_ref()?.latency.map(|l| millis(l.p50))),
            "ms",
            Target::None,
        ),
        Row::new(
            "(a) accept latency p99",
            both(&|x| x.accept.as_ref()?.latency.map(|l| millis(l.p99))),
            "ms",
            Target::None,
        ),
        Row::new(
            format!("(a) Store::deliver, {w} writers, {kb} KB"),
            both(&|x| x.deliver.as_ref().map(WriteReport::per_second)),
            "msg/s",
            Target::None,
        ),
        Row::new(
            "(a) deliver latency p50",
            both(&|x| x.deliver.as_ref()?.latency.map(|l| millis(l.p50))),
            "ms",
            Target::None,
        ),
        Row::new(
            "(a) deliver latency p99",
            both(&|x| x.deliver.as_ref()?.latency.map(|l| millis(l.p99))),
            "ms",
            Target::None,
        ),
        Row::new(
            format!("(b) SMTP mutual TLS, {n} conns, {kb} KB"),
            both(&|x| x.server.as_ref().map(|s| s.smtp.messages_per_second())),
            "msg/s",
            Target::AtLeast(2000.0),
        ),
        Row::new(
            "(b) same, each conn to its own mailbox",
            both(&|x| {
                x.server
                    .as_ref()
                    .map(|s| s.spread_smtp.messages_per_second())
            }),
            "msg/s",
            Target::None,
        ),
        Row::new(
            "(b) SMTP final dot -> 250 p50",
            both(&|x| x.server.as_ref()?.smtp.latency.map(|l| millis(l.p50))),
            "ms",
            Target::None,
        ),
        Row::new(
            "(b) SMTP final dot -> 250 p99",
            both(&|x| x.server.as_ref()?.smtp.latency.map(|l| millis(l.p99))),
            "ms",
            Target::None,
        ),
        Row::new(
            format!("(c) IMAP mix, {n} clients on their INBOX"),
            both(&|x| x.server.as_ref().map(|s| s.mix.commands_per_second())),
            "cmd/s",
            Target::None,
        ),
        Row::new(
            "(c) IMAP mix p99 (all commands)",
            both(&|x| x.server.as_ref()?.mix.overall.map(|l| millis(l.p99))),
            "ms",
            Target::None,
        ),
        Row::new(
            format!("(d) provision {} citizens", args.citizens),
            both(&|x| x.citizens.as_ref().map(|c| c.provisioning.as_secs_f64())),
            "s",
            Target::None,
        ),
        Row::new(
            "(d) provisioning rate",
            both(&|x| x.citizens.as_ref().map(CitizenReport::created_per_second)),
            "mbox/s",
            Target::None,
        ),
        Row::new(
            "(d) lookup by address p50",
            both(&|x| x.citizens.as_ref()?.lookup_latency.map(|l| millis(l.p50))),
            "ms",
            Target::None,
        ),
        Row::new(
            "(d) lookup by address p99",
            both(&|x| x.citizens.as_ref()?.lookup_latency.map(|l| millis(l.p99))),
            "ms",
            Target::Below(5.0),
        ),
    ]
}

/// The mssd binary, absolute (the server runs in the operator's folder).
fn mssd_binary(given: Option<PathBuf>) -> Result<PathBuf> {
    let bin = given.unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/mssd")
    });
    if !bin.is_file() {
        return Err(Error::MissingBinary(bin));
    }
    std::path::absolute(&bin).map_err(|source| Error::Io {
        what: format!("resolving {}", bin.display()),
        source,
    })
}
