//! FETCH plans from parsed commands, and the data items of hand-written messages as sent on the wire.

mod common;

use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::{NString, NString8};
use imap_codec::imap_types::fetch::{
    MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Part, Section,
};
use imap_codec::imap_types::flag::{Flag, FlagFetch};
use mssd_imap::fetch::{FetchError, FetchPlan, flags_to_imap, items, plan};
use mssd_imap::summary::Summary;
use mssd_store::MessageMeta;

/// 2026-11-23T09:00:05Z.
const INTERNAL_DATE: i64 = 1_795_424_405;

/// The item names and UID flag of a FETCH or UID FETCH command, parsed by imap-codec.
fn parse_fetch(command: &str) -> (MacroOrMessageDataItemNames<'static>, bool) {
    let line = format!("a {command}\r\n");
    let (_, parsed) = CommandCodec::default()
        .decode_static(line.as_bytes())
        .unwrap_or_else(|e| panic!("{command}: {e:?}"));
    match parsed.body {
        CommandBody::Fetch {
            macro_or_item_names,
            uid,
            ..
        } => (macro_or_item_names, uid),
        other => panic!("not a FETCH: {other:?}"),
    }
}

fn plan_of(command: &str, condstore: bool) -> FetchPlan {
    let (names, uid) = parse_fetch(command);
    plan(&names, uid, condstore)
}

fn meta(message: &str) -> MessageMeta {
    MessageMeta {
        uid: 10,
        modseq: 42,
        flags: vec![],
        size: message.len() as u64,
        internal_date: INTERNAL_DATE,
        sha256: String::new(),
    }
}

/// Runs a whole FETCH on one message: plan, summary when needed, items.
fn fetch(
    command: &str,
    message: &str,
    flags: &[&str],
) -> Result<Vec<MessageDataItem<'static>>, FetchError> {
    let plan = plan_of(command, false);
    let summary = plan.needs_summary.then(|| Summary::of(message.as_bytes()));
    let bytes = plan.needs_bytes.then_some(message.as_bytes());
    let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    items(&plan, &meta(message), &flags, summary.as_ref(), bytes).map(|v| v.into_inner())
}

fn fetch_wire(command: &str, message: &str, flags: &[&str]) -> String {
    let items = fetch(command, message, flags).unwrap_or_else(|e| panic!("{command}: {e}"));
    items.into_iter().map(wire).collect::<Vec<_>>().join(" ")
}

#[test]
fn plan_table() {
    use MessageDataItemName as N;
    let body_peek_1 = N::BodyExt {
        section: Some(Section::Part(Part(
            vec![NonZeroU32::MIN].try_into().unwrap(),
        ))),
        partial: None,
        peek: true,
    };
    // (command, condstore, items, needs_bytes, needs_summary, marks_seen)
    type Case = (
        &'static str,
        bool,
        Vec<MessageDataItemName<'static>>,
        bool,
        bool,
        bool,
    );
    let cases: Vec<Case> = vec![
        (
            "FETCH 1 FAST",
            false,
            vec![N::Flags, N::InternalDate, N::Rfc822Size],
            false,
            false,
            false,
        ),
        (
            "FETCH 1 ALL",
            false,
            vec![N::Flags, N::InternalDate, N::Rfc822Size, N::Envelope],
            false,
            true,
            false,
        ),
        (
            "FETCH 1 FULL",
            false,
            vec![
                N::Flags,
                N::InternalDate,
                N::Rfc822Size,
                N::Envelope,
                N::Body,
            ],
            false,
            true,
            false,
        ),
        (
            "UID FETCH 1 FLAGS",
            false,
            vec![N::Uid, N::Flags],
            false,
            false,
            false,
        ),
        (
            "UID FETCH 1 (FLAGS UID)",
            false,
            vec![N::Uid, N::Flags],
            false,
            false,
            false,
        ),
        (
            "FETCH 1 (FLAGS FLAGS)",
            false,
            vec![N::Flags],
            false,
            false,
            false,
        ),
        (
            "FETCH 1 FLAGS",
            true,
            vec![N::Flags, N::ModSeq],
            false,
            false,
            false,
        ),
        (
            "FETCH 1 (MODSEQ FLAGS)",
            true,
            vec![N::ModSeq, N::Flags],
            false,
            false,
            false,
        ),
        (
            "UID FETCH 1 FAST",
            true,
            vec![N::Uid, N::Flags, N::InternalDate, N::Rfc822Size, N::ModSeq],
            false,
            false,
            false,
        ),
        (
            "FETCH 1 BODY.PEEK[1]",
            false,
            vec![body_peek_1],
            true,
            false,
            false,
        ),
        (
            "FETCH 1 BODYSTRUCTURE",
            false,
            vec![N::BodyStructure],
            false,
            true,
            false,
        ),
        (
            "FETCH 1 ENVELOPE",
            false,
            vec![N::Envelope],
            false,
            true,
            false,
        ),
    ];
    for (command, condstore, want_items, bytes, summary, seen) in cases {
        let got = plan_of(command, condstore);
        assert_eq!(got.items, want_items, "{command} items");
        assert_eq!(
            (got.needs_bytes, got.needs_summary, got.marks_seen),
            (bytes, summary, seen),
            "{command} (needs_bytes, needs_summary, marks_seen)"
        );
    }
}

