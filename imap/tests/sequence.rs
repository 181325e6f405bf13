//! Sequence sets against a view: resolution by number and by UID, membership, compression.

use std::time::Instant;

use imap_codec::imap_types::sequence::SequenceSet;
use mssd_imap::sequence::{SequenceError, compress, contains, resolve};

fn set(text: &str) -> SequenceSet {
    text.parse().unwrap()
}

/// UIDs of a 6-message view with gaps (expunged messages).
const VIEW: [u32; 6] = [3, 4, 7, 10, 11, 20];

#[test]
fn resolve_sequence_numbers_table() {
    type Case = (
        &'static str,
        &'static [u32],
        Result<Vec<usize>, SequenceError>,
    );
    let cases: Vec<Case> = vec![
        ("1", &VIEW, Ok(vec![0])),
        ("*", &VIEW, Ok(vec![5])),
        ("1:*", &VIEW, Ok(vec![0, 1, 2, 3, 4, 5])),
        ("*:1", &VIEW, Ok(vec![0, 1, 2, 3, 4, 5])),
        ("4:2", &VIEW, Ok(vec![1, 2, 3])),
        ("2,4:5,2", &VIEW, Ok(vec![1, 3, 4])),
        ("5:6,1:2,2:3", &VIEW, Ok(vec![0, 1, 2, 4, 5])),
        ("6:*", &VIEW, Ok(vec![5])),
        ("7", &VIEW, Err(SequenceError::OutOfRange(7, 6))),
        ("1:7", &VIEW, Err(SequenceError::OutOfRange(7, 6))),
        ("9:*", &VIEW, Err(SequenceError::OutOfRange(9, 6))),
        ("1,100", &VIEW, Err(SequenceError::OutOfRange(100, 6))),
        ("*", &[], Err(SequenceError::OutOfRange(0, 0))),
        ("1", &[], Err(SequenceError::OutOfRange(1, 0))),
    ];
    for (text, uids, want) in cases {
        assert_eq!(
            resolve(&set(text), uids, false),
            want,
            "{text} over {uids:?}"
        );
    }
}

#[test]
fn resolve_uids_table() {
    type Case = (&'static str, &'static [u32], Vec<usize>);
    let cases: Vec<Case> = vec![
        ("3", &VIEW, vec![0]),
        ("5", &VIEW, vec![]),
        ("*", &VIEW, vec![5]),
        ("1:*", &VIEW, vec![0, 1, 2, 3, 4, 5]),
        ("5:10", &VIEW, vec![2, 3]),
        ("10:5", &VIEW, vec![2, 3]),
        ("12:19", &VIEW, vec![]),
        ("21:*", &VIEW, vec![5]),
        ("1000:*", &VIEW, vec![5]),
        ("20,3,4,3", &VIEW, vec![0, 1, 5]),
        ("1:4,4:10", &VIEW, vec![0, 1, 2, 3]),
        ("1:*", &[], vec![]),
        ("*", &[], vec![]),
    ];
    for (text, uids, want) in cases {
        assert_eq!(
            resolve(&set(text), uids, true),
            Ok(want),
            "UID {text} over {uids:?}"
        );
    }
}

#[test]
fn contains_table() {
    // (set, value, largest, expected)
    let cases = [
        ("1:3,7", 2, 10, true),
        ("1:3,7", 7, 10, true),
        ("1:3,7", 5, 10, false),
        ("*", 10, 10, true),
        ("*", 9, 10, false),
        ("12:*", 10, 10, true),
        ("5:*", 4, 10, false),
        ("3:1", 2, 10, true),
        ("11", 11, 10, true),
    ];
    for (text, value, largest, want) in cases {
        assert_eq!(
            contains(&set(text), value, largest),
            want,
            "{value} in {text} (* = {largest})"
        );
    }
}

#[test]
fn compress_table() {
    let encode = |values: &[u32]| compress(values).map(|s| sequence_text(&s));
    let cases: Vec<(&[u32], Option<&str>)> = vec![
        (&[], None),
        (&[0], None),
        (&[5], Some("5")),
        (&[1, 2, 3, 7], Some("1:3,7")),
        (&[1, 3, 5], Some("1,3,5")),
        (&[1, 2, 2, 3], Some("1:3")),
        (&[4, 5, 9, 10, 11, 20], Some("4:5,9:11,20")),
        (&[4294967294, 4294967295], Some("4294967294:4294967295")),
        (&[7, 1, 2], Some("7,1:2")),
    ];
    for (values, want) in cases {
        assert_eq!(encode(values).as_deref(), want, "{values:?}");
    }
}

/// The set in IMAP syntax (`1:3,7`).
fn sequence_text(set: &SequenceSet) -> String {
    use imap_codec::imap_types::sequence::{SeqOrUid, Sequence};
    let value = |v: &SeqOrUid| match v {
        SeqOrUid::Value(n) => n.to_string(),
        SeqOrUid::Asterisk => "*".to_owned(),
    };
    set.0
        .as_ref()
        .iter()
        .map(|sequence| match sequence {
            Sequence::Single(v) => value(v),
            Sequence::Range(a, b) => format!("{}:{}", value(a), value(b)),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn compress_then_resolve_round_trips() {
    let uids: Vec<u32> = (1..=500).filter(|n| n % 7 != 0 && n % 11 != 3).collect();
    let chosen: Vec<u32> = uids.iter().copied().filter(|n| n % 3 != 0).collect();
    let set = compress(&chosen).unwrap();
    let indices = resolve(&set, &uids, true).unwrap();
    let back: Vec<u32> = indices.iter().map(|&i| uids[i]).collect();
    assert_eq!(back, chosen);
}

/// 10,000 messages, `1:*`: the result is complete; the time is printed, never asserted.
#[test]
fn resolve_large_view() {
    let uids: Vec<u32> = (1..=10_000).map(|n| n * 2).collect();
    let started = Instant::now();
    let by_number = resolve(&set("1:*"), &uids, false).unwrap();
    let by_uid = resolve(&set("1:*"), &uids, true).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(by_number.len(), 10_000);
    assert_eq!(by_uid, by_number);
    assert!(by_number.iter().enumerate().all(|(i, &index)| i == index));
    eprintln!("resolve 1:* twice over 10,000 messages: {elapsed:?}");
}
