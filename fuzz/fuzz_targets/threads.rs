//! THREAD and SORT over arbitrary header blocks: the input, split at NUL bytes, is a mailbox
//! of messages (short Message-IDs so that references collide often). Whatever the links —
//! loops, duplicates, self-references — each algorithm must place every message exactly once
//! in balanced parentheses, and SORT must return a permutation.
#![no_main]

use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use libfuzzer_sys::fuzz_target;
use mssd_imap::sort::{SortKeys, ThreadMessage, base_subject, ordered_subject, references, sorted};
use mssd_store::MessageMeta;

fuzz_target!(|data: &[u8]| {
    let headers: Vec<&[u8]> = data.split(|&b| b == 0).take(200).collect();
    let meta = |i: usize| MessageMeta {
        uid: i as u32 + 1,
        modseq: 1,
        flags: Vec::new(),
        size: headers[i].len() as u64,
        internal_date: (i as i64 * 7919) % 1000,
        sha256: String::new(),
    };
    let messages: Vec<ThreadMessage> = headers
        .iter()
        .enumerate()
        .map(|(i, header)| ThreadMessage::of(i, header, &meta(i)))
        .collect();
    for forest in [references(&messages), ordered_subject(&messages)] {
        let out = forest.encode(&messages, |index| index as u32 + 1);
        let mut depth = 0i64;
        let mut seen = vec![0u32; messages.len()];
        for token in out.split(|&b| b == b'(' || b == b')' || b == b' ') {
            if let Ok(n) = std::str::from_utf8(token).unwrap_or("").parse::<usize>() {
                seen[n - 1] += 1;
            }
        }
        for &b in &out {
            depth += match b {
                b'(' => 1,
                b')' => -1,
                _ => 0,
            };
            assert!(depth >= 0, "unbalanced");
        }
        assert_eq!(depth, 0, "unbalanced");
        assert!(seen.iter().all(|&n| n == 1), "a message missing or twice: {seen:?}");
    }
    let criteria = [
        SortCriterion { reverse: false, key: SortKey::Subject },
        SortCriterion { reverse: true, key: SortKey::Date },
        SortCriterion { reverse: false, key: SortKey::DisplayFrom },
    ];
    let keyed = headers
        .iter()
        .enumerate()
        .map(|(i, header)| (i, SortKeys::of(header, &meta(i), &criteria)))
        .collect();
    let mut order = sorted(keyed, &criteria);
    order.sort_unstable();
    assert!(order.iter().copied().eq(0..headers.len()), "not a permutation");
    let _ = base_subject(&String::from_utf8_lossy(data));
});
