//! The SMTP benchmark on a fresh machine: a temporary operator (its PKI, a peer PKI, a liste
//! blanche, a recipient mailbox), `mssd serve`, the load, the figures, then a check that the
//! mailbox holds exactly the messages that were acknowledged.
//!
//! Build the server first, then run:
//!   cargo build --release -p mssd
//!   cargo run --release -p mssd-bench --bin smtp-bench [-- --connections 20 --messages 250 --size 10240]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use mssd_bench::connection::client_config;
use mssd_bench::mailbox::count_messages;
use mssd_bench::message::run_id;
use mssd_bench::metrics::StoreCounters;
use mssd_bench::operator::BenchOperator;
use mssd_bench::peer::{PeerPki, whitelist_xml};
use mssd_bench::{Error, LoadConfig, LoadReport, Result, run_load};

const A: &str = "hopital-a.test.mssante.fr";
const B: &str = "clinique-b.test.mssante.fr";
const PEER_CN: &str = "mail.clinique-b.test.mssante.fr";

#[derive(Parser)]
#[command(
    about = "Runs mssd serve on a temporary operator and measures SMTP (MTA) throughput",
    after_help = "Build the server first: cargo build --release -p mssd\nThen: cargo run --release -p mssd-bench --bin smtp-bench"
)]
struct Args {
    /// The mssd binary (default: the workspace's target/release/mssd).
    #[arg(long)]
    mssd: Option<PathBuf>,
    #[arg(long, default_value_t = 20)]
    connections: usize,
    /// Messages per connection.
    #[arg(long, default_value_t = 250)]
    messages: usize,
    /// Size of each message in bytes.
    #[arg(long, default_value_t = 10_240)]
    size: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("smtp-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// True when every message was accepted and the mailbox holds exactly those.
fn run(args: &Args) -> Result<bool> {
    let bin = args.mssd.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/mssd")
    });
    if !bin.is_file() {
        eprintln!(
            "smtp-bench: no mssd binary at {}: build it first with `cargo build --release -p mssd`",
            bin.display()
        );
        return Err(Error::ServerStart(format!("{} missing", bin.display())));
    }
    let operator = BenchOperator::new(&bin, A)?;
    let peer = PeerPki::new()?.write_mta(operator.dir.path(), PEER_CN)?;
    let whitelist = whitelist_xml(
        &[(A, &operator.server_dn()?), (B, &peer.dn)],
        "2026-11-01T00:00:00Z",
    );
    let list_path = operator.data_dir().join("liste-blanche.xml");
    std::fs::write(&list_path, whitelist).map_err(|source| Error::Io {
        what: format!("writing {}", list_path.display()),
        source,
    })?;
    operator.configure(&peer)?;
    let recipient = format!("bench@{A}");
    operator.run(&["mailbox", "add", &recipient, "--kind", "ORG"], None)?;

    let server = operator.start()?;
    let http = server.addr("http")?;
    let config = LoadConfig {
        addr: server.addr("smtp")?,
        tls: client_config(&operator.pki("root.pem"), &peer.chain, &peer.key)?,
        server_name: format!("mail.{A}"),
        ehlo_name: PEER_CN.to_string(),
        from: format!("secretariat@{B}"),
        to: recipient.clone(),
        spread: Vec::new(),
        connections: args.connections,
        messages: args.messages,
        size: args.size,
        run_id: run_id(),
    };
    println!(
        "mssd {} on {}: {} connections x {} messages x {} bytes, STARTTLS with a client certificate",
        bin.display(),
        config.addr,
        args.connections,
        args.messages,
        args.size
    );
    let before = StoreCounters::read(http)?;
    let report = run_with_runtime(config)?;
    let after = StoreCounters::read(http)?;
    print!("{report}");
    print_grouping(&report, before, after);

    let stopped = Instant::now();
    let status = server.stop(Duration::from_secs(30))?;
    println!(
        "mssd stopped ({status}) in {:.2} s",
        stopped.elapsed().as_secs_f64()
    );
    let runtime = runtime()?;
    let stored = runtime.block_on(count_messages(&operator.database(), &recipient, "INBOX"))?;
    let consistent = stored == report.accepted;
    println!(
        "mailbox {recipient}: {stored} messages stored, {} acknowledged: {}",
        report.accepted,
        if consistent { "OK" } else { "MISMATCH" }
    );
    Ok(consistent && report.failures.is_empty())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            what: "starting the async runtime".into(),
            source,
        })
}

fn run_with_runtime(config: LoadConfig) -> Result<LoadReport> {
    Ok(runtime()?.block_on(run_load(config)))
}

/// Store writes vs commits during the run: how many acknowledged writes shared each fsync.
fn print_grouping(report: &LoadReport, before: StoreCounters, after: StoreCounters) {
    let writes = after.writes - before.writes;
    let commits = after.commits - before.commits;
    let secs = report.elapsed.as_secs_f64();
    if commits > 0.0 && secs > 0.0 {
        println!(
            "store: {writes:.0} writes in {commits:.0} commits ({:.1} writes per commit, {:.0} commits/s)",
            writes / commits,
            commits / secs
        );
    } else {
        println!("store: {writes:.0} writes, {commits:.0} commits");
    }
}
