//! The list in force, swapped atomically: readers never block and never see half a list.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::{ArcSwap, Guard};
use mssd_certs::DistinguishedName;
use mssd_store::Store;
use time::OffsetDateTime;
use tracing::{info, warn};

use crate::diff::TrustListDiff;
use crate::error::{Error, Result};
use crate::flat_dn::DnKey;
use crate::model::TrustList;
use crate::parse::parse_with_digest;
use crate::policy::{Age, RefreshPolicy, age};
use crate::source::TrustListSource;
use crate::status::{RefreshOutcome, RefreshReport, RefreshStatus, RestoreOutcome};

/// Name of the store document holding the raw bytes of the last accepted list.
pub const STORE_DOCUMENT: &str = "trust-list/liste-blanche.xml";
/// Where the handle saves its refresh history ([`RefreshStatus::to_json`]) after every
/// attempt, so that another process (`mssd doctor`) can tell a refused refresh.
pub const STATUS_DOCUMENT: &str = "trust-list/refresh-status.json";

/// Names shown in the log line of an accepted change, per category.
const LOGGED_NAMES: usize = 5;

/// Whether the age and removal-share rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Refresh,
    Forced,
}

/// The liste blanche in force. Cheap to clone; all clones share the list, the status and the
/// store the accepted lists are saved to.
#[derive(Clone)]
pub struct TrustListHandle {
    inner: Arc<Inner>,
}

struct Inner {
    current: ArcSwap<TrustList>,
    policy: RefreshPolicy,
    store: Option<Arc<dyn Store>>,
    status: Mutex<RefreshStatus>,
    /// One refresh at a time, so "compare with current, then swap" is not raced.
    refresh_lock: tokio::sync::Mutex<()>,
    /// The digest of a saved list `follow_store` could not use (not tried again).
    follow_refused: Mutex<Option<String>>,
}

impl std::fmt::Debug for TrustListHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self.current();
        f.debug_struct("TrustListHandle")
            .field("generated_at", &current.generated_at())
            .field("domains", &current.domain_count())
            .field("persisted", &self.inner.store.is_some())
            .finish()
    }
}

impl TrustListHandle {
    /// An empty list (nothing listed) that accepted lists are not saved from.
    pub fn new(policy: RefreshPolicy) -> TrustListHandle {
        Self::build(policy, None, TrustList::empty())
    }

    /// Starts from the list last saved in `store` and saves every accepted list there. An
    /// unparsable saved copy is reported in the status and the handle starts empty; an error
    /// reading the store is returned.
    pub async fn restore(store: Arc<dyn Store>, policy: RefreshPolicy) -> Result<TrustListHandle> {
        let stored = match store.document(STORE_DOCUMENT).await {
            Ok(stored) => stored,
            Err(mssd_store::Error::Corrupt { detail, .. }) => {
                return Ok(Self::restored_empty(store, policy, detail));
            }
            Err(e) => return Err(e.into()),
        };
        let Some(bytes) = stored else {
            info!("no saved liste blanche: nothing is listed until a refresh succeeds");
            let handle = Self::build(policy, Some(store), TrustList::empty());
            handle.status_mut().restored = Some(RestoreOutcome::NothingStored);
            return Ok(handle);
        };
        match parse_off_thread(bytes)
            .await
            .and_then(|(_, list)| non_empty(list))
        {
            Ok(list) => {
                let outcome = RestoreOutcome::Restored {
                    generated_at: list.generated_at().unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    domains: list.domain_count(),
                };
                info!(
                    generated_at = %format_time(list.generated_at()),
                    domains = list.domain_count(),
                    "saved liste blanche restored"
                );
                let handle = Self::build(policy, Some(store), list);
                handle.status_mut().restored = Some(outcome);
                Ok(handle)
            }
            Err(e) => Ok(Self::restored_empty(store, policy, e.to_string())),
        }
    }

    fn restored_empty(
        store: Arc<dyn Store>,
        policy: RefreshPolicy,
        reason: String,
    ) -> TrustListHandle {
        warn!(
            %reason,
            "the saved liste blanche is unusable: nothing is listed until a refresh succeeds"
        );
        let handle = Self::build(policy, Some(store), TrustList::empty());
        handle.status_mut().restored = Some(RestoreOutcome::Unusable { reason });
        handle
    }

