//! Full and incremental syncs of the operator's LDAP into a [`Mirror`].
//!
//! - A full sync reads every entry under `base_dn` matching `filter` with paged results
//!   (RFC 2696), then every group; it is the only sync that sees deletions.
//! - An incremental sync asks only for `(&<filter>(modifyTimestamp>=<high water>))` and
//!   merges what changed. LDAP does not return deleted entries to a search (there is no
//!   tombstone without syncrepl/accesslog), and an entry that stops matching the filter
//!   is not returned either: both stay in the mirror until the next full sync, which the
//!   caller must schedule periodically (e.g. every night, incrementals every few minutes).
//!   Groups are few, so both syncs re-read all of them.
//!
//! Either the whole sync succeeds and the new mirror is saved, or nothing changes: an
//! unreachable server gives an error naming its URL and the last good mirror stays.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, Scope, SearchEntry};
use mssd_store::Store;
use rustls::ClientConfig;

use super::config::LdapConfig;
use super::connect::{connect_service, describe, ldap_error, tls_config};
use super::entry::{EntryWarning, Skip, all_values, map_entry};
use super::mirror::{Mirror, RawGroup};
use crate::error::{Error, Result};

/// Which sync to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    Full,
    /// Falls back to a full sync when there is no previous mirror of the same server.
    Incremental,
}

/// What one sync did, for logs, `/metrics` and `mssd doctor`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The sync actually run (an incremental without a usable mirror runs full).
    pub full: bool,
    /// Entries returned by the server.
    pub entries_read: usize,
    /// Entries left out: (DN, reason).
    pub skipped: Vec<(String, String)>,
    pub warnings: Vec<EntryWarning>,
    /// DNs dropped because another entry has the same address.
    pub duplicates: Vec<String>,
    /// Group member DNs that name no mirrored entry.
    pub unresolved_members: usize,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    /// Entries in the new mirror.
    pub total: usize,
}

/// Runs syncs against one configured server.
pub struct LdapSync {
    config: LdapConfig,
    tls: Arc<ClientConfig>,
}

impl LdapSync {
    /// Validates the configuration (encrypted URL, anchors...) and prepares TLS.
    pub fn new(config: LdapConfig) -> Result<LdapSync> {
        config.validate()?;
        let tls = tls_config(&config)?;
        Ok(LdapSync { config, tls })
    }

    pub fn config(&self) -> &LdapConfig {
        &self.config
    }

