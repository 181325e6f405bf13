//! Provisioning citizen mailboxes and looking them up by address. There is no bulk creation
//! in the Store API: `provisioners` tasks call `create_mailbox` concurrently (each call is
//! durable before it returns; SQLite's writer and the concurrent PostgreSQL transactions
//! share WAL flushes). Then `lookups` random addresses go through `Store::mailbox`, the call
//! of the RCPT TO and login paths, from `lookers` concurrent tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mssd_core::{Address, MailboxKind};
use mssd_store::{NewMailbox, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};
use crate::stats::{LatencySummary, rate, summarize};

/// The citizen domain of the bench.
pub const CITIZEN_DOMAIN: &str = "patient.test.mssante.fr";

#[derive(Debug)]
pub struct CitizenReport {
    pub created: usize,
    pub provisioning: Duration,
    pub lookups: usize,
    pub lookup_elapsed: Duration,
    pub lookup_latency: Option<LatencySummary>,
}

impl CitizenReport {
    pub fn created_per_second(&self) -> f64 {
        rate(self.created, self.provisioning)
    }

    pub fn lookups_per_second(&self) -> f64 {
        rate(self.lookups, self.lookup_elapsed)
    }
}

/// The address of citizen `n` (a 15-digit INS-like local part).
pub fn citizen_address(n: usize) -> String {
    format!("{:015}@{CITIZEN_DOMAIN}", 100_000_000_000_000u64 + n as u64)
}

pub struct CitizenConfig {
    pub count: usize,
    pub provisioners: usize,
    pub lookups: usize,
    pub lookers: usize,
    pub seed: u64,
}

pub async fn run_citizens(store: Arc<dyn Store>, config: &CitizenConfig) -> Result<CitizenReport> {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let progress_every = (config.count / 10).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..config.provisioners.max(1) {
        let (store, next, count) = (Arc::clone(&store), Arc::clone(&next), config.count);
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, Error>(());
                }
                let text = citizen_address(n);
                let address = Address::parse(&text).map_err(|_| Error::Address(text))?;
                store
                    .create_mailbox(NewMailbox {
                        address,
                        kind: MailboxKind::Citizen,
                        display_name: None,
                        owner_id_nat: None,
                        password_hash: None,
                        certificate_dn: None,
                        quota_bytes: Some(100 << 20),
                    })
                    .await?;
                if (n + 1) % progress_every == 0 {
                    println!(
                        "  {} mailboxes after {:.0} s",
                        n + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| Error::Metrics(format!("provisioning task failed: {e}")))??;
    }
    let provisioning = started.elapsed();

    let lookup_started = Instant::now();
    let per_task = config.lookups.div_ceil(config.lookers.max(1));
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..config.lookers.max(1) {
        let store = Arc::clone(&store);
        let (count, seed) = (config.count, config.seed.wrapping_add(t as u64));
        tasks.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut samples = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let text = citizen_address(rng.gen_range(0..count.max(1)));
                let address = Address::parse(&text).map_err(|_| Error::Address(text.clone()))?;
                let began = Instant::now();
                let found = store.mailbox(&address).await?;
                samples.push(began.elapsed());
                if found.is_none() {
                    return Err(Error::NoMailbox {
                        address: text,
                        db: "the bench store".into(),
                    });
                }
            }
            Ok(samples)
        });
    }
    let mut samples = Vec::with_capacity(config.lookups);
    while let Some(joined) = tasks.join_next().await {
        samples.extend(joined.map_err(|e| Error::Metrics(format!("lookup task failed: {e}")))??);
    }
    Ok(CitizenReport {
        created: config.count,
        provisioning,
        lookups: samples.len(),
        lookup_elapsed: lookup_started.elapsed(),
        lookup_latency: summarize(&mut samples),
    })
}