    fn build(
        policy: RefreshPolicy,
        store: Option<Arc<dyn Store>>,
        list: TrustList,
    ) -> TrustListHandle {
        TrustListHandle {
            inner: Arc::new(Inner {
                current: ArcSwap::from_pointee(list),
                policy,
                store,
                status: Mutex::new(RefreshStatus::default()),
                refresh_lock: tokio::sync::Mutex::new(()),
                follow_refused: Mutex::new(None),
            }),
        }
    }

    /// The list in force, cheaply (no reference count traffic in the common case). Hold it
    /// only briefly; use [`TrustListHandle::snapshot`] to keep it.
    pub fn current(&self) -> Guard<Arc<TrustList>> {
        self.inner.current.load()
    }

    /// The list in force, to keep: several lookups on it see one consistent list.
    pub fn snapshot(&self) -> Arc<TrustList> {
        self.inner.current.load_full()
    }

    /// See [`TrustList::is_listed`].
    pub fn is_listed(&self, domain: &str) -> bool {
        self.current().is_listed(domain)
    }

    /// See [`TrustList::dn_allowed`].
    pub fn dn_allowed(&self, domain: &str, dn: &DistinguishedName) -> bool {
        self.current().dn_allowed(domain, dn)
    }

    /// See [`TrustList::dn_key_allowed`].
    pub fn dn_key_allowed(&self, domain: &str, key: &DnKey) -> bool {
        self.current().dn_key_allowed(domain, key)
    }

    /// See [`TrustList::domains_for_dn`].
    pub fn domains_for_dn(&self, dn: &DistinguishedName) -> Vec<String> {
        self.current().domains_for_dn(dn)
    }

    /// See [`TrustList::domains_for_dn_key`].
    pub fn domains_for_dn_key(&self, key: &DnKey) -> Vec<String> {
        self.current().domains_for_dn_key(key)
    }

    pub fn policy(&self) -> RefreshPolicy {
        self.inner.policy
    }

    /// Counters, last results and the list in force.
    pub fn status(&self) -> RefreshStatus {
        let mut status = self.status_mut().clone();
        let current = self.current();
        status.generated_at = current.generated_at();
        status.domains = current.domain_count();
        status.entries = current.entry_count();
        status.skipped_entries = current.parse_report().skipped;
        status.sha256 = current.sha256().map(str::to_owned);
        status
    }

    /// Fetches, verifies and, when every rule passes, puts the new list in force. A refusal
    /// is returned as the error; the previous list then stays in force.
    pub async fn refresh(&self, source: &TrustListSource) -> Result<RefreshReport> {
        self.run(source, Mode::Refresh).await
    }

    /// Like [`TrustListHandle::refresh`] without the age and removal-share rules (the CLI's
    /// `--force`). Download, checksum, parse and non-empty rules still apply.
    pub async fn load_forced(&self, source: &TrustListSource) -> Result<RefreshReport> {
        self.run(source, Mode::Forced).await
    }

    async fn run(&self, source: &TrustListSource, mode: Mode) -> Result<RefreshReport> {
        let _one_at_a_time = self.inner.refresh_lock.lock().await;
        let started = OffsetDateTime::now_utc();
        let result = self.attempt(source, mode).await;
        let history = self.record(source, started, &result);
        if let Some(store) = &self.inner.store
            && let Err(e) = store.put_document(STATUS_DOCUMENT, history).await
        {
            warn!(error = %e, "could not save the liste blanche refresh status");
        }
        result
    }

    /// Records an attempt's outcome in the status; returns the status as saved (JSON).
    fn record(
        &self,
        source: &TrustListSource,
        started: OffsetDateTime,
        result: &Result<RefreshReport>,
    ) -> Vec<u8> {
        let mut status = self.status_mut();
        status.last_attempt = Some(started);
        match result {
            Ok(report) => {
                status.last_success = Some(started);
                match report.outcome {
                    RefreshOutcome::Unchanged => status.unchanged += 1,
                    _ => status.accepted += 1,
                }
                status.last_result = Some(report.outcome.clone());
            }
            Err(e) => {
                warn!(
                    source = %source.list,
                    kind = e.kind(),
                    reason = %e,
                    "liste blanche refused; the previous list stays in force"
                );
                status.refused += 1;
                *status.refused_by_kind.entry(e.kind()).or_default() += 1;
                status.last_result = Some(RefreshOutcome::Refused {
                    kind: e.kind(),
                    reason: e.to_string(),
                });
            }
        }
        status.to_json().to_string().into_bytes()
    }

