//! One line per message in a folder listing: who, what, when. The header fields of a
//! message never change, so their parse is kept (bounded) and a listing reads only the
//! store's index after the first time.

use std::collections::HashMap;
use std::sync::Arc;

use mail_parser::MessageParser;
use mssd_store::{FolderId, MessageMeta};

use super::model::{MessageSummary, SummaryFields};
use crate::cache::SummaryCache;
use crate::error::Result;
use crate::state::WebState;

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
        // Heads only: a large message's body file is never read for a listing.
        let bodies = state.store.message_heads(folder, missing).await?;
        let parsed: HashMap<u32, Arc<SummaryFields>> = bodies
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

fn fields_of(bytes: &[u8]) -> SummaryFields {
    let parsed = MessageParser::default().parse_headers(bytes);
    let from = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|a| a.first());
    SummaryFields {
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
