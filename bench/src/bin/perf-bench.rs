//! The performance figures of issue #14 on this machine, against a real `mssd serve` on a
//! temporary operator (its PKI, a peer PKI on the liste blanche, one PER mailbox with a
//! password per client): 1 MB messages over mutual TLS on the MTA listener; submission
//! (STARTTLS + AUTH PLAIN, 10 KB messages) and the server's peak memory meanwhile; the warm
//! IMAP LOGIN latency on new connections; the MTA reconnecting for every message with TLS
//! session resumption. Each measure is preceded by the load average; a final table gives each
//! figure, its target and a verdict. FETCH 1:* latencies are imap-bench's.
//!
//! Build the server and the bench first (release only measures anything), then run:
//!   cargo build --release -p mssd -p mssd-bench
//!   target/release/perf-bench [--connections 20 --big-messages 50 --seconds 15 ...]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use mssd_bench::connection::client_config;
use mssd_bench::imap_proc::{child_pid, raise_open_files};
use mssd_bench::imap_report::{Figure, Target, millis, table};
use mssd_bench::imap_setup::{ImapEndpoint, PASSWORD};
use mssd_bench::mailbox::count_messages;
use mssd_bench::message::run_id;
use mssd_bench::metrics::StoreCounters;
use mssd_bench::perf_imap::{LoginReport, run_logins};
use mssd_bench::perf_proc::{Meter, RssSample, Usage, loadavg, max_between, proc_status_kib};
use mssd_bench::perf_setup::{A, B, PEER_CN, PerfWorld, source};
use mssd_bench::perf_smtp::{
    Client, ReconnectConfig, SubmissionConfig, TimedReport, run_reconnect, run_submission,
};
use mssd_bench::{Error, LoadConfig, LoadReport, Result, run_load};

#[derive(Parser)]
#[command(
    about = "Runs mssd serve on a temporary operator and prints the performance figures of issue #14 with their targets",
    after_help = "Build first: cargo build --release -p mssd -p mssd-bench\nThen: target/release/perf-bench\nFETCH 1:* (FLAGS ENVELOPE) cold and warm: target/release/imap-bench"
)]
struct Args {
    /// The mssd binary (default: the workspace's target/release/mssd).
    #[arg(long)]
    mssd: Option<PathBuf>,
    /// Concurrent clients of every measure (each with its own mailbox and loopback address).
    #[arg(long, default_value_t = 20)]
    connections: usize,
    /// 1 MB measure: messages per connection.
    #[arg(long, default_value_t = 50)]
    big_messages: usize,
    /// 1 MB measure: size of each message in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    big_size: usize,
    /// Submission and reconnect measures: size of each message in bytes.
    #[arg(long, default_value_t = 10_240)]
    size: usize,
    /// Seconds each timed measure (submission, IMAP LOGIN, reconnect) runs.
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Keep the same mssd process after the 1 MB measure (by default it is restarted, so the
    /// submission memory figure does not include what the 1 MB messages left).
    #[arg(long)]
    same_process: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("perf-bench: {e}");
            ExitCode::from(2)
        }
    }
}

/// Everything measured; `None` where a measure could not run.
#[derive(Default)]
struct Figures {
    big: Option<(LoadReport, Usage)>,
    submission: Option<(TimedReport, Usage)>,
    logins: Option<(LoginReport, Usage)>,
    reconnect: Option<(TimedReport, Usage)>,
}

