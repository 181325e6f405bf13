//! The queue runner: takes due entries, groups their recipients by next hop, delivers each
//! group over one connection (several groups at a time), then settles every entry (see
//! `settle.rs`). Woken by the poll interval or by `SmtpContext::queue_notify`.
//!
//! Delivery is at-least-once, never zero times: statuses are written only after the peer
//! accepted, so a crash between the peer's `250` and our status update delivers that
//! message again on restart; an entry leaves the queue only once every recipient is final.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use mssd_core::Address;
use mssd_store::{QueueId, Queued, RecipientStatus};
use tokio::sync::{Mutex, Semaphore, watch};
use tokio::task::JoinSet;

use super::client::ClientSettings;
use super::config::OutboundConfig;
use super::delivery::{Deliverer, Job, JobResult};
use super::envelope::QueuedEnvelope;
use super::outcome::{Failure, Outcome};
use super::retry::RetrySchedule;
use super::route::{NextHop, Router};
use super::stats::{OutboundStats, QueueStats};
use crate::context::SmtpContext;
use crate::error::{Error, Result};

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Queue entries attempted.
    pub entries: usize,
    /// Recipients handed over / deferred / failed for good (including expired).
    pub delivered: usize,
    pub deferred: usize,
    pub failed: usize,
    /// DSNs generated.
    pub reports: usize,
    /// Entries removed from the queue, all their recipients final.
    pub completed: usize,
    /// Entries whose outcome could not be recorded (store errors); they are retried.
    pub errors: Vec<String>,
}

pub struct QueueRunner {
    pub(super) ctx: Arc<SmtpContext>,
    pub(super) config: OutboundConfig,
    pub(super) schedule: RetrySchedule,
    router: Arc<Router>,
    settings: ClientSettings,
    pub(super) stats: Arc<OutboundStats>,
    /// One round at a time in this process (the leases keep the rounds of other nodes apart).
    round: Mutex<()>,
}

impl QueueRunner {
    /// `[relay] routes` from a reloaded configuration (built, hence checked, by
    /// [`Router::new`]), from the next delivery on.
    pub fn replace_routes(&self, routes: Router) {
        self.router.replace_routes(routes);
    }

    pub fn new(ctx: Arc<SmtpContext>, config: OutboundConfig) -> Result<QueueRunner> {
        if config.concurrency == 0 || config.batch == 0 {
            return Err(Error::BadConfig(
                "concurrency and batch must be at least 1".into(),
            ));
        }
        let router = Arc::new(Router::new(&config.routes)?);
        let settings = ClientSettings {
            ehlo_name: ctx.config.hostname.clone(),
            tls: config.client.clone(),
            timeouts: config.timeouts,
            use_chunking: config.use_chunking,
            validator: ctx.validator.clone(),
        };
        Ok(QueueRunner {
            schedule: RetrySchedule::new(config.retry.clone()),
            ctx,
            config,
            router,
            settings,
            stats: Arc::new(OutboundStats::default()),
            round: Mutex::new(()),
        })
    }

    pub fn stats(&self) -> &OutboundStats {
        &self.stats
    }

    /// Queue depth, parked entries and the oldest entry's age, for `/metrics`. Reads the
    /// whole queue: a cheaper store query can replace it when queues grow.
    pub async fn queue_stats(&self) -> Result<QueueStats> {
        Ok(QueueStats::of(&self.ctx.store.queue().await?, now()))
    }