#[test]
fn plan_marks_seen_table() {
    // (command, needs_bytes, marks_seen)
    let cases = [
        ("FETCH 1 BODY[]", true, true),
        ("FETCH 1 BODY.PEEK[]", true, false),
        ("FETCH 1 BODY[HEADER]", true, true),
        (
            "FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]<0.10>",
            true,
            false,
        ),
        ("FETCH 1 RFC822", true, true),
        ("FETCH 1 RFC822.TEXT", true, true),
        ("FETCH 1 RFC822.HEADER", true, false),
        ("FETCH 1 BINARY[1]", true, true),
        ("FETCH 1 BINARY.PEEK[1]", true, false),
        ("FETCH 1 BINARY.SIZE[1]", true, false),
        ("FETCH 1 (FLAGS BODY.PEEK[] BODY[TEXT])", true, true),
        ("FETCH 1 (FLAGS RFC822.SIZE)", false, false),
    ];
    for (command, bytes, seen) in cases {
        let got = plan_of(command, false);
        assert_eq!(
            (got.needs_bytes, got.marks_seen),
            (bytes, seen),
            "{command}"
        );
    }
}

#[test]
fn items_wire_table() {
    let nested = nested_message();
    let plain_header = PLAIN.split_once("\r\n\r\n").unwrap().0.to_owned() + "\r\n\r\n";
    let plain_body = PLAIN.split_once("\r\n\r\n").unwrap().1;
    let cases: Vec<(&str, &str, &[&str], String)> = vec![
        (
            "UID FETCH 1 FLAGS",
            PLAIN,
            &["\\Seen", "$Label1"],
            "UID 10 FLAGS (\\Seen $Label1)".into(),
        ),
        (
            "FETCH 1 FLAGS",
            PLAIN,
            &["\\Recent", "bad flag", "\\Answered"],
            "FLAGS (\\Recent \\Answered)".into(),
        ),
        ("FETCH 1 FLAGS", PLAIN, &[], "FLAGS ()".into()),
        (
            "FETCH 1 INTERNALDATE",
            PLAIN,
            &[],
            "INTERNALDATE \"23-Nov-2026 09:00:05 +0000\"".into(),
        ),
        (
            "FETCH 1 RFC822.SIZE",
            PLAIN,
            &[],
            format!("RFC822.SIZE {}", PLAIN.len()),
        ),
        ("FETCH 1 MODSEQ", PLAIN, &[], "MODSEQ (42)".into()),
        (
            "FETCH 1 BODY[]<0.4>",
            PLAIN,
            &[],
            format!("BODY[]<0> {}", literal("Date")),
        ),
        (
            "FETCH 1 BODY.PEEK[]",
            PLAIN,
            &[],
            format!("BODY[] {}", literal(PLAIN)),
        ),
        (
            "FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]",
            PLAIN,
            &[],
            format!(
                "BODY[HEADER.FIELDS (Subject)] {}",
                literal("Subject: Compte rendu\r\n\r\n")
            ),
        ),
        (
            "FETCH 1 BODY[1.2]",
            &nested,
            &[],
            format!("BODY[1.2] {}", literal(NESTED_HTML)),
        ),
        ("FETCH 1 BODY[3]", &nested, &[], "BODY[3] NIL".into()),
        (
            "FETCH 1 RFC822.HEADER",
            PLAIN,
            &[],
            format!("RFC822.HEADER {}", literal(&plain_header)),
        ),
        (
            "FETCH 1 RFC822.TEXT",
            PLAIN,
            &[],
            format!("RFC822.TEXT {}", literal(plain_body)),
        ),
        (
            "FETCH 1 RFC822",
            PLAIN,
            &[],
            format!("RFC822 {}", literal(PLAIN)),
        ),
        (
            "FETCH 1 ENVELOPE",
            PLAIN,
            &[],
            concat!(
                "ENVELOPE (\"Mon, 23 Nov 2026 10:00:00 +0100\" \"Compte rendu\" ",
                "((\"Dr Jean Dupont\" NIL \"jean.dupont\" \"hopital.mssante.fr\")) ",
                "((\"Dr Jean Dupont\" NIL \"jean.dupont\" \"hopital.mssante.fr\")) ",
                "((\"Dr Jean Dupont\" NIL \"jean.dupont\" \"hopital.mssante.fr\")) ",
                "((NIL NIL \"secretariat\" \"clinique.mssante.fr\")) NIL NIL NIL ",
                "\"<cr-1@hopital.mssante.fr>\")"
            )
            .into(),
        ),
        (
            "FETCH 1 BODY",
            PLAIN,
            &[],
            format!(
                "BODY (\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" {} {})",
                plain_body.len(),
                lines(plain_body)
            ),
        ),
        (
            "FETCH 1 BINARY.SIZE[9]",
            &nested,
            &[],
            "BINARY.SIZE[9] 0".into(),
        ),
        (
            "FETCH 1 BINARY.PEEK[9]",
            &nested,
            &[],
            "BINARY[9] NIL".into(),
        ),
        (
            "FETCH 1 BINARY.PEEK[1.1]<0.5>",
            &nested,
            &[],
            format!("BINARY[1.1] ~{}", literal("Texte")),
        ),
    ];
    for (command, message, flags, want) in cases {
        assert_eq!(fetch_wire(command, message, flags), want, "{command}");
    }
}