/// True when every figure meets its target and no message was lost.
fn run(args: &Args) -> Result<bool> {
    let bin = mssd_binary(args.mssd.as_deref())?;
    let began = Instant::now();
    raise_open_files(4096 + args.connections as u64 * 8)?;
    let world = PerfWorld::create(&bin, args.connections)?;
    let mut server = world.operator.start()?;
    let mut pid = child_pid(&bin)?;
    let mut http = server.addr("http")?;
    let clients: Vec<Client> = world
        .users
        .iter()
        .enumerate()
        .map(|(n, user)| Client {
            from: source(n),
            user: user.clone(),
        })
        .collect();
    println!(
        "mssd {} (pid {pid}, built {}), {} cores; {} clients from {} to {}; set up in {:.1} s\nmachine: {}",
        bin.display(),
        built_ago(&bin),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        clients.len(),
        source(0),
        source(clients.len() - 1),
        began.elapsed().as_secs_f64(),
        uptime()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            what: "starting the async runtime".into(),
            source,
        })?;
    let server_name = format!("mail.{A}");
    let mta_tls = client_config(
        &world.operator.pki("root.pem"),
        &world.peer.chain,
        &world.peer.key,
    )?;
    let user_tls = mssd_e2e::tls_client_config(&world.operator.pki("root.pem"), None);
    let mut figures = Figures::default();

    // 1. 1 MB messages over mutual TLS on the MTA listener.
    let big = LoadConfig {
        addr: server.addr("smtp")?,
        tls: mta_tls,
        server_name: server_name.clone(),
        ehlo_name: PEER_CN.to_string(),
        from: format!("secretariat@{B}"),
        to: world.recipient.clone(),
        spread: Vec::new(),
        connections: args.connections,
        messages: args.big_messages,
        size: args.big_size,
        run_id: run_id(),
    };
    let title = format!(
        "1. MTA listener, mutual TLS: {} connections x {} messages x {} bytes",
        args.connections, args.big_messages, args.big_size
    );
    let meter = Meter::start(pid, &title);
    let store = StoreCounters::read(http).ok();
    let report = runtime.block_on(run_load(big));
    print!("{report}");
    print_store(http, store, report.elapsed);
    figures.big = Some((report, meter.finish()));

    // A fresh process, so the memory figure of submission is its own and not what the 1 MB
    // messages left behind (as imap-bench does for its IDLE memory figure).
    if !args.same_process {
        server.stop(Duration::from_secs(30))?;
        server = world.operator.start()?;
        pid = child_pid(&bin)?;
        http = server.addr("http")?;
        println!(
            "\nrestarted mssd (pid {pid}) for the submission memory figure; RSS {:.1} MB",
            proc_status_kib(pid, "VmRSS")? as f64 / 1024.0
        );
    }

    // 2. Submission: STARTTLS + AUTH PLAIN, then 10 KB messages to oneself.
    let title = format!(
        "2. submission: {} connections (STARTTLS + AUTH PLAIN) x {} s of {}-byte messages to themselves",
        args.connections, args.seconds, args.size
    );
    let meter = Meter::start(pid, &title);
    let store = StoreCounters::read(http).ok();
    let submission = SubmissionConfig {
        addr: server.addr("submission")?,
        tls: user_tls.clone(),
        server_name: server_name.clone(),
        password: PASSWORD.to_string(),
        size: args.size,
        duration: Duration::from_secs(args.seconds),
        run_id: run_id(),
    };
    let report = runtime.block_on(run_submission(submission, &clients));
    print!("{report}");
    print_store(http, store, report.elapsed);
    let usage = meter.finish();
    print_phases(&report, &usage);
    figures.submission = Some((report, usage));

    // 3. IMAP LOGIN on new connections, warm.
    let title = format!(
        "3. IMAP LOGIN (implicit TLS, new connection each): {} clients x {} s after one warm-up login",
        args.connections, args.seconds
    );
    let meter = Meter::start(pid, &title);
    let store = StoreCounters::read(http).ok();
    let endpoint = ImapEndpoint {
        addr: server.addr("imaps")?,
        tls: user_tls,
        server_name: server_name.clone(),
    };
    let report = runtime.block_on(run_logins(
        &endpoint,
        &clients,
        Duration::from_secs(args.seconds),
    ));
    print!("{report}");
    print_store(http, store, report.elapsed);
    figures.logins = Some((report, meter.finish()));

    // 4. The MTA reconnecting for every message, resuming TLS sessions.
    let title = format!(
        "4. MTA listener, a new connection per {}-byte message (TLS resumption): {} clients x {} s",
        args.size, args.connections, args.seconds
    );
    let meter = Meter::start(pid, &title);
    let store = StoreCounters::read(http).ok();
    let reconnect = ReconnectConfig {
        addr: server.addr("smtp")?,
        server_name,
        ehlo_name: PEER_CN.to_string(),
        ca: world.operator.pki("root.pem"),
        cert: world.peer.chain.clone(),
        key: world.peer.key.clone(),
        from: format!("secretariat@{B}"),
        to: world.recipient.clone(),
        size: args.size,
        duration: Duration::from_secs(args.seconds),
        run_id: run_id(),
    };
    let report = runtime.block_on(run_reconnect(reconnect, &clients))?;
    print!("{report}");
    print_store(http, store, report.elapsed);
    figures.reconnect = Some((report, meter.finish()));

    let status = server.stop(Duration::from_secs(30))?;
    println!(
        "\nmssd stopped ({status}); log in {}\nmachine: {}",
        world.operator.dir.path().join("serve.log").display(),
        uptime()
    );
    let consistent = runtime.block_on(check_mailboxes(&world, &figures))?;
    let rows = figure_rows(&figures, args);
    println!("\n{}", table(&rows));
    println!(
        "FETCH 1:* (FLAGS ENVELOPE) cold and warm on 10,000 messages: target/release/imap-bench\ntotal {:.0} s",
        began.elapsed().as_secs_f64()
    );
    let clean = failures(&figures) == 0;
    Ok(consistent && clean && rows.iter().all(|f| f.passes() != Some(false)))
}