    /// Runs rounds until `shutdown` turns true (or its sender goes away). A round in
    /// progress is finished first: its duration is bounded by the client timeouts.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(
            routes = self.config.routes.len(),
            "smtp outbound queue runner started"
        );
        while !*shutdown.borrow() {
            let full = match self.run_once().await {
                Ok(report) => {
                    if report.entries > 0 {
                        tracing::info!(?report, "smtp outbound round");
                    }
                    report.entries >= self.config.batch
                }
                Err(e) => {
                    tracing::error!(error = %e, "smtp outbound round failed");
                    false
                }
            };
            if full {
                continue;
            }
            tokio::select! {
                changed = shutdown.changed() => if changed.is_err() { break },
                _ = self.ctx.queue_notify.notified() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
            }
        }
        tracing::info!("smtp outbound queue runner stopped");
    }

    /// One round over the entries due now.
    pub async fn run_once(&self) -> Result<RunReport> {
        self.run_once_at(now()).await
    }

    /// One round as if the time were `now` (Unix seconds): entries due then, expiry and
    /// next attempts computed from it. For tests and tools.
    ///
    /// The entries are claimed with a lease (`Store::claim_due`), so the runners of other
    /// nodes sharing the database skip them; settling each entry ends its lease.
    pub async fn run_once_at(&self, now: i64) -> Result<RunReport> {
        let _round = self.round.lock().await;
        let claimed = self
            .ctx
            .store
            .claim_due(now, self.lease_until(now), self.config.batch)
            .await?;
        Ok(self.attempt(claimed, now).await)
    }

    /// Attempts entry `id` now, whatever its schedule, unless another runner (another node)
    /// is attempting it: then `Error::EntryHeld`, as sending it here too would deliver it twice.
    pub async fn retry_now(&self, id: QueueId) -> Result<RunReport> {
        let _round = self.round.lock().await;
        let now = now();
        let entry = match self
            .ctx
            .store
            .claim_entry(id, now, self.lease_until(now))
            .await
        {
            Ok(Some(entry)) => entry,
            Ok(None) => return Err(Error::EntryHeld(id.0)),
            Err(mssd_store::Error::NotFound { .. }) => return Err(Error::NoSuchEntry(id.0)),
            Err(e) => return Err(e.into()),
        };
        Ok(self.attempt(vec![entry], now).await)
    }

    fn lease_until(&self, now: i64) -> i64 {
        let lease = i64::try_from(self.config.lease.as_secs()).unwrap_or(i64::MAX);
        now.saturating_add(lease.max(1))
    }

    async fn attempt(&self, entries: Vec<Queued>, now: i64) -> RunReport {
        let mut report = RunReport {
            entries: entries.len(),
            ..Default::default()
        };
        let entries: Vec<(Arc<Queued>, Arc<QueuedEnvelope>)> = entries
            .into_iter()
            .map(|e| {
                let envelope = Arc::new(QueuedEnvelope::from_json(&e.envelope));
                (Arc::new(e), envelope)
            })
            .collect();
        let mut outcomes: HashMap<QueueId, Vec<(Address, Outcome)>> = HashMap::new();
        let mut groups: BTreeMap<Vec<NextHop>, Vec<Job>> = BTreeMap::new();
        let mut routes: HashMap<String, std::result::Result<Vec<NextHop>, Failure>> =
            HashMap::new();
        for (entry, envelope) in &entries {
            for (domain, recipients) in pending_by_domain(entry) {
                if !routes.contains_key(&domain) {
                    let hops = self.router.next_hops(&domain).await;
                    routes.insert(domain.clone(), hops);
                }
                match routes.get(&domain) {
                    Some(Ok(hops)) => groups.entry(hops.clone()).or_default().push(Job {
                        entry: entry.clone(),
                        envelope: envelope.clone(),
                        domain,
                        recipients,
                    }),
                    Some(Err(failure)) => {
                        let list = outcomes.entry(entry.id).or_default();
                        list.extend(
                            recipients
                                .into_iter()
                                .map(|r| (r, Outcome::from_failure(failure.clone()))),
                        );
                    }
                    None => {}
                }
            }
        }
        for result in self.deliver_groups(groups).await {
            outcomes
                .entry(result.entry)
                .or_default()
                .extend(result.outcomes);
        }
        for (entry, envelope) in &entries {
            let results = outcomes.remove(&entry.id).unwrap_or_default();
            if let Err(e) = self
                .settle(entry, envelope, results, now, &mut report)
                .await
            {
                tracing::error!(queue_id = entry.id.0, error = %e, "smtp outbound: recording the outcome failed");
                report
                    .errors
                    .push(format!("queue entry {}: {e}", entry.id.0));
            }
        }
        report
    }

    /// Each group on its own task, at most `concurrency` at a time.
    async fn deliver_groups(&self, groups: BTreeMap<Vec<NextHop>, Vec<Job>>) -> Vec<JobResult> {
        let limit = Arc::new(Semaphore::new(self.config.concurrency));
        let mut tasks = JoinSet::new();
        for (hops, jobs) in groups {
            let deliverer = Deliverer {
                ctx: self.ctx.clone(),
                settings: self.settings.clone(),
                stats: self.stats.clone(),
            };
            let limit = limit.clone();
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                deliverer.deliver(&hops, jobs).await
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(group) => results.extend(group),
                // Its entries keep their pending recipients and are retried on schedule.
                Err(e) => tracing::error!(error = %e, "smtp outbound: a delivery task failed"),
            }
        }
        results
    }
}

/// Pending recipients of an entry, by domain.
fn pending_by_domain(entry: &Queued) -> BTreeMap<String, Vec<Address>> {
    let mut by_domain: BTreeMap<String, Vec<Address>> = BTreeMap::new();
    for r in entry
        .recipients
        .iter()
        .filter(|r| r.status == RecipientStatus::Pending)
    {
        by_domain
            .entry(r.address.domain().to_string())
            .or_default()
            .push(r.address.clone());
    }
    by_domain
}

pub(super) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
