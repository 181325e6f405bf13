//! The input gate before imap-next: what passes, what is refused, per phase, as a table; and
//! that input split at any byte gives the same result (the gate is resumable).

use mssd_imap::input_limits::{
    InputGate, LiteralBudget, PRE_AUTH_MAX_LINE, Step, literal_announcement,
};

const APPEND_MAX: u64 = 50 << 20;

fn run(authenticated: bool, input: &[u8], budget: &LiteralBudget) -> Vec<Step> {
    let mut gate = InputGate::new(64 * 1024, APPEND_MAX);
    if authenticated {
        gate.authenticated();
    }
    merge(gate.push(input, budget))
}

/// Adjacent Forward steps as one, so results do not depend on how input was split.
fn merge(steps: Vec<Step>) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for step in steps {
        match (out.last_mut(), step) {
            (Some(Step::Forward(a)), Step::Forward(b)) => a.extend_from_slice(&b),
            (Some(Step::Spool(a)), Step::Spool(b)) => a.extend_from_slice(&b),
            (_, step) => out.push(step),
        }
    }
    out
}

fn fwd(bytes: &[u8]) -> Step {
    Step::Forward(bytes.to_vec())
}

#[test]
fn gate_table() {
    let long_line = [vec![b'x'; PRE_AUTH_MAX_LINE + 1], b"\r\n".to_vec()].concat();
    let message = vec![b'm'; 200_000];
    let spooled = |line: &[u8], tail: &[u8]| [line, &message[..], tail].concat();
    let cases: Vec<(&str, bool, Vec<u8>, Vec<Step>)> = vec![
        (
            "plain command",
            false,
            b"a1 CAPABILITY\r\n".to_vec(),
            vec![fwd(b"a1 CAPABILITY\r\n")],
        ),
        (
            "small LOGIN literal before login",
            false,
            b"a LOGIN {3}\r\nbob pw\r\n".to_vec(),
            vec![fwd(b"a LOGIN {3}\r\nbob pw\r\n")],
        ),
        (
            "40 MB LOGIN literal before login: BAD, line dropped, next command passes",
            false,
            b"a LOGIN {40000000}\r\nb NOOP\r\n".to_vec(),
            vec![
                Step::RefuseLiteral {
                    tag: Some("a".into()),
                    size: 40_000_000,
                    limit: 4096,
                    budget: false,
                },
                fwd(b"b NOOP\r\n"),
            ],
        ),
        (
            "40 MB non-synchronizing literal before login: close",
            false,
            b"a LOGIN {40000000+}\r\nxxxx".to_vec(),
            vec![Step::Close {
                reason: "non-synchronizing literal too large",
            }],
        ),
        (
            "line over the pre-login limit: close",
            false,
            long_line.clone(),
            vec![Step::Close {
                reason: "command line too long",
            }],
        ),
        (
            "the same line after login passes",
            true,
            long_line.clone(),
            vec![fwd(&long_line)],
        ),
        (
            "10 MB APPEND after login: announced to imap-next as the spool token",
            true,
            b"a APPEND INBOX {10000000}\r\n".to_vec(),
            vec![
                fwd(b"a APPEND INBOX {48}\r\n"),
                Step::SpoolStart { size: 10_000_000 },
            ],
        ),
        (
            "a 200 KB LITERAL+ APPEND is spooled, the next command passes",
            true,
            spooled(b"a APPEND INBOX (\\Seen) {200000+}\r\n", b"\r\nb NOOP\r\n"),
            vec![
                fwd(b"a APPEND INBOX (\\Seen) {48+}\r\n"),
                Step::SpoolStart { size: 200_000 },
                Step::Spool(message.clone()),
                Step::SpoolEnd,
                fwd(b"\r\nb NOOP\r\n"),
            ],
        ),
        (
            "a 200 KB binary literal after a literal folder name",
            true,
            spooled(b"a APPEND {5}\r\nINBOX ~{200000}\r\n", b"\r\n"),
            vec![
                fwd(b"a APPEND {5}\r\nINBOX ~{48}\r\n"),
                Step::SpoolStart { size: 200_000 },
                Step::Spool(message.clone()),
                Step::SpoolEnd,
                fwd(b"\r\n"),
            ],
        ),
        (
            "a 200 KB literal outside APPEND is not spooled (refused)",
            true,
            b"a SEARCH TEXT {200000}\r\n".to_vec(),
            vec![Step::RefuseLiteral {
                tag: Some("a".into()),
                size: 200_000,
                limit: 64 * 1024,
                budget: false,
            }],
        ),
        (
            "APPEND over max_literal_size",
            true,
            b"a APPEND INBOX {60000000}\r\n".to_vec(),
            vec![Step::RefuseLiteral {
                tag: Some("a".into()),
                size: 60_000_000,
                limit: APPEND_MAX,
                budget: false,
            }],
        ),
        (
            "1 MB literal in SEARCH after login",
            true,
            b"a SEARCH TEXT {1000000}\r\n".to_vec(),
            vec![Step::RefuseLiteral {
                tag: Some("a".into()),
                size: 1_000_000,
                limit: 64 * 1024,
                budget: false,
            }],
        ),
        (
            "APPEND with a literal folder name, then the message literal",
            true,
            b"a APPEND {5}\r\nINBOX {100000}\r\n".to_vec(),
            vec![fwd(b"a APPEND {5}\r\nINBOX {100000}\r\n")],
        ),
        (
            "an ACL command after login is handed over whole, the next passes",
            true,
            b"a MYRIGHTS INBOX\r\nb getacl \"x y\"\r\nc NOOP\r\n".to_vec(),
            vec![
                Step::Extension(b"a MYRIGHTS INBOX\r\n".to_vec()),
                Step::Extension(b"b getacl \"x y\"\r\n".to_vec()),
                fwd(b"c NOOP\r\n"),
            ],
        ),
        (
            "ESEARCH options are taken off a SEARCH line, the rest passes",
            true,
            b"a UID SEARCH RETURN (COUNT) SUBJECT {3}\r\nabc\r\n".to_vec(),
            vec![
                Step::SearchReturn {
                    tag: "a".into(),
                    options: vec![mssd_imap::search_return::ReturnOption::Count],
                },
                fwd(b"a UID SEARCH SUBJECT {3}\r\nabc\r\n"),
            ],
        ),
        (
            "an extended LIST is handed over whole, a basic one passes",
            true,
            b"a LIST (SUBSCRIBED) \"\" *\r\nb LIST \"\" * RETURN (STATUS (MESSAGES))\r\nc LIST \"\" *\r\n"
                .to_vec(),
            vec![
                Step::Extension(b"a LIST (SUBSCRIBED) \"\" *\r\n".to_vec()),
                Step::Extension(b"b LIST \"\" * RETURN (STATUS (MESSAGES))\r\n".to_vec()),
                fwd(b"c LIST \"\" *\r\n"),
            ],
        ),
        (
            "MULTIAPPEND: each further message becomes an APPEND of the same tag",
            true,
            b"m APPEND Drafts (\\Seen) {2}\r\nm1 (\\Draft) {2+}\r\nm2 {2}\r\nm3\r\nn NOOP\r\n"
                .to_vec(),
            vec![
                fwd(b"m APPEND Drafts (\\Seen) {2}\r\nm1\r\n"),
                Step::AppendMore { tag: "m".into() },
                fwd(b"m APPEND x-mssd-continued (\\Draft) {2+}\r\nm2\r\n"),
                Step::AppendMore { tag: "m".into() },
                fwd(b"m APPEND x-mssd-continued {2}\r\nm3\r\nn NOOP\r\n"),
            ],
        ),
        (
            "MULTIAPPEND: a further message too large is refused with the command's tag",
            true,
            b"m APPEND Drafts {2}\r\nm1 {99999999999}\r\nn NOOP\r\n".to_vec(),
            vec![
                fwd(b"m APPEND Drafts {2}\r\nm1\r\n"),
                Step::AppendMore { tag: "m".into() },
                Step::RefuseLiteral {
                    tag: Some("m".into()),
                    size: 99_999_999_999,
                    limit: APPEND_MAX,
                    budget: false,
                },
                fwd(b"n NOOP\r\n"),
            ],
        ),
        (
            "an ACL command before login goes to the parser (which refuses it)",
            false,
            b"a MYRIGHTS INBOX\r\n".to_vec(),
            vec![fwd(b"a MYRIGHTS INBOX\r\n")],
        ),
        (
            "bytes inside a literal are not lines",
            false,
            b"a LOGIN {12}\r\n{99999999}\r\n pw\r\n".to_vec(),
            vec![fwd(b"a LOGIN {12}\r\n{99999999}\r\n pw\r\n")],
        ),
    ];
    for (name, authenticated, input, expected) in cases {
        let budget = LiteralBudget::new(1 << 30);
        assert_eq!(run(authenticated, &input, &budget), expected, "{name}");
        // Byte by byte: the same steps.
        let mut gate = InputGate::new(64 * 1024, APPEND_MAX);
        if authenticated {
            gate.authenticated();
        }
        let budget = LiteralBudget::new(1 << 30);
        let mut steps = Vec::new();
        for byte in &input {
            steps.extend(gate.push(std::slice::from_ref(byte), &budget));
        }
        assert_eq!(merge(steps), expected, "{name}, byte by byte");
    }
}

