//! SORT's pieces as tables: the base subject of RFC 5256 §2.1, the keys read from a header
//! block (sent date and its fallback, first addresses, display names), and the order with
//! REVERSE and ties.

use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use mssd_imap::sort::{SortKeys, base_subject, sorted};
use mssd_store::MessageMeta;

#[test]
fn base_subjects() {
    let cases = [
        ("hello", "hello"),
        ("Re: hello", "hello"),
        ("RE: Re: re:hello", "hello"),
        ("Fwd: hello", "hello"),
        ("FW: hello", "hello"),
        ("fw : hello", "hello"),
        ("Re[2]: hello", "hello"),
        ("[mssante] Re: hello", "hello"),
        ("Re: [mssante] hello", "hello"),
        ("[a][b] Re: [c] Fwd: hello", "hello"),
        ("hello (fwd)", "hello"),
        ("hello (FWD) (fwd)  ", "hello"),
        ("[Fwd: Re: hello]", "hello"),
        ("[fwd: [fwd: hello]]", "hello"),
        ("Re: [fwd: hello] (fwd)", "hello"),
        // A blob alone is the subject; one before text is not.
        ("[mssante]", "[mssante]"),
        ("[mssante]   ", "[mssante]"),
        ("  hello\t\tworld  ", "hello world"),
        ("Réponse: compte rendu", "Réponse: compte rendu"),
        (
            "Re: compte rendu d'hospitalisation",
            "compte rendu d'hospitalisation",
        ),
        ("Rea: not a reply", "Rea: not a reply"),
        ("Re hello", "Re hello"),
        ("", ""),
        ("Re:", ""),
        ("[unclosed Re: hello", "[unclosed Re: hello"),
    ];
    for (subject, expected) in cases {
        assert_eq!(base_subject(subject), expected, "{subject:?}");
    }
}

/// Every key, so that `SortKeys::of` computes them all.
fn every_key() -> Vec<SortCriterion> {
    use SortKey::*;
    [
        Arrival,
        Cc,
        Date,
        From,
        Size,
        Subject,
        To,
        DisplayFrom,
        DisplayTo,
    ]
    .into_iter()
    .map(|key| SortCriterion {
        reverse: false,
        key,
    })
    .collect()
}

fn meta(uid: u32, size: u64, internal_date: i64) -> MessageMeta {
    MessageMeta {
        uid,
        modseq: 1,
        flags: Vec::new(),
        size,
        internal_date,
        sha256: String::new(),
    }
}

#[test]
fn keys_from_a_header_block() {
    let header = b"From: \"Dr Martin\" <Jean.Martin@hopital-a.test.mssante.fr>\r\n\
To: undisclosed:;, secretariat@hopital-a.test.mssante.fr\r\n\
Cc: =?utf-8?q?Z=C3=A9lie?= <zelie@b.test>, a@b.test\r\n\
Subject: =?utf-8?q?Re=3A_R=C3=A9sultats?=\r\n\
Date: Tue, 01 Dec 2026 10:00:00 +0100\r\n\r\n";
    let keys = SortKeys::of(header, &meta(7, 1234, 99), &every_key());
    assert_eq!(keys.arrival, 99);
    assert_eq!(keys.sent, 1_796_115_600, "10:00 +0100 is 09:00 UTC");
    assert_eq!(keys.size, 1234);
    assert_eq!(
        keys.subject,
        "RéSULTATS".as_bytes(),
        "base subject, ASCII folded"
    );
    assert_eq!(keys.from, b"JEAN.MARTIN");
    assert_eq!(keys.display_from, b"DR MARTIN");
    assert_eq!(keys.to, b"SECRETARIAT", "an empty group is skipped");
    assert_eq!(keys.display_to, b"SECRETARIAT@HOPITAL-A.TEST.MSSANTE.FR");
    assert_eq!(keys.cc, b"ZELIE");

    // Only what the criteria compare is computed.
    let by_date = [SortCriterion {
        reverse: true,
        key: SortKey::Date,
    }];
    let keys = SortKeys::of(header, &meta(7, 1234, 99), &by_date);
    assert_eq!(keys.sent, 1_796_115_600);
    assert!(keys.subject.is_empty() && keys.from.is_empty() && keys.display_to.is_empty());

    // No Date:, or one that cannot be read: the internal date stands for it.
    for header in [&b"Subject: x\r\n\r\n"[..], b"Date: yesterday\r\n\r\n", b""] {
        let keys = SortKeys::of(header, &meta(1, 1, 1_700_000_000), &every_key());
        assert_eq!(
            keys.sent,
            1_700_000_000,
            "{}",
            String::from_utf8_lossy(header)
        );
        assert!(keys.from.is_empty());
    }
}

#[test]
fn order_with_reverse_and_ties() {
    let keys = |subject: &str, sent: i64, size: u64| SortKeys {
        subject: subject.as_bytes().to_ascii_uppercase(),
        sent,
        size,
        ..SortKeys::default()
    };
    let messages = vec![
        (0, keys("b", 30, 10)),
        (1, keys("a", 20, 10)),
        (2, keys("b", 10, 20)),
        (3, keys("a", 20, 5)),
    ];
    let by = |criteria: &[(SortKey, bool)]| {
        let criteria: Vec<SortCriterion> = criteria
            .iter()
            .map(|(key, reverse)| SortCriterion {
                key: key.clone(),
                reverse: *reverse,
            })
            .collect();
        sorted(messages.clone(), &criteria)
    };
    assert_eq!(by(&[(SortKey::Date, false)]), [2, 1, 3, 0]);
    assert_eq!(
        by(&[(SortKey::Date, true)]),
        [0, 1, 3, 2],
        "ties keep sequence order"
    );
    assert_eq!(by(&[(SortKey::Subject, false)]), [1, 3, 0, 2]);
    assert_eq!(
        by(&[(SortKey::Subject, false), (SortKey::Size, false)]),
        [3, 1, 0, 2]
    );
    assert_eq!(
        by(&[(SortKey::Subject, true), (SortKey::Date, false)]),
        [2, 0, 1, 3]
    );
    assert_eq!(
        by(&[(SortKey::Size, true), (SortKey::Arrival, false)]),
        [2, 0, 1, 3]
    );
}
