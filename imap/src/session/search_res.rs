//! SEARCHRES (RFC 5182): `SEARCH RETURN (SAVE)` keeps its result in the selected folder's
//! state, and `$` stands for it in later commands. imap-codec has no `$`: the input gate writes
//! a lone `$` as the number [`SAVED_RESULT`] (see `search_return`), replaced here by the
//! saved messages, as UIDs or as their current sequence numbers, before the command runs.
//! Expunged messages drop out on their own (their UIDs no longer resolve).

use imap_next::imap_types::command::CommandBody;
use imap_next::imap_types::core::Vec1;
use imap_next::imap_types::search::SearchKey;
use imap_next::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use super::selected::Selected;
use crate::search_return::{ReturnOption, SAVED_RESULT};

/// A command once `$` is replaced.
pub(crate) enum WithSaved {
    Run(CommandBody<'static>),
    /// `$` is empty where a set of messages is needed: nothing to do (RFC 5182 2.1: OK).
    Empty,
}

/// Whether `set` is the gate's stand-in for `$`.
fn is_saved(set: &SequenceSet) -> bool {
    matches!(set.0.as_ref(), [Sequence::Single(SeqOrUid::Value(n))] if n.get() == SAVED_RESULT)
}

/// The saved result as UIDs or as current sequence numbers; None when empty.
fn saved_set(selected: &Selected, by_uid: bool) -> Option<SequenceSet> {
    if by_uid {
        return crate::sequence::compress(&selected.saved);
    }
    let numbers: Vec<u32> = selected
        .saved
        .iter()
        .filter_map(|uid| selected.uids().binary_search(uid).ok())
        .filter_map(|index| u32::try_from(index + 1).ok())
        .collect();
    crate::sequence::compress(&numbers)
}

/// `body` with `$` replaced by the saved result of `selected`.
pub(crate) fn substitute(selected: &Selected, mut body: CommandBody<'static>) -> WithSaved {
    use CommandBody as C;
    let set = match &mut body {
        C::Fetch {
            sequence_set, uid, ..
        }
        | C::Store {
            sequence_set, uid, ..
        }
        | C::Copy {
            sequence_set, uid, ..
        }
        | C::Move {
            sequence_set, uid, ..
        } => Some((sequence_set, *uid)),
        C::ExpungeUid { sequence_set } => Some((sequence_set, true)),
        C::Search { criteria, .. } => {
            substitute_keys(selected, criteria);
            None
        }
        C::Sort {
            search_criteria, ..
        }
        | C::Thread {
            search_criteria, ..
        } => {
            substitute_keys(selected, search_criteria);
            None
        }
        _ => None,
    };
    if let Some((set, by_uid)) = set
        && is_saved(set)
    {
        match saved_set(selected, by_uid) {
            Some(saved) => *set = saved,
            None => return WithSaved::Empty,
        }
    }
    WithSaved::Run(body)
}

/// Search criteria with `$` replaced.
fn substitute_keys(selected: &Selected, keys: &mut Vec1<SearchKey<'static>>) {
    let taken = std::mem::replace(keys, Vec1::from(SearchKey::All));
    let replaced: Vec<SearchKey<'static>> = taken
        .into_inner()
        .into_iter()
        .map(|k| key(selected, k))
        .collect();
    *keys = Vec1::try_from(replaced).unwrap_or_else(|_| Vec1::from(SearchKey::All));
}

/// One search key with `$` replaced; an empty saved result matches nothing.
fn key(selected: &Selected, key: SearchKey<'static>) -> SearchKey<'static> {
    let nothing = || SearchKey::Not(Box::new(SearchKey::All));
    match key {
        SearchKey::SequenceSet(set) if is_saved(&set) => saved_set(selected, false)
            .map(SearchKey::SequenceSet)
            .unwrap_or_else(nothing),
        SearchKey::Uid(set) if is_saved(&set) => saved_set(selected, true)
            .map(SearchKey::Uid)
            .unwrap_or_else(nothing),
        SearchKey::And(mut inner) => {
            substitute_keys(selected, &mut inner);
            SearchKey::And(inner)
        }
        SearchKey::Not(inner) => SearchKey::Not(Box::new(self::key(selected, *inner))),
        SearchKey::Or(left, right) => SearchKey::Or(
            Box::new(self::key(selected, *left)),
            Box::new(self::key(selected, *right)),
        ),
        other => other,
    }
}

/// The messages a RETURN answers about, of `hits` in result order: all of them, or only the
/// first and/or last when MIN and/or MAX come without ALL or COUNT (what SAVE keeps, RFC 5182
/// 2.4, and what the MODSEQ of RFC 7162 3.1.5 covers).
pub(crate) fn returned<T: Copy + PartialEq>(options: &[ReturnOption], hits: &[T]) -> Vec<T> {
    let has = |o: ReturnOption| options.contains(&o);
    if !(has(ReturnOption::Min) || has(ReturnOption::Max))
        || has(ReturnOption::All)
        || has(ReturnOption::Count)
    {
        return hits.to_vec();
    }
    let mut kept: Vec<T> = Vec::new();
    if has(ReturnOption::Min) {
        kept.extend(hits.first().copied());
    }
    if has(ReturnOption::Max)
        && let Some(&last) = hits.last()
        && !kept.contains(&last)
    {
        kept.push(last);
    }
    kept
}

/// What SAVE keeps of `hits` (UIDs, in result order), ascending; None without SAVE.
pub(crate) fn to_save(options: &[ReturnOption], hits: &[u32]) -> Option<Vec<u32>> {
    if !options.contains(&ReturnOption::Save) {
        return None;
    }
    let mut kept = returned(options, hits);
    kept.sort_unstable();
    Some(kept)
}

/// Whether SAVE is the only option: then no `* ESEARCH` is sent (RFC 5182 2.4).
pub(crate) fn only_save(options: &[ReturnOption]) -> bool {
    options.iter().all(|o| *o == ReturnOption::Save)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReturnOption::*;

    #[test]
    fn what_save_keeps() {
        let hits = [3, 5, 9, 12];
        let cases: Vec<(Vec<ReturnOption>, Option<Vec<u32>>)> = vec![
            (vec![Save], Some(vec![3, 5, 9, 12])),
            (vec![Save, Min], Some(vec![3])),
            (vec![Save, Max], Some(vec![12])),
            (vec![Min, Max, Save], Some(vec![3, 12])),
            (vec![Save, Min, Count], Some(vec![3, 5, 9, 12])),
            (vec![Min, All, Save], Some(vec![3, 5, 9, 12])),
            (vec![Min, Max], None),
        ];
        for (options, expected) in cases {
            assert_eq!(to_save(&options, &hits), expected, "{options:?}");
        }
        assert_eq!(to_save(&[Save, Min], &[]), Some(vec![]));
        assert!(only_save(&[Save]) && !only_save(&[Save, Count]));
    }
}
