//! Web API throughput: 100 citizens (by default) at once against the real `mssd` (release
//! build) over HTTPS with keep-alive, each with its own TEST-provider token: first listing
//! their INBOX (25 messages a page), then downloading the PDF of their lab report (an N1
//! document read from its IHE_XDM.zip). Prints requests per second, p50 and p99 for each.
//! The client runs on the same two cores as the server: the figures are a floor.
//!
//! `cargo build --release -p mssd && cargo run --release -p mssd-bench --bin api-bench --
//!  [--citizens N] [--seconds S] [--messages M]`

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use mssd_bench::operator::BenchOperator;
use mssd_bench::stats::{rate, summarize};
use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};
use mssd_core::Address;
use mssd_store::{Delivery, NewMailbox, SqliteStore, Store};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DOMAIN: &str = "bench.test.mssante.fr";

#[derive(Parser)]
struct Args {
    /// Concurrent citizens, each with its own connection and token.
    #[arg(long, default_value_t = 100)]
    citizens: usize,
    /// Measured seconds per phase (after one second of warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Plain messages in each INBOX besides the lab report.
    #[arg(long, default_value_t = 30)]
    messages: usize,
    #[arg(long)]
    mssd: Option<PathBuf>,
    #[arg(
        long,
        default_value = "../shared/real-data/cda/DOC_NON_STRUCTURE_CDA-R2-N1.xml"
    )]
    lab_report: PathBuf,
}

fn ins(n: usize) -> String {
    let nir = format!("1850775{n:06}");
    let key = 97 - (nir.parse::<u64>().unwrap_or(0) % 97);
    format!("{nir}{key:02}")
}

struct Citizen {
    token: String,
    inbox: i64,
    document: i64,
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(&args)) {
        eprintln!("api-bench: {e}");
        std::process::exit(2);
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let bin = args.mssd.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/mssd")
    });
    let bin = std::path::absolute(&bin).map_err(|e| e.to_string())?;
    if !bin.is_file() {
        return Err(format!(
            "no mssd binary at {}: build it with `cargo build --release -p mssd`",
            bin.display()
        ));
    }
    let operator = BenchOperator::new(&bin, DOMAIN).map_err(|e| e.to_string())?;
    std::fs::write(
        operator.config_path(),
        format!(
            r#"[server]
hostname = "mail.{DOMAIN}"
domains = ["{DOMAIN}"]
data_dir = "data"

[listeners]
https = "127.0.0.1:0"
http = "127.0.0.1:0"

[limits]
max_connections = 4096
max_connections_per_ip = 4096

[citizen]
domain = "patient.{DOMAIN}"

[citizen.oidc]
test_provider = true

[web]
requests_per_second_per_ip = 1000000
burst_per_ip = 1000000
"#
        ),
    )
    .map_err(|e| e.to_string())?;
    // The server makes its store on first start: start, stop, fill, start again.
    let server = operator.start().map_err(|e| e.to_string())?;
    server
        .stop(Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    fill(args, &operator).await?;
    println!(
        "{} citizens with {} messages each and a lab report, in {:.1} s",
        args.citizens,
        args.messages + 1,
        started.elapsed().as_secs_f64()
    );
    let mut tokens = Vec::with_capacity(args.citizens);
    for n in 0..args.citizens {
        let out = operator
            .run(&["citizen", "token", &ins(n)], None)
            .map_err(|e| e.to_string())?;
        tokens.push(out.trim().to_string());
    }
    let server = operator.start().map_err(|e| e.to_string())?;
    let addr = server.addr("https").map_err(|e| e.to_string())?;
    let tls = (*mssd_e2e::tls_client_config(&operator.pki("root.pem"), None)).clone();
    let host = format!("mail.{DOMAIN}");
    let base = format!("https://{host}:{}", addr.port());
    let mut citizens = Vec::new();
    for token in tokens {
        let client = client(&tls, &host, addr)?;
        let folders: serde_json::Value =
            get_json(&client, &format!("{base}/api/v1/folders"), &token).await?;
        let inbox = folders
            .as_array()
            .and_then(|f| f.iter().find(|f| f["name"] == "INBOX"))
            .and_then(|f| f["id"].as_i64())
            .ok_or("no INBOX")?;
        let documents = get_json(&client, &format!("{base}/api/v1/documents"), &token).await?;
        let document = documents[0]["id"].as_i64().ok_or("no document")?;
        citizens.push((
            client,
            Citizen {
                token,
                inbox,
                document,
            },
        ));
    }
    let citizens: Vec<Arc<(reqwest::Client, Citizen)>> =
        citizens.into_iter().map(Arc::new).collect();
    phase(
        "list (GET /api/v1/folders/{inbox}/messages, 25 a page)",
        &citizens,
        args.seconds,
        |c| format!("{base}/api/v1/folders/{}/messages?per_page=25", c.inbox),
    )
    .await;
    phase(
        "document (GET /api/v1/documents/{id}/content, the PDF)",
        &citizens,
        args.seconds,
        |c| format!("{base}/api/v1/documents/{}/content", c.document),
    )
    .await;
    server
        .stop(Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn client(
    tls: &rustls::ClientConfig,
    host: &str,
    addr: std::net::SocketAddr,
) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls.clone())
        .resolve(host, addr)
        .http1_only()
        .pool_max_idle_per_host(1)
        .build()
        .map_err(|e| e.to_string())
}