    /// Loads the last good mirror, syncs, saves the new one. On any LDAP error the store
    /// is untouched and the error names the server.
    pub async fn sync(&self, store: &dyn Store, mode: SyncMode) -> Result<(Mirror, SyncReport)> {
        let previous = Mirror::load(store).await?;
        let result = self.run(previous.as_ref(), mode).await;
        let (mirror, report) = match result {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(url = %self.config.url, error = %e,
                    kept = previous.as_ref().map_or(0, Mirror::len),
                    "LDAP sync failed; the last good mirror is kept");
                return Err(e);
            }
        };
        mirror.save(store).await?;
        tracing::info!(url = %self.config.url, full = report.full, read = report.entries_read,
            added = report.added, changed = report.changed, removed = report.removed,
            skipped = report.skipped.len(), total = report.total, "LDAP sync done");
        Ok((mirror, report))
    }

    /// Syncs without touching the store: a full sync, or an incremental one over
    /// `previous`.
    pub async fn run(
        &self,
        previous: Option<&Mirror>,
        mode: SyncMode,
    ) -> Result<(Mirror, SyncReport)> {
        let base = previous.filter(|p| {
            mode == SyncMode::Incremental && p.source == self.config.url && p.high_water.is_some()
        });
        let mut ldap = connect_service(&self.config, &self.tls).await?;
        let mut report = SyncReport {
            full: base.is_none(),
            ..SyncReport::default()
        };
        let filter = match base.and_then(|b| b.high_water.as_deref()) {
            Some(high_water) => incremental_filter(&self.config.filter, high_water)?,
            None => self.config.filter.clone(),
        };
        let attrs = self.config.attributes.requested();
        let found = self
            .search(&mut ldap, &self.config.base_dn, &filter, attrs)
            .await?;
        report.entries_read = found.len();
        let mut entries = Vec::with_capacity(found.len());
        for e in found {
            match map_entry(
                &e.dn,
                &e.attrs,
                &self.config.attributes,
                &mut report.warnings,
            ) {
                Ok(entry) => entries.push(entry),
                Err(Skip::NoMail) => report.skipped.push((e.dn, "no mail attribute".into())),
                Err(Skip::BadMail { reason }) => report.skipped.push((e.dn, reason)),
            }
        }
        let now = now_unix();
        let mut mirror = match base {
            Some(previous) => {
                let mut mirror = previous.clone();
                mirror.merge_changed(entries);
                mirror
            }
            None => {
                let (map, duplicates) = Mirror::index(entries);
                report.duplicates = duplicates;
                Mirror {
                    source: self.config.url.clone(),
                    full_synced_at: now,
                    entries: map,
                    ..Mirror::default()
                }
            }
        };
        let groups = self.read_groups(&mut ldap).await?;
        // Best effort: the search results are complete, a failed unbind changes nothing.
        let _ = ldap.unbind().await;
        if let Some(groups) = groups {
            report.unresolved_members = mirror.set_groups(groups);
        }
        mirror.synced_at = now;
        mirror.high_water = mirror
            .max_modified()
            .or_else(|| base.and_then(|b| b.high_water.clone()));
        count_changes(previous, &mirror, &mut report);
        Ok((mirror, report))
    }

    async fn read_groups(&self, ldap: &mut Ldap) -> Result<Option<Vec<RawGroup>>> {
        let Some(groups) = &self.config.groups else {
            return Ok(None);
        };
        let attrs = vec![
            groups.member_attribute.clone(),
            groups.mailbox_attribute.clone(),
        ];
        let found = self
            .search(ldap, &groups.base_dn, &groups.filter, attrs)
            .await?;
        let raw = found
            .into_iter()
            .map(|e| RawGroup {
                mailbox_values: all_values(&e.attrs, &groups.mailbox_attribute).to_vec(),
                member_dns: all_values(&e.attrs, &groups.member_attribute).to_vec(),
                dn: e.dn,
            })
            .collect();
        Ok(Some(raw))
    }

    /// A paged subtree search; every page and entry is bounded by the timeout.
    async fn search(
        &self,
        ldap: &mut Ldap,
        base: &str,
        filter: &str,
        attrs: Vec<String>,
    ) -> Result<Vec<SearchEntry>> {
        let failed = |e: ldap3::LdapError| {
            ldap_error(
                &self.config,
                &format!("search {filter} under {base}"),
                describe(&e),
            )
        };
        let adapters: Vec<Box<dyn Adapter<'_, String, Vec<String>>>> = vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(self.config.page_size)),
        ];
        let mut stream = ldap
            .with_timeout(self.config.timeout)
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .await
            .map_err(failed)?;
        let mut entries = Vec::new();
        while let Some(entry) = stream.next().await.map_err(failed)? {
            entries.push(SearchEntry::construct(entry));
        }
        stream.finish().await.success().map_err(failed)?;
        Ok(entries)
    }
}

/// `(&<filter>(modifyTimestamp>=<high water>))`. The high water comes from the server but
/// is checked to be a GeneralizedTime, so it cannot change the filter's meaning.
pub fn incremental_filter(filter: &str, high_water: &str) -> Result<String> {
    let generalized_time = high_water.len() >= 15
        && high_water
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, 'Z' | '.' | '+' | '-'));
    if !generalized_time {
        return Err(Error::LdapMirror(format!(
            "stored modifyTimestamp high water {high_water:?} is not a GeneralizedTime; \
             run a full sync"
        )));
    }
    let filter = filter.trim();
    let filter = if filter.starts_with('(') {
        filter.to_owned()
    } else {
        format!("({filter})")
    };
    Ok(format!("(&{filter}(modifyTimestamp>={high_water}))"))
}

fn count_changes(previous: Option<&Mirror>, new: &Mirror, report: &mut SyncReport) {
    report.total = new.len();
    let Some(old) = previous else {
        report.added = new.len();
        return;
    };
    for (key, entry) in &new.entries {
        match old.entries.get(key) {
            None => report.added += 1,
            Some(before) if before != entry => report.changed += 1,
            Some(_) => {}
        }
    }
    report.removed = old
        .entries
        .keys()
        .filter(|k| !new.entries.contains_key(*k))
        .count();
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_filter_table() {
        let cases = [
            (
                "(objectClass=inetOrgPerson)",
                "20250101120000Z",
                Some("(&(objectClass=inetOrgPerson)(modifyTimestamp>=20250101120000Z))"),
            ),
            (
                "objectClass=person",
                "20250101120000.5Z",
                Some("(&(objectClass=person)(modifyTimestamp>=20250101120000.5Z))"),
            ),
            ("(objectClass=*)", "2025", None),
            ("(objectClass=*)", "20250101120000Z)(uid=*", None),
        ];
        for (filter, high_water, expected) in cases {
            let got = incremental_filter(filter, high_water).ok();
            assert_eq!(got.as_deref(), expected, "{filter} {high_water}");
        }
    }
}