    async fn attempt(&self, source: &TrustListSource, mode: Mode) -> Result<RefreshReport> {
        let verified = source.fetch_verified().await?;
        // Refreshes are serialised, so this is still the list in force after the parse.
        let current = self.snapshot();
        // The very bytes of the list in force (every refresh between two publications): parsing
        // them would give it again, same DateDeGeneration included: the outcome is known.
        if mode == Mode::Refresh && current.sha256() == Some(verified.sha256.as_str()) {
            return Ok(unchanged_report(&current, &current));
        }
        let (bytes, new) =
            parse_off_thread_with_digest(verified.bytes, verified.sha256, Arc::clone(&current))
                .await?;
        let new = non_empty(new)?;
        if mode == Mode::Refresh {
            match age(&current, &new) {
                Age::Older => {
                    return Err(Error::Older {
                        offered: format_time(new.generated_at()),
                        current: format_time(current.generated_at()),
                    });
                }
                Age::Same => return Ok(unchanged_report(&current, &new)),
                Age::Newer => {}
            }
        }
        let diff = TrustListDiff::between(&current, &new);
        if mode == Mode::Refresh {
            self.inner
                .policy
                .check_removals(diff.domains_removed.len(), current.domain_count())?;
        }
        let persisted = self.persist(bytes).await;
        let report = RefreshReport {
            outcome: RefreshOutcome::Accepted {
                summary: diff.summary(),
                forced: mode == Mode::Forced,
            },
            generated_at: new.generated_at().unwrap_or(OffsetDateTime::UNIX_EPOCH),
            domains: new.domain_count(),
            entries: new.entry_count(),
            skipped_entries: new.parse_report().skipped,
            sha256: new.sha256().unwrap_or_default().to_owned(),
            persisted,
            diff,
        };
        let previous = self.inner.current.swap(Arc::new(new));
        // Freeing a large list takes milliseconds; do it off the async worker. Readers still
        // holding it keep it alive until they finish anyway.
        drop(tokio::task::spawn_blocking(move || drop(previous)));
        log_accepted(&report, &source.list.to_string());
        Ok(report)
    }

    /// Puts in force the list another process (`mssd trust-list load`) saved in the store,
    /// when it is not the one in force. That process applied the refresh rules before saving
    /// (or the operator forced it). Ok(true) when a list was put in force; a saved list that
    /// does not parse is reported once and the list in force stays.
    pub async fn follow_store(&self) -> Result<bool> {
        let Some(store) = &self.inner.store else {
            return Ok(false);
        };
        let Some(digest) = store.document_sha256(STORE_DOCUMENT).await? else {
            return Ok(false);
        };
        let same = |sha: Option<&str>| sha.is_some_and(|s| s.eq_ignore_ascii_case(&digest));
        if same(self.current().sha256()) || self.follow_refused_is(&digest) {
            return Ok(false);
        }
        // Not while a refresh of our own is being decided.
        let _refreshing = self.inner.refresh_lock.lock().await;
        if same(self.current().sha256()) {
            return Ok(false);
        }
        let Some(bytes) = store.document(STORE_DOCUMENT).await? else {
            return Ok(false);
        };
        let list = match parse_off_thread(bytes)
            .await
            .and_then(|(_, l)| non_empty(l))
        {
            // The list in force could not be saved (our last persist failed): the stored one
            // is then the list it replaced, not an operator's choice. Going back to it
            // would undo a refresh; an older list loaded by the CLI while saving works is
            // followed (a rollback).
            Ok(list)
                if !follows_stored(
                    list.generated_at(),
                    self.current().generated_at(),
                    self.status_mut().last_persist_error.is_some(),
                ) =>
            {
                warn!(
                    stored = %format_time(list.generated_at()),
                    "the liste blanche in the store is older than the one in force, which could not be saved: not followed"
                );
                *self
                    .inner
                    .follow_refused
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(digest);
                return Ok(false);
            }
            Ok(list) => list,
            Err(e) => {
                warn!(error = %e, "the liste blanche saved in the store is unusable; the list in force stays");
                *self
                    .inner
                    .follow_refused
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(digest);
                return Err(e);
            }
        };
        info!(
            generated_at = %format_time(list.generated_at()),
            domains = list.domain_count(),
            "liste blanche saved by another process (mssd trust-list load) put in force"
        );
        let previous = self.inner.current.swap(Arc::new(list));
        drop(tokio::task::spawn_blocking(move || drop(previous)));
        Ok(true)
    }

    fn follow_refused_is(&self, digest: &str) -> bool {
        self.inner
            .follow_refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_deref()
            == Some(digest)
    }

