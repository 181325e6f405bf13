//! Sequence sets (RFC 9051 §9 `sequence-set`) against the selected view: resolving a set to
//! positions, testing one value, and compressing values back into a set for responses.
//!
//! The view is the ascending list of UIDs: `uids[i]` is the UID of sequence number `i + 1`.

use std::num::NonZeroU32;

use imap_codec::imap_types::core::Vec1;
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    /// `(asked, messages in the view)`; `*` in an empty view is reported as number 0.
    #[error("message sequence number {0} does not exist (the folder holds {1})")]
    OutOfRange(u32, u32),
}

/// Resolves a set against the selected view (`uids[i]` is the UID of sequence number i+1, ascending).
/// Returns 0-based indices, ascending, no duplicates.
/// Sequence numbers: `*` is the last message; a number > len is OutOfRange; in an empty view `*` is
/// OutOfRange. UIDs (by_uid): `*` is the largest UID present; UIDs absent from the view are ignored
/// (never an error); `n:*` with n above the largest UID still matches the largest UID (RFC 3501
/// §6.4.8); empty view -> empty result.
pub fn resolve(set: &SequenceSet, uids: &[u32], by_uid: bool) -> Result<Vec<usize>, SequenceError> {
    // Half-open index ranges, one per element of the set; merged before the output is built so
    // the only per-message work is pushing the result.
    let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(set.0.as_ref().len());
    for sequence in set.0.as_ref() {
        let range = if by_uid {
            uid_range(sequence, uids)
        } else {
            Some(seq_range(sequence, uids.len())?)
        };
        if let Some(range) = range.filter(|(start, end)| start < end) {
            ranges.push(range);
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    let total = merged.iter().map(|(start, end)| end - start).sum();
    let mut indices = Vec::with_capacity(total);
    for (start, end) in merged {
        indices.extend(start..end);
    }
    Ok(indices)
}

/// Whether `value` is in `set`, `*` standing for `largest` (RFC 9051: `a:b` equals `b:a`).
/// For SEARCH, where a number outside the view simply matches nothing.
pub fn contains(set: &SequenceSet, value: u32, largest: u32) -> bool {
    set.0.as_ref().iter().any(|sequence| {
        let (low, high) = bounds(sequence, largest);
        low <= value && value <= high
    })
}

/// Compresses ascending values into a SequenceSet ("1:3,7"), None when empty (for COPYUID,
/// VANISHED, MODIFIED, SEARCH). Zeros are skipped (no message has number or UID 0); values out of
/// order start a new run, so the set stays correct, only less compact.
pub fn compress(values: &[u32]) -> Option<SequenceSet> {
    let mut sequences: Vec<Sequence> = Vec::new();
    let mut run: Option<(NonZeroU32, NonZeroU32)> = None;
    for value in values.iter().filter_map(|&v| NonZeroU32::new(v)) {
        run = match run {
            Some((first, last)) if value == last => Some((first, last)),
            Some((first, last)) if last.checked_add(1) == Some(value) => Some((first, value)),
            Some(done) => {
                sequences.push(sequence_of(done));
                Some((value, value))
            }
            None => Some((value, value)),
        };
    }
    sequences.extend(run.map(sequence_of));
    Vec1::try_from(sequences).ok().map(SequenceSet)
}

fn sequence_of((first, last): (NonZeroU32, NonZeroU32)) -> Sequence {
    if first == last {
        Sequence::Single(SeqOrUid::Value(first))
    } else {
        Sequence::Range(SeqOrUid::Value(first), SeqOrUid::Value(last))
    }
}

/// `(low, high)` of one element, `*` being `largest`.
fn bounds(sequence: &Sequence, largest: u32) -> (u32, u32) {
    let value = |v: &SeqOrUid| match v {
        SeqOrUid::Value(n) => n.get(),
        SeqOrUid::Asterisk => largest,
    };
    match sequence {
        Sequence::Single(v) => (value(v), value(v)),
        Sequence::Range(a, b) => {
            let (a, b) = (value(a), value(b));
            (a.min(b), a.max(b))
        }
    }
}

/// Half-open index range of a sequence-number element; any number past the end is an error.
fn seq_range(sequence: &Sequence, len: usize) -> Result<(usize, usize), SequenceError> {
    let count = u32::try_from(len).unwrap_or(u32::MAX);
    let check = |v: &SeqOrUid| match v {
        SeqOrUid::Value(n) if n.get() > count => Err(SequenceError::OutOfRange(n.get(), count)),
        SeqOrUid::Asterisk if count == 0 => Err(SequenceError::OutOfRange(0, 0)),
        _ => Ok(()),
    };
    match sequence {
        Sequence::Single(v) => check(v)?,
        Sequence::Range(a, b) => {
            check(a)?;
            check(b)?;
        }
    }
    let (low, high) = bounds(sequence, count);
    Ok((low as usize - 1, high as usize))
}

/// Half-open index range of the UIDs of the view inside a UID element; None for an empty view.
fn uid_range(sequence: &Sequence, uids: &[u32]) -> Option<(usize, usize)> {
    let largest = *uids.last()?;
    let (low, high) = bounds(sequence, largest);
    let start = uids.partition_point(|&uid| uid < low);
    let end = uids.partition_point(|&uid| uid <= high);
    Some((start, end))
}