#[test]
fn large_literals_share_a_server_budget() {
    let budget = LiteralBudget::new(30 << 20);
    let mut first = InputGate::new(64 * 1024, APPEND_MAX);
    first.authenticated();
    let mut second = InputGate::new(64 * 1024, APPEND_MAX);
    second.authenticated();
    let spool_start = |line: &[u8]| vec![fwd(line), Step::SpoolStart { size: 20_000_000 }];
    let steps = first.push(b"a APPEND INBOX {20000000}\r\n", &budget);
    assert_eq!(steps, spool_start(b"a APPEND INBOX {48}\r\n"));
    assert_eq!(budget.in_use(), 20_000_000);
    let steps = second.push(b"b APPEND INBOX {20000000}\r\n", &budget);
    assert_eq!(
        steps,
        vec![Step::RefuseLiteral {
            tag: Some("b".into()),
            size: 20_000_000,
            limit: APPEND_MAX,
            budget: true
        }]
    );
    budget.release(first.take_reserved());
    assert_eq!(budget.in_use(), 0);
    let steps = second.push(b"c APPEND INBOX {20000000}\r\n", &budget);
    assert_eq!(steps, spool_start(b"c APPEND INBOX {48}\r\n"));
}

#[test]
fn literal_announcements() {
    type Announcement = Option<(u64, bool)>;
    let cases: [(&[u8], Announcement); 8] = [
        (b"a LOGIN {3}\r\n", Some((3, true))),
        (b"a LOGIN {3+}\r\n", Some((3, false))),
        (b"a APPEND INBOX ~{42}\r\n", Some((42, true))),
        (b"a LOGIN {3}\n", Some((3, true))),
        (b"a LOGIN {}\r\n", None),
        (b"a LOGIN {x}\r\n", None),
        (b"a LOGIN {3} \r\n", None),
        (b"a NOOP\r\n", None),
    ];
    for (line, expected) in cases {
        assert_eq!(
            literal_announcement(line),
            expected,
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}
