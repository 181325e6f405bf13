//! SMTP load generator: N connections over STARTTLS with a client certificate, M messages
//! each; prints accepted messages/s and the latency from final dot to reply.
//!
//! smtp-load --addr 127.0.0.1:2525 --ca root.pem --cert chain.pem --key key.pem \
//!   --server-name mail.hopital.test.mssante.fr --from a@peer.fr --to b@us.fr \
//!   --connections 20 --messages 250 --size 10240

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mssd_bench::connection::client_config;
use mssd_bench::message::run_id;
use mssd_bench::{LoadConfig, run_load};

#[derive(Parser)]
#[command(about = "SMTP load generator for mssd (STARTTLS with a client certificate)")]
struct Args {
    /// The SMTP (MTA) listener.
    #[arg(long)]
    addr: SocketAddr,
    /// The CA that issued the server's certificate (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// Our client certificate chain, leaf first (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long)]
    key: PathBuf,
    /// The name the server certificate must carry.
    #[arg(long)]
    server_name: String,
    /// Name we give in EHLO (default: the CN-like host of --from's domain).
    #[arg(long)]
    ehlo: Option<String>,
    #[arg(long)]
    from: String,
    #[arg(long)]
    to: String,
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
    let tls = match client_config(&args.ca, &args.cert, &args.key) {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("smtp-load: {e}");
            return ExitCode::from(2);
        }
    };
    let domain = args.from.rsplit_once('@').map_or("", |(_, d)| d);
    let config = LoadConfig {
        addr: args.addr,
        tls,
        server_name: args.server_name.clone(),
        ehlo_name: args
            .ehlo
            .clone()
            .unwrap_or_else(|| format!("mail.{domain}")),
        from: args.from.clone(),
        to: args.to.clone(),
        spread: Vec::new(),
        connections: args.connections,
        messages: args.messages,
        size: args.size,
        run_id: run_id(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("smtp-load: starting the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let report = runtime.block_on(run_load(config));
    print!("{report}");
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
