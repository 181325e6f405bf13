//! THREAD's algorithms as tables (RFC 5256 §2.2): REFERENCES with missing parents, loops,
//! duplicate Message-IDs, subject grouping and date order; ORDEREDSUBJECT; and very long or
//! deep threads encoded without recursion.

use mssd_imap::sort::{Forest, ThreadMessage, ordered_subject, references};

/// Message `n` (sequence number n, sent at day n unless `sent` says otherwise).
fn msg(n: usize, id: &str, refs: &[&str], subject: &str) -> ThreadMessage {
    let (subject, reply) = mssd_imap::sort::base_subject_of_reply(subject);
    ThreadMessage {
        index: n - 1,
        message_id: (!id.is_empty()).then(|| id.to_owned()),
        references: refs.iter().map(|r| r.to_string()).collect(),
        sent: n as i64 * 86_400,
        subject: subject.to_ascii_uppercase().into_bytes(),
        reply,
    }
}

fn encoded(forest: &Forest, messages: &[ThreadMessage]) -> String {
    String::from_utf8(forest.encode(messages, |index| index as u32 + 1)).unwrap()
}

#[test]
fn references_table() {
    let cases: Vec<(&str, Vec<ThreadMessage>, &str)> = vec![
        (
            "a chain of replies is flat",
            vec![
                msg(1, "a", &[], "s1"),
                msg(2, "b", &["a"], "s2"),
                msg(3, "c", &["a", "b"], "s3"),
            ],
            "(1 2 3)",
        ),
        (
            "two replies to one message branch",
            vec![
                msg(1, "a", &[], "s1"),
                msg(2, "b", &["a"], "s2"),
                msg(3, "c", &["a"], "s3"),
            ],
            "(1 (2)(3))",
        ),
        (
            "In-Reply-To style: only the parent referenced",
            vec![
                msg(1, "a", &[], "s1"),
                msg(3, "c", &["b"], "s3"),
                msg(2, "b", &["a"], "s2"),
            ],
            "(1 2 3)",
        ),
        (
            "a missing parent of two: a dummy root holds them",
            vec![msg(1, "b", &["x"], "s1"), msg(2, "c", &["x"], "s2")],
            "((1)(2))",
        ),
        (
            "a missing parent of one: the message is the root",
            vec![msg(1, "b", &["x"], "s1"), msg(2, "z", &[], "s2")],
            "(1)(2)",
        ),
        (
            "a missing message in the middle is skipped",
            vec![msg(1, "a", &[], "s1"), msg(2, "c", &["a", "gone"], "s2")],
            "(1 2)",
        ),
        (
            "a loop between two messages is broken",
            vec![msg(1, "a", &["b"], "s1"), msg(2, "b", &["a"], "s2")],
            "(2 1)",
        ),
        (
            "a message referencing itself",
            vec![msg(1, "a", &["a"], "s1")],
            "(1)",
        ),
        (
            "a duplicate Message-ID is a message of its own",
            vec![
                msg(1, "a", &[], "s1"),
                msg(2, "a", &[], "s2"),
                msg(3, "c", &["a"], "s3"),
            ],
            "(1 3)(2)",
        ),
        (
            "without Message-ID",
            vec![msg(1, "", &[], "s1"), msg(2, "", &[], "s2")],
            "(1)(2)",
        ),
        (
            "a reply without references joins its original by subject",
            vec![msg(1, "a", &[], "hello"), msg(2, "b", &[], "Re: hello")],
            "(1 2)",
        ),
        (
            "two originals with one subject: under a dummy",
            vec![msg(1, "a", &[], "hello"), msg(2, "b", &[], "hello")],
            "((1)(2))",
        ),
        (
            "a thread and a lone message with its subject",
            vec![
                msg(1, "a", &[], "hello"),
                msg(2, "b", &["a"], "Re: hello"),
                msg(3, "c", &[], "Fwd: hello"),
            ],
            "(1 (2)(3))",
        ),
        (
            "roots and siblings by sent date, not arrival",
            vec![
                ThreadMessage {
                    sent: 50 * 86_400,
                    ..msg(1, "a", &[], "s1")
                },
                msg(2, "b", &[], "s2"),
                ThreadMessage {
                    sent: 9 * 86_400,
                    ..msg(3, "c", &["b"], "s3")
                },
                msg(4, "d", &["b"], "s4"),
            ],
            "(2 (4)(3))(1)",
        ),
        (
            "equal dates: sequence order",
            vec![
                ThreadMessage {
                    sent: 0,
                    ..msg(1, "a", &[], "s1")
                },
                ThreadMessage {
                    sent: 0,
                    ..msg(2, "b", &[], "s2")
                },
            ],
            "(1)(2)",
        ),
    ];
    for (name, messages, expected) in cases {
        assert_eq!(
            encoded(&references(&messages), &messages),
            expected,
            "{name}"
        );
    }
}

#[test]
fn ordered_subject_table() {
    let messages = vec![
        msg(1, "", &[], "a"),
        msg(2, "", &[], "b"),
        msg(3, "", &[], "Re: a"),
        msg(4, "", &[], "c"),
        msg(5, "", &[], "A"),
        msg(6, "", &[], "re: b"),
    ];
    assert_eq!(
        encoded(&ordered_subject(&messages), &messages),
        "(1 (3)(5))(2 6)(4)"
    );
}

#[test]
fn long_and_deep_threads_are_encoded_without_recursion() {
    // 20,000 replies in a chain: one flat thread.
    let ids: Vec<String> = (0..20_000).map(|i| format!("m{i}")).collect();
    let chain: Vec<ThreadMessage> = (0..20_000)
        .map(|i| {
            let refs: Vec<&str> = if i == 0 {
                vec![]
            } else {
                vec![ids[i - 1].as_str()]
            };
            msg(i + 1, &ids[i], &refs, &format!("s{i}"))
        })
        .collect();
    let out = encoded(&references(&chain), &chain);
    assert!(out.starts_with("(1 2 3 ") && out.ends_with(" 20000)"));
    // A comb: each message answered twice, once by a leaf and once by the next tooth, so each
    // level nests one deeper.
    let mut comb = Vec::new();
    for i in 0..10_000 {
        let parent = if i == 0 {
            vec![]
        } else {
            vec![ids[2 * (i - 1)].as_str()]
        };
        comb.push(msg(comb.len() + 1, &ids[2 * i], &parent, &format!("t{i}")));
        comb.push(msg(
            comb.len() + 1,
            &format!("leaf{i}"),
            &[ids[2 * i].as_str()],
            &format!("l{i}"),
        ));
    }
    let comb = &comb[..comb.len() - 1];
    let out = encoded(&references(comb), comb);
    assert!(out.starts_with("(1 (2)(3 (4)(5 "), "{}", &out[..40]);
    assert_eq!(out.matches('(').count(), out.matches(')').count());
}