/// The mssd binary, absolute (the server runs in the operator's folder), or a precise error.
fn mssd_binary(given: Option<&Path>) -> Result<PathBuf> {
    let bin = given.map(Path::to_path_buf).unwrap_or_else(|| {
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

/// "12 min ago", from the binary's modification time.
fn built_ago(bin: &Path) -> String {
    std::fs::metadata(bin)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .map_or("at an unknown time".into(), |d| {
            format!("{} min ago", d.as_secs() / 60)
        })
}

/// "up 10.8 h, load average 0.52 0.58 0.59".
fn uptime() -> String {
    let up = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<f64>().ok())
        .map_or("?".into(), |s| format!("{:.1} h", s / 3600.0));
    format!("up {up}, load average {}", loadavg())
}

/// The RSS peak while the clients authenticated (argon2 runs for the first login of each
/// mailbox) and after, while they only sent.
fn print_phases(report: &TimedReport, usage: &Usage) {
    let Some(ready) = report.all_authenticated else {
        return;
    };
    let mb = |peak: Option<RssSample>| peak.map_or("-".into(), |s| s.describe());
    println!(
        "VmRSS sampled max until the last client was authenticated (+{:.0} ms): {}; afterwards, while sending: {}",
        ready.duration_since(usage.started).as_secs_f64() * 1000.0,
        mb(max_between(&usage.samples, usage.started, Some(ready))),
        mb(max_between(&usage.samples, ready, None))
    );
}

/// Store writes and commits during a measure (how many writes shared each fsync).
fn print_store(http: SocketAddr, before: Option<StoreCounters>, elapsed: Duration) {
    let Some((before, after)) = before.zip(StoreCounters::read(http).ok()) else {
        println!("store: counters unavailable from /metrics");
        return;
    };
    let writes = after.writes - before.writes;
    let commits = after.commits - before.commits;
    let secs = elapsed.as_secs_f64();
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

/// The MTA recipient holds what the two MTA measures acknowledged, each user's INBOX what
/// submission acknowledged for it (in total).
async fn check_mailboxes(world: &PerfWorld, figures: &Figures) -> Result<bool> {
    let db = world.operator.database();
    let mta = figures.big.as_ref().map_or(0, |(r, _)| r.accepted)
        + figures.reconnect.as_ref().map_or(0, |(r, _)| r.accepted);
    let stored = count_messages(&db, &world.recipient, "INBOX").await?;
    let mut own = 0;
    for user in &world.users {
        own += count_messages(&db, user, "INBOX").await?;
    }
    let submitted = figures.submission.as_ref().map_or(0, |(r, _)| r.accepted);
    let verdict = |ok: bool| if ok { "OK" } else { "MISMATCH" };
    println!(
        "mailbox {}: {stored} messages stored, {mta} acknowledged on the MTA listener: {}",
        world.recipient,
        verdict(stored == mta)
    );
    println!(
        "{} PER INBOXes: {own} messages stored, {submitted} acknowledged on submission: {}",
        world.users.len(),
        verdict(own == submitted)
    );
    Ok(stored == mta && own == submitted)
}

fn failures(f: &Figures) -> usize {
    f.big.as_ref().map_or(0, |(r, _)| r.failures.len())
        + f.submission.as_ref().map_or(0, |(r, _)| r.failures)
        + f.logins.as_ref().map_or(0, |(r, _)| r.failures)
        + f.reconnect.as_ref().map_or(0, |(r, _)| r.failures)
}

fn figure_rows(f: &Figures, args: &Args) -> Vec<Figure> {
    let mb = |kib: Option<u64>| kib.map(|k| k as f64 / 1024.0);
    let big = f.big.as_ref();
    let big_latency = big.and_then(|(r, _)| r.latency);
    let sub = f.submission.as_ref();
    let login = f.logins.as_ref().and_then(|(r, _)| r.login);
    let reconnect = f.reconnect.as_ref();
    let n = args.connections;
    vec![
        Figure::new(
            format!("1. MTA {} KB x {n} conns: accepted", args.big_size / 1024),
            big.map(|(r, _)| r.messages_per_second()),
            "msg/s",
            Target::AtLeast(200.0),
        ),
        Figure::new(
            "1. MTA big: p50 final dot -> 250",
            big_latency.map(|l| millis(l.p50)),
            "ms",
            Target::Below(50.0),
        ),
        Figure::new(
            "1. MTA big: p99 final dot -> 250",
            big_latency.map(|l| millis(l.p99)),
            "ms",
            Target::None,
        ),
        Figure::new(
            "1. MTA big: mssd peak RSS (VmHWM)",
            mb(big.and_then(|(_, u)| u.hwm_kib)),
            "MB",
            Target::None,
        ),
        Figure::new(
            format!("2. submission {} KB x {n} conns", args.size / 1024),
            sub.map(|(r, _)| r.messages_per_second()),
            "msg/s",
            Target::None,
        ),
        Figure::new(
            "2. submission: p50 final dot -> 250",
            sub.and_then(|(r, _)| r.latency).map(|l| millis(l.p50)),
            "ms",
            Target::None,
        ),
        Figure::new(
            "2. submission: mssd peak RSS (VmHWM)",
            mb(sub.and_then(|(_, u)| u.hwm_kib)),
            "MB",
            Target::AtMost(80.0),
        ),
        Figure::new(
            "2. submission: mssd max sampled VmRSS",
            mb(sub.and_then(|(_, u)| u.rss_max_kib)),
            "MB",
            Target::None,
        ),
        Figure::new(
            "2. submission: max VmRSS after all AUTHs",
            mb(sub.and_then(|(r, u)| {
                max_between(&u.samples, r.all_authenticated?, None).map(|s| s.rss)
            })),
            "MB",
            Target::None,
        ),
        Figure::new(
            format!("3. IMAP LOGIN p50, warm, {n} clients"),
            login.map(|l| millis(l.p50)),
            "ms",
            Target::AtMost(10.0),
        ),
        Figure::new(
            "3. IMAP LOGIN p99",
            login.map(|l| millis(l.p99)),
            "ms",
            Target::None,
        ),
        Figure::new(
            "4. MTA reconnect per message",
            reconnect.map(|(r, _)| r.messages_per_second()),
            "msg/s",
            Target::AtLeast(500.0),
        ),
        Figure::new(
            "4. MTA reconnect: handshakes resumed",
            reconnect
                .and_then(|(r, _)| r.resumed_share())
                .map(|s| s * 100.0),
            "%",
            Target::None,
        ),
    ]
}
