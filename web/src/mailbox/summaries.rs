//! One line per message in a folder listing: who, what, when. The header fields of a
//! message never change, so their parse is kept (bounded) and a listing reads only the
//! store's index after the first time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mail_parser::MessageParser;
use mssd_store::{FolderId, MessageMeta};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::Result;
use crate::state::WebState;

const MAX_CACHED: usize = 200_000;

/// A message in a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageSummary {
    pub uid: u32,
    /// The From field as displayed: name, else address.
    pub from: String,
    pub from_address: Option<String>,
    pub subject: String,
    /// RFC 3339, from the Date field, else the arrival time.
    pub date: String,
    pub size: u64,
    pub seen: bool,
    pub flagged: bool,
}

#[derive(Debug, Clone)]
struct Fields {
    from: String,
    from_address: Option<String>,
    subject: String,
    date: Option<String>,
}

/// (folder, UID, the first 8 bytes of the message's SHA-256).
type SummaryKey = (i64, u32, [u8; 8]);

#[derive(Default)]
pub(crate) struct SummaryCache {
    fields: Mutex<HashMap<SummaryKey, Arc<Fields>>>,
}

impl SummaryCache {
    fn key(folder: FolderId, meta: &MessageMeta) -> SummaryKey {
        let mut digest = [0u8; 8];
        let _ = hex::decode_to_slice(meta.sha256.get(..16).unwrap_or(""), &mut digest);
        (folder.0, meta.uid, digest)
    }

    fn get(&self, key: &SummaryKey) -> Option<Arc<Fields>> {
        self.fields.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: SummaryKey, fields: Arc<Fields>) {
        if let Ok(mut cached) = self.fields.lock() {
            if cached.len() >= MAX_CACHED {
                cached.clear();
            }
            cached.insert(key, fields);
        }
    }
}

pub(crate) async fn summarise(
    state: &WebState,
    folder: FolderId,
    metas: &[MessageMeta],
) -> Result<Vec<MessageSummary>> {
    let mut known = Vec::with_capacity(metas.len());
    let mut missing = Vec::new();
    for meta in metas {
        let fields = state.summaries.get(&SummaryCache::key(folder, meta));
        if fields.is_none() {
            missing.push(meta.uid);
        }
        known.push(fields);
    }
    if !missing.is_empty() {
        let bodies = state.store.message_bodies(folder, missing).await?;
        let parsed: HashMap<u32, Arc<Fields>> = bodies
            .into_iter()
            .map(|(uid, bytes)| (uid, Arc::new(fields_of(&bytes))))
            .collect();
        for (slot, meta) in known.iter_mut().zip(metas) {
            if slot.is_none()
                && let Some(fields) = parsed.get(&meta.uid)
            {
                state
                    .summaries
                    .put(SummaryCache::key(folder, meta), fields.clone());
                *slot = Some(fields.clone());
            }
        }
    }
    Ok(metas
        .iter()
        .zip(known)
        .filter_map(|(meta, fields)| {
            let fields = fields?;
            Some(MessageSummary {
                uid: meta.uid,
                from: fields.from.clone(),
                from_address: fields.from_address.clone(),
                subject: fields.subject.clone(),
                date: fields
                    .date
                    .clone()
                    .unwrap_or_else(|| rfc3339(meta.internal_date)),
                size: meta.size,
                seen: meta.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Seen")),
                flagged: meta
                    .flags
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case("\\Flagged")),
            })
        })
        .collect())
}

fn fields_of(bytes: &[u8]) -> Fields {
    let parsed = MessageParser::default().parse_headers(bytes);
    let from = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|a| a.first());
    Fields {
        from: from
            .and_then(|a| a.name().or(a.address()))
            .unwrap_or("(expéditeur inconnu)")
            .to_string(),
        from_address: from.and_then(|a| a.address()).map(str::to_string),
        subject: parsed
            .as_ref()
            .and_then(|m| m.subject())
            .unwrap_or("(sans objet)")
            .to_string(),
        date: parsed
            .as_ref()
            .and_then(|m| m.date())
            .map(|d| d.to_rfc3339()),
    }
}

pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