    /// Saves the accepted bytes; a failure is logged and recorded, not fatal: the list is
    /// valid and enforced, only a restart would fall back to the previously saved one.
    async fn persist(&self, bytes: Vec<u8>) -> bool {
        let Some(store) = &self.inner.store else {
            return false;
        };
        match store.put_document(STORE_DOCUMENT, bytes).await {
            Ok(()) => {
                self.status_mut().last_persist_error = None;
                true
            }
            Err(e) => {
                warn!(error = %e, "the accepted liste blanche could not be saved to the store");
                self.status_mut().last_persist_error = Some(e.to_string());
                false
            }
        }
    }

    fn status_mut(&self) -> MutexGuard<'_, RefreshStatus> {
        self.inner
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether a list another process saved replaces the one in force. Only when this process
/// failed to save its own list is an older stored list the one it replaced rather than an
/// operator's rollback.
fn follows_stored<T: PartialOrd>(stored: T, in_force: T, our_save_failed: bool) -> bool {
    !(our_save_failed && stored < in_force)
}

fn non_empty(list: TrustList) -> Result<TrustList> {
    if list.is_empty() {
        return Err(Error::Empty {
            skipped: list.parse_report().skipped,
        });
    }
    Ok(list)
}

fn unchanged_report(current: &TrustList, new: &TrustList) -> RefreshReport {
    if current.sha256() != new.sha256() {
        warn!(
            generated_at = %format_time(new.generated_at()),
            "the offered liste blanche has the same DateDeGeneration as the one in force but \
             different content; keeping the one in force"
        );
    }
    RefreshReport {
        outcome: RefreshOutcome::Unchanged,
        diff: TrustListDiff::default(),
        generated_at: current.generated_at().unwrap_or(OffsetDateTime::UNIX_EPOCH),
        domains: current.domain_count(),
        entries: current.entry_count(),
        skipped_entries: current.parse_report().skipped,
        sha256: current.sha256().unwrap_or_default().to_owned(),
        persisted: false,
    }
}

fn log_accepted(report: &RefreshReport, source: &str) {
    let diff = &report.diff;
    let first = |names: &mut dyn Iterator<Item = String>| -> Vec<String> {
        names.take(LOGGED_NAMES).collect()
    };
    info!(
        source,
        generated_at = %format_time(Some(report.generated_at)),
        domains = report.domains,
        entries = report.entries,
        skipped_entries = report.skipped_entries,
        domains_added = diff.domains_added.len(),
        domains_removed = diff.domains_removed.len(),
        dns_added = diff.dns_added.len(),
        dns_removed = diff.dns_removed.len(),
        first_added = ?first(&mut diff.domains_added.iter().cloned()),
        first_removed = ?first(&mut diff.domains_removed.iter().cloned()),
        first_dn_changes = ?first(&mut diff.dns_added.iter().chain(&diff.dns_removed).map(|c| c.domain.clone())),
        forced = matches!(report.outcome, RefreshOutcome::Accepted { forced: true, .. }),
        persisted = report.persisted,
        "liste blanche accepted"
    );
}

/// Parses on the blocking pool: a large list takes tens of milliseconds of CPU.
async fn parse_off_thread(bytes: Vec<u8>) -> Result<(Vec<u8>, TrustList)> {
    tokio::task::spawn_blocking(move || {
        let list = crate::parse::parse(&bytes)?;
        Ok((bytes, list))
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

/// Parses on the blocking pool, reusing what the new list repeats from `current`.
async fn parse_off_thread_with_digest(
    bytes: Vec<u8>,
    sha256: String,
    current: Arc<TrustList>,
) -> Result<(Vec<u8>, TrustList)> {
    tokio::task::spawn_blocking(move || {
        let list = parse_with_digest(&bytes, sha256, Some(&current))?;
        Ok((bytes, list))
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

/// RFC 3339 text of a generation date, `none` for the empty list.
pub(crate) fn format_time(at: Option<OffsetDateTime>) -> String {
    at.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_else(|| "none".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stored_list_is_followed_unless_it_is_the_one_our_failed_save_left_behind() {
        // (stored, in force, our last save failed, followed)
        for (stored, in_force, failed, followed) in [
            (6, 5, false, true),
            (6, 5, true, true),
            (4, 5, false, true), // an operator's rollback with `trust-list load --force`
            (4, 5, true, false), // the list our failed save could not replace
            (5, 5, true, true),
        ] {
            assert_eq!(
                super::follows_stored(stored, in_force, failed),
                followed,
                "{stored} {in_force} {failed}"
            );
        }
    }
}