async fn get_json(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> Result<serde_json::Value, String> {
    let response = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("{url}: {}", response.status()));
    }
    response.json().await.map_err(|e| e.to_string())
}

/// Every citizen requests `url(citizen)` in a loop; one second of warm-up, then `seconds`.
async fn phase(
    name: &str,
    citizens: &[Arc<(reqwest::Client, Citizen)>],
    seconds: u64,
    url: impl Fn(&Citizen) -> String,
) {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in citizens {
        let (c, url, measuring, stop) = (c.clone(), url(&c.1), measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (client, citizen) = &*c;
            let mut samples = Vec::new();
            let mut errors = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                let ok = match client.get(&url).bearer_auth(&citizen.token).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if measuring.load(Ordering::Relaxed) {
                    if ok {
                        samples.push(start.elapsed());
                    } else {
                        errors += 1;
                    }
                }
            }
            (samples, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((s, e)) = t.await {
            samples.extend(s);
            errors += e;
        }
    }
    let count = samples.len();
    match summarize(&mut samples) {
        Some(s) => println!(
            "{name}: {:.0} requests/s with {} citizens, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, {errors} errors",
            rate(count, elapsed),
            citizens.len(),
            s.p50.as_secs_f64() * 1e3,
            s.p99.as_secs_f64() * 1e3,
            s.max.as_secs_f64() * 1e3,
        ),
        None => println!("{name}: no successful request ({errors} errors)"),
    }
}

/// Citizen mailboxes, each with `messages` plain messages and the lab report (indexed),
/// written to the store directly while the server is stopped.
async fn fill(args: &Args, operator: &BenchOperator) -> Result<(), String> {
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&operator.database(), Default::default()).map_err(|e| e.to_string())?,
    );
    let cda = std::fs::read(&args.lab_report)
        .map_err(|e| format!("{}: {e}", args.lab_report.display()))?;
    let zip = xdm_zip(
        &[XdmDocument {
            cda: &cda,
            ..Default::default()
        }],
        &["x@patient.bench"],
    );
    let report = message_with_xdm(
        &format!("labo@{DOMAIN}"),
        "x@patient.bench",
        "Résultats de biologie",
        "",
        &zip,
    );
    let package = mssd_cda::read_message(&report, &Default::default())
        .map_err(|e| e.to_string())?
        .ok_or("no package")?;
    let rows = mssd_smtp::session::documents::index_rows(&package);
    for n in 0..args.citizens {
        let address =
            Address::parse(&format!("{}@patient.{DOMAIN}", ins(n))).map_err(|e| e.to_string())?;
        let mailbox = store
            .create_mailbox(NewMailbox::citizen(address, None))
            .await
            .map_err(|e| e.to_string())?;
        for k in 0..args.messages {
            let message = format!(
                "From: Dr Martin <dr.martin@{DOMAIN}>\r\nTo: <x@patient.bench>\r\nSubject: Message {k}\r\nDate: Fri, 4 Dec 2026 09:00:{:02} +0100\r\nMessage-ID: <{n}.{k}@{DOMAIN}>\r\n\r\nBonjour, message {k}.\r\n",
                k % 60
            );
            store
                .deliver(Delivery {
                    recipients: vec![mailbox.id],
                    message: message.into_bytes().into(),
                    internal_date: 1_780_000_000 + k as i64,
                    documents: Vec::new(),
                })
                .await
                .map_err(|e| e.to_string())?;
        }
        store
            .deliver(Delivery {
                recipients: vec![mailbox.id],
                message: report.clone().into(),
                internal_date: 1_780_001_000,
                documents: rows.clone(),
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