/// A text part in quoted-printable ISO-8859-1, and a base64 part (bytes that are not UTF-8).
fn encoded_message(qp_encoding: &str, zip_base64: &str) -> String {
    format!(
        concat!(
            "Subject: encodings\r\n",
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
            "\r\n",
            "--b\r\n",
            "Content-Type: text/plain; charset=iso-8859-1\r\n",
            "Content-Transfer-Encoding: {qp}\r\n",
            "\r\n",
            "H=E9moglobine =\r\nnormale.\r\n",
            "--b\r\n",
            "Content-Type: application/zip\r\n",
            "Content-Transfer-Encoding: Base64\r\n",
            "\r\n",
            "{zip}\r\n",
            "--b--\r\n",
        ),
        qp = qp_encoding,
        zip = zip_base64,
    )
}

fn binary_value(item: &MessageDataItem<'static>) -> Option<Vec<u8>> {
    match item {
        MessageDataItem::Binary {
            value: NString8::Literal8(literal),
            ..
        } => Some(literal.data.to_vec()),
        MessageDataItem::Binary {
            value: NString8::NString(NString(None)),
            ..
        } => None,
        other => panic!("not BINARY: {other:?}"),
    }
}

#[test]
fn binary_table() {
    let zip: Vec<u8> = (0u8..=255).rev().collect();
    let zip_base64 = STANDARD.encode(&zip);
    let zip_folded = zip_base64
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    let message = encoded_message("quoted-printable", &zip_folded);
    let latin1 = b"H\xe9moglobine normale.".to_vec();
    // (command, message, expected: Ok(bytes, None for NIL) or Err(error text))
    type Case = (&'static str, String, Result<Option<Vec<u8>>, String>);
    let cases: Vec<Case> = vec![
        (
            "FETCH 1 BINARY.PEEK[1]",
            message.clone(),
            Ok(Some(latin1.clone())),
        ),
        (
            "FETCH 1 BINARY.PEEK[2]",
            message.clone(),
            Ok(Some(zip.clone())),
        ),
        (
            "FETCH 1 BINARY.PEEK[2]<250.100>",
            message.clone(),
            Ok(Some(zip[250..].to_vec())),
        ),
        (
            "FETCH 1 BINARY.PEEK[2]<1000.10>",
            message.clone(),
            Ok(Some(vec![])),
        ),
        (
            "FETCH 1 BINARY[1]",
            encoded_message("8bit", "AA=="),
            Ok(Some(b"H=E9moglobine =\r\nnormale.".to_vec())),
        ),
        ("FETCH 1 BINARY[3]", message.clone(), Ok(None)),
        (
            "FETCH 1 BINARY[1]",
            encoded_message("x-uuencode", "AA=="),
            Err("cannot decode content-transfer-encoding \"x-uuencode\" for BINARY".into()),
        ),
        (
            "FETCH 1 BINARY[2]",
            encoded_message("7bit", "not*base64!"),
            Err("the part's \"base64\" content is corrupt and cannot be decoded for BINARY".into()),
        ),
    ];
    for (command, message, want) in cases {
        let got = fetch(command, &message, &[])
            .map(|items| binary_value(&items[0]))
            .map_err(|e| e.to_string());
        assert_eq!(got, want, "{command}");
    }
    let sizes = fetch("FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2])", &message, &[]).unwrap();
    let wire_sizes: Vec<String> = sizes.into_iter().map(wire).collect();
    assert_eq!(
        wire_sizes,
        vec![
            format!("BINARY.SIZE[1] {}", latin1.len()),
            format!("BINARY.SIZE[2] {}", zip.len())
        ]
    );
}

#[test]
fn nul_bytes_are_sent_as_0x80() {
    let message = "Subject: nul\r\n\r\na\0b";
    let items = fetch("FETCH 1 BODY.PEEK[TEXT]", message, &[]).unwrap();
    let MessageDataItem::BodyExt { data, .. } = &items[0] else {
        panic!("not BODY[]: {:?}", items[0]);
    };
    assert_eq!(data.clone().into_option().unwrap().as_ref(), b"a\x80b");
}

#[test]
fn missing_inputs_are_errors() {
    let meta = meta(PLAIN);
    let bytes_plan = plan_of("FETCH 1 BODY[]", false);
    let summary_plan = plan_of("FETCH 1 ENVELOPE", false);
    let uid_plan = plan_of("UID FETCH 1 FLAGS", false);
    let modseq_plan = plan_of("FETCH 1 FLAGS", true);
    let zero_uid = MessageMeta {
        uid: 0,
        ..meta.clone()
    };
    let zero_modseq = MessageMeta {
        modseq: 0,
        ..meta.clone()
    };
    let huge = MessageMeta {
        size: u64::from(u32::MAX) + 1,
        ..meta.clone()
    };
    let far_future = MessageMeta {
        internal_date: 300_000_000_000,
        ..meta.clone()
    };
    let size_plan = plan_of("FETCH 1 FAST", false);
    let cases: Vec<(&str, Result<(), FetchError>)> = vec![
        (
            "no bytes",
            items(&bytes_plan, &meta, &[], None, None).map(drop),
        ),
        (
            "no summary",
            items(&summary_plan, &meta, &[], None, None).map(drop),
        ),
        (
            "UID 0",
            items(&uid_plan, &zero_uid, &[], None, None).map(drop),
        ),
        (
            "MODSEQ 0",
            items(&modseq_plan, &zero_modseq, &[], None, None).map(drop),
        ),
        (
            "size over 32 bits",
            items(&size_plan, &huge, &[], None, None).map(drop),
        ),
        (
            "year past 9999",
            items(&size_plan, &far_future, &[], None, None).map(drop),
        ),
    ];
    let want = [
        "the message bytes are needed for this FETCH but were not given",
        "the message summary is needed for ENVELOPE/BODY/BODYSTRUCTURE but was not given",
        "message UID 0 is invalid",
        "message mod-sequence 0 is invalid",
        "message size 4294967296 does not fit RFC822.SIZE (32 bits)",
        "internal date 300000000000 (unix seconds) is outside years 0 to 9999",
    ];
    for ((name, got), want) in cases.into_iter().zip(want) {
        assert_eq!(
            got.map_err(|e| e.to_string()),
            Err(want.to_owned()),
            "{name}"
        );
    }
}

#[test]
fn flags_to_imap_table() {
    let cases: Vec<(&[&str], Vec<FlagFetch<'static>>)> = vec![
        (&[], vec![]),
        (
            &["\\Seen", "\\answered", "\\Flagged", "\\Deleted", "\\Draft"],
            vec![
                Flag::Seen,
                Flag::Answered,
                Flag::Flagged,
                Flag::Deleted,
                Flag::Draft,
            ]
            .into_iter()
            .map(FlagFetch::Flag)
            .collect(),
        ),
        (
            &["$Label1"],
            vec![FlagFetch::Flag(Flag::Keyword(
                "$Label1".try_into().unwrap(),
            ))],
        ),
        // Added by the session for messages recent to it (never stored).
        (&["\\Recent"], vec![FlagFetch::Recent]),
        (&["two words", "", "(paren", "\\"], vec![]),
        (
            &["\\Custom"],
            vec![FlagFetch::Flag(Flag::system("Custom".try_into().unwrap()))],
        ),
    ];
    for (stored, want) in cases {
        let stored: Vec<String> = stored.iter().map(|s| s.to_string()).collect();
        assert_eq!(flags_to_imap(&stored), want, "{stored:?}");
    }
}
