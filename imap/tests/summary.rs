//! The summary cache: a hit after insert, the bound, and concurrent use.

mod common;

use std::sync::Arc;
use std::thread;

use common::*;
use mssd_imap::mime::{body_structure, envelope};
use mssd_imap::summary::{Summary, SummaryCache};

#[test]
fn summary_holds_the_three_views() {
    let message = xdm_message();
    let summary = Summary::of(message.as_bytes());
    assert_eq!(*summary.envelope(), envelope(message.as_bytes()));
    let structures = summary.structures().expect("Summary::of computes them");
    assert_eq!(
        structures.body_structure,
        body_structure(message.as_bytes(), true)
    );
    assert_eq!(structures.body, body_structure(message.as_bytes(), false));
    assert_ne!(
        structures.body, structures.body_structure,
        "BODY has no extension data"
    );
    // The cache computes them only when a FETCH asks.
    let lazy = Summary::headers_of(message.as_bytes());
    assert!(lazy.structures().is_none());
    assert_eq!(lazy.envelope(), summary.envelope());
    assert_eq!(lazy.structures_of(message.as_bytes()), structures);
}

#[test]
fn the_stored_form_gives_back_the_same_listing_views() {
    let message = xdm_message();
    let computed = Summary::headers_of(message.as_bytes());
    let header = &message.as_bytes()[..computed.header.len()];
    let stored = Summary::stored_form(header);
    let read = Summary::from_stored(&stored).expect("our own stored form");
    assert_eq!(read.envelope_wire, computed.envelope_wire);
    assert_eq!(read.header, computed.header);
    assert_eq!(
        read.envelope(),
        computed.envelope(),
        "parsed on demand from the header"
    );
    assert_eq!(
        read.structures_of(message.as_bytes()),
        computed.structures_of(message.as_bytes())
    );

    // Forms this code does not know are refused (the message is then read and parsed).
    let cases: [&[u8]; 5] = [
        b"",
        b"\x02\x01\0\0\0x",
        b"\x01\x01\0",
        b"\x01\x09\0\0\0short",
        b"\x01\0\0\0\0Subject: x\r\n\r\n",
    ];
    for case in cases {
        assert!(Summary::from_stored(case).is_none(), "{case:?}");
    }
}

#[test]
fn hit_after_insert() {
    let cache = SummaryCache::new(8);
    assert!(cache.is_empty());
    assert!(cache.get("aa").is_none());
    let inserted = cache.insert("aa", PLAIN.as_bytes());
    let hit = cache.get("aa").expect("cached");
    assert!(Arc::ptr_eq(&inserted, &hit));
    assert_eq!(*hit, Summary::headers_of(PLAIN.as_bytes()));
    // A second insert of the same key keeps the first summary.
    let again = cache.insert("aa", INTERNATIONAL.as_bytes());
    assert!(Arc::ptr_eq(&inserted, &again));
    assert_eq!(cache.len(), 1);
    let other = cache.get_or_insert("bb", INTERNATIONAL.as_bytes());
    assert_eq!(*other, Summary::headers_of(INTERNATIONAL.as_bytes()));
    assert_eq!(cache.len(), 2);
}

#[test]
fn never_exceeds_its_bound() {
    // (max_entries, insertions)
    let cases = [(0usize, 10usize), (1, 10), (2, 10), (5, 100), (64, 1000)];
    for (max, insertions) in cases {
        let cache = SummaryCache::new(max);
        for n in 0..insertions {
            let key = format!("{n:064x}");
            cache.insert(&key, PLAIN.as_bytes());
            assert!(
                cache.len() <= max,
                "max {max}: {} entries after {n}",
                cache.len()
            );
            if max > 0 {
                assert!(
                    cache.get(&key).is_some(),
                    "max {max}: the newest entry {n} is kept"
                );
            }
        }
        assert_eq!(cache.is_empty(), max == 0, "max {max}");
    }
}

#[test]
fn concurrent_use() {
    let cache = Arc::new(SummaryCache::new(50));
    let messages = [
        PLAIN.to_owned(),
        INTERNATIONAL.to_owned(),
        xdm_message(),
        nested_message(),
    ];
    let expected: Vec<Summary> = messages
        .iter()
        .map(|m| Summary::headers_of(m.as_bytes()))
        .collect();
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let cache = cache.clone();
            let messages = messages.clone();
            let expected = expected.clone();
            thread::spawn(move || {
                for round in 0..200 {
                    let which = (worker + round) % messages.len();
                    let key = format!("{}-{}", which, round % 30);
                    let summary = cache.get_or_insert(&key, messages[which].as_bytes());
                    assert_eq!(*summary, expected[which], "worker {worker} round {round}");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert!(cache.len() <= 50);
    assert!(!cache.is_empty());
}
