//! A real `mssd serve` on each backend (the world of `perf-bench`, its configuration with a
//! `[store]` section for PostgreSQL): SMTP on the MTA listener (mutual TLS, a peer on the
//! liste blanche, every connection to one ORG mailbox, then each to its own), then the IMAP command mix of
//! `imap-bench` on each client's INBOX filled by APPEND. What the MTA clients were told was
//! accepted is then counted in the store.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mssd_core::Address;
use mssd_store::{SqliteStore, Store};

use crate::backend::{Backend, fresh_postgres_url, open_postgres, store_section};
use crate::connection::client_config;
use crate::error::{Error, Result};
use crate::imap_fill::{FillJob, FillReport, fill_all};
use crate::imap_mix::{MixClient, MixReport, run_mix};
use crate::imap_setup::ImapEndpoint;
use crate::message::run_id;
use crate::perf_setup::{A, B, PEER_CN, PerfWorld};
use crate::{LoadConfig, LoadReport, run_load};

pub struct ServerConfig<'a> {
    pub bin: &'a Path,
    /// SMTP connections, and IMAP clients.
    pub connections: usize,
    /// SMTP messages per connection.
    pub messages: usize,
    pub size: usize,
    /// Messages APPENDed to each IMAP client's INBOX before the mix.
    pub imap_messages: usize,
    pub mix: Duration,
    pub seed: u64,
}

pub struct ServerReport {
    pub smtp: LoadReport,
    /// Messages found in the MTA recipient's INBOX afterwards.
    pub stored: usize,
    /// The same load, each connection to its own mailbox.
    pub spread_smtp: LoadReport,
    /// Messages found in those mailboxes afterwards.
    pub spread_stored: usize,
    pub fill: FillReport,
    pub mix: MixReport,
}

pub async fn run_server(backend: Backend, config: &ServerConfig<'_>) -> Result<ServerReport> {
    let url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(fresh_postgres_url().await?),
    };
    let extra = url.as_deref().map(store_section).unwrap_or_default();
    let world = tokio::task::block_in_place(|| {
        PerfWorld::create_with(config.bin, config.connections, &extra)
    })?;
    let server = tokio::task::block_in_place(|| world.operator.start())?;
    let server_name = format!("mail.{A}");
    let load = LoadConfig {
        addr: server.addr("smtp")?,
        tls: client_config(
            &world.operator.pki("root.pem"),
            &world.peer.chain,
            &world.peer.key,
        )?,
        server_name: server_name.clone(),
        ehlo_name: PEER_CN.to_string(),
        from: format!("secretariat@{B}"),
        to: world.recipient.clone(),
        spread: Vec::new(),
        connections: config.connections,
        messages: config.messages,
        size: config.size,
        run_id: run_id(),
    };
    println!(
        "  SMTP: {} connections x {} messages x {} bytes (mutual TLS, MTA listener)",
        config.connections, config.messages, config.size
    );
    let spread_to = tokio::task::block_in_place(|| world.add_recipients(config.connections))?;
    let spread_load = LoadConfig {
        spread: spread_to.clone(),
        run_id: run_id(),
        ..load.clone()
    };
    let smtp = run_load(load).await;
    print!("{smtp}");
    println!("  SMTP spread: each connection to its own ORG mailbox");
    let spread_smtp = run_load(spread_load).await;
    print!("{spread_smtp}");

    let endpoint = ImapEndpoint {
        addr: server.addr("imaps")?,
        tls: mssd_e2e::tls_client_config(&world.operator.pki("root.pem"), None),
        server_name,
    };
    let jobs: Vec<FillJob> = world
        .users
        .iter()
        .enumerate()
        .map(|(n, user)| FillJob {
            user: user.clone(),
            folder: "INBOX".into(),
            count: config.imap_messages,
            seed: config.seed.wrapping_add(n as u64),
        })
        .collect();
    let fill = fill_all(&endpoint, &jobs, 1, 16, A).await?;
    println!(
        "  IMAP: {} messages appended in {:.1} s ({:.0}/s); mix for {} s",
        fill.messages,
        fill.elapsed.as_secs_f64(),
        fill.rate(),
        config.mix.as_secs()
    );
    let clients: Vec<MixClient> = world
        .users
        .iter()
        .map(|user| MixClient {
            user: user.clone(),
            folder: "INBOX".into(),
        })
        .collect();
    let mix = run_mix(&endpoint, &clients, config.mix, config.seed).await?;
    println!(
        "  IMAP mix: {} commands in {:.1} s, {} failures",
        mix.commands,
        mix.elapsed.as_secs_f64(),
        mix.failures.len()
    );
    let status = tokio::task::block_in_place(|| server.stop(Duration::from_secs(30)))?;
    println!("  mssd stopped ({status})");

    let store: Arc<dyn Store> = match &url {
        None => Arc::new(SqliteStore::open(
            &world.operator.database(),
            Default::default(),
        )?),
        Some(url) => Arc::new(open_postgres(url).await?),
    };
    let stored = count_inbox(&*store, &world.recipient).await?;
    let mut spread_stored = 0;
    for address in &spread_to {
        spread_stored += count_inbox(&*store, address).await?;
    }
    Ok(ServerReport {
        smtp,
        stored,
        spread_smtp,
        spread_stored,
        fill,
        mix,
    })
}

/// Messages in `address`'s INBOX.
async fn count_inbox(store: &dyn Store, address: &str) -> Result<usize> {
    let parsed = Address::parse(address).map_err(|_| Error::Address(address.to_string()))?;
    let Some(mailbox) = store.mailbox(&parsed).await? else {
        return Err(Error::Metrics(format!("no mailbox {address} in the store")));
    };
    let folders = store.folders(mailbox.id).await?;
    match folders.iter().find(|f| f.name == "INBOX") {
        Some(inbox) => Ok(store.messages(inbox.id).await?.len()),
        None => Ok(0),
    }
}
