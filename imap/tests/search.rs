//! SEARCH criteria on hand-written messages: every SearchKey variant, valid and non-matching cases.

mod common;

use std::time::Instant;

use imap_codec::imap_types::core::{AString, Atom, Vec1};
use imap_codec::imap_types::datetime::NaiveDate;
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;
use mssd_imap::search::{SearchScope, matches, needs_message_bytes};
use mssd_store::MessageMeta;

/// Sent on 2 December in its own offset (-0500), which is 3 December in UTC.
const LAB_RESULTS: &str = concat!(
    "Date: Wed, 02 Dec 2026 23:30:00 -0500\r\n",
    "From: =?UTF-8?Q?H=C3=A9l=C3=A8ne_Caron?= <helene.caron@chu.mssante.fr>\r\n",
    "To: \"Dr Martin\" <martin@clinique.mssante.fr>\r\n",
    "Cc: secretariat@chu.mssante.fr\r\n",
    "Subject: =?ISO-8859-1?Q?R=E9sultats_biologiques?=\r\n",
    "X-Priority: 1\r\n",
    "X-Empty:\r\n",
    "MIME-Version: 1.0\r\n",
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n",
    "\r\n",
    "--b1\r\n",
    "Content-Type: text/plain; charset=iso-8859-1\r\n",
    "Content-Transfer-Encoding: quoted-printable\r\n",
    "\r\n",
    "H=E9moglobine normale.\r\n",
    "--b1\r\n",
    "Content-Type: text/html; charset=utf-8\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "\r\n",
    // <p>Glycémie <b>élevée</b></p>
    "PHA+R2x5Y8OpbWllIDxiPsOpbGV2w6llPC9iPjwvcD4=\r\n",
    "--b1\r\n",
    "Content-Type: application/octet-stream\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "\r\n",
    // SECRETBINARY
    "U0VDUkVUQklOQVJZ\r\n",
    "--b1--\r\n",
);

/// 2026-12-02T23:30:00Z.
const INTERNAL_DATE: i64 = 1_796_254_200;
const VIEW: [u32; 6] = [3, 4, 7, 10, 11, 20];
/// The message under test is the 4th of the view (UID 10).
const INDEX: usize = 3;
/// Addresses as RFC 5322 allows them: comments inside, encoded display names, a group.
const COMMENTED_FROM: &str = "From: =?utf-8?q?Dr_=C3=89tienne?= <user-from (comment)@ (comment) domain.org>\r\nTo: \"x\" <to-user (c) @example.fr>\r\nCc: team: c1@example.fr, c2@example.fr;\r\nSubject: s\r\n\r\nbody\r\n";
/// UIDs recent to the searching session: VIEW[INDEX] (10) among them.
const RECENT: [u32; 2] = [10, 20];

fn meta(flags: &[&str]) -> MessageMeta {
    MessageMeta {
        uid: VIEW[INDEX],
        modseq: 42,
        flags: flags.iter().map(|f| f.to_string()).collect(),
        size: LAB_RESULTS.len() as u64,
        internal_date: INTERNAL_DATE,
        sha256: String::new(),
    }
}

fn s(text: &str) -> AString<'static> {
    AString::try_from(text.to_owned()).unwrap()
}

fn atom(text: &'static str) -> Atom<'static> {
    Atom::try_from(text).unwrap()
}

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::try_from(chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap()).unwrap()
}

fn set(text: &str) -> SequenceSet {
    text.parse().unwrap()
}

fn not(key: SearchKey<'static>) -> SearchKey<'static> {
    SearchKey::Not(Box::new(key))
}

fn or(left: SearchKey<'static>, right: SearchKey<'static>) -> SearchKey<'static> {
    SearchKey::Or(Box::new(left), Box::new(right))
}

fn and(keys: Vec<SearchKey<'static>>) -> SearchKey<'static> {
    SearchKey::And(Vec1::try_from(keys).unwrap())
}

#[test]
fn metadata_criteria_table() {
    use SearchKey as K;
    let flagged = meta(&["\\Seen", "\\flagged", "$Label1"]);
    let bare = meta(&[]);
    let size = LAB_RESULTS.len() as u32;
    let cases: Vec<(&str, SearchKey<'static>, &MessageMeta, bool)> = vec![
        ("ALL", K::All, &bare, true),
        ("SEEN", K::Seen, &flagged, true),
        ("SEEN on unseen", K::Seen, &bare, false),
        ("UNSEEN", K::Unseen, &bare, true),
        ("UNSEEN on seen", K::Unseen, &flagged, false),
        ("FLAGGED is case-insensitive", K::Flagged, &flagged, true),
        ("UNFLAGGED", K::Unflagged, &flagged, false),
        ("ANSWERED", K::Answered, &flagged, false),
        ("UNANSWERED", K::Unanswered, &flagged, true),
        ("DELETED", K::Deleted, &flagged, false),
        ("UNDELETED", K::Undeleted, &flagged, true),
        ("DRAFT", K::Draft, &flagged, false),
        ("UNDRAFT", K::Undraft, &flagged, true),
        (
            "KEYWORD case-insensitive",
            K::Keyword(atom("$label1")),
            &flagged,
            true,
        ),
        (
            "KEYWORD absent",
            K::Keyword(atom("$Other")),
            &flagged,
            false,
        ),
        (
            "UNKEYWORD present",
            K::Unkeyword(atom("$Label1")),
            &flagged,
            false,
        ),
        (
            "UNKEYWORD absent",
            K::Unkeyword(atom("$Label1")),
            &bare,
            true,
        ),
        ("RECENT: recent to this session", K::Recent, &bare, true),
        ("NEW: recent and unseen", K::New, &bare, true),
        ("NEW: recent but seen", K::New, &flagged, false),
        ("OLD: not for a recent message", K::Old, &flagged, false),
        ("LARGER size-1", K::Larger(size - 1), &bare, true),
        ("LARGER size", K::Larger(size), &bare, false),
        ("SMALLER size+1", K::Smaller(size + 1), &bare, true),
        ("SMALLER size", K::Smaller(size), &bare, false),
        (
            "MODSEQ equal",
            K::ModSequence {
                entry: None,
                modseq: 42,
            },
            &bare,
            true,
        ),
        (
            "MODSEQ above",
            K::ModSequence {
                entry: None,
                modseq: 43,
            },
            &bare,
            false,
        ),
        ("seq 4", K::SequenceSet(set("4")), &bare, true),
        ("seq 2:4", K::SequenceSet(set("2:4")), &bare, true),
        ("seq * is the 6th", K::SequenceSet(set("*")), &bare, false),
        ("seq 5:*", K::SequenceSet(set("5:*")), &bare, false),
        (
            "seq 100 beyond the view",
            K::SequenceSet(set("100")),
            &bare,
            false,
        ),
        ("UID 10", K::Uid(set("10")), &bare, true),
        ("UID 5:10", K::Uid(set("5:10")), &bare, true),
        ("UID * is 20", K::Uid(set("*")), &bare, false),
        ("UID 11:*", K::Uid(set("11:*")), &bare, false),
        ("BEFORE next day", K::Before(day(2026, 12, 3)), &bare, true),
        ("BEFORE same day", K::Before(day(2026, 12, 2)), &bare, false),
        ("ON the UTC day", K::On(day(2026, 12, 2)), &bare, true),
        ("ON the next day", K::On(day(2026, 12, 3)), &bare, false),
        ("SINCE same day", K::Since(day(2026, 12, 2)), &bare, true),
        ("SINCE next day", K::Since(day(2026, 12, 3)), &bare, false),
        ("NOT DELETED", not(K::Deleted), &flagged, true),
        ("NOT SEEN", not(K::Seen), &flagged, false),
        ("OR SEEN DELETED", or(K::Seen, K::Deleted), &flagged, true),
        (
            "OR DRAFT DELETED",
            or(K::Draft, K::Deleted),
            &flagged,
            false,
        ),
        (
            "AND SEEN FLAGGED",
            and(vec![K::Seen, K::Flagged]),
            &flagged,
            true,
        ),
        (
            "AND SEEN DELETED",
            and(vec![K::Seen, K::Deleted]),
            &flagged,
            false,
        ),
    ];
    let scope = SearchScope {
        uids: &VIEW,
        recent: &RECENT,
    };
    for (name, key, meta, want) in cases {
        let criteria = [key];
        assert!(!needs_message_bytes(&criteria), "{name} needs no bytes");
        assert_eq!(
            matches(&criteria, &scope, INDEX, meta, None),
            want,
            "{name}"
        );
    }
}

#[test]
fn text_criteria_table() {
    use SearchKey as K;
    let nested = common::nested_message();
    let cases: Vec<(&str, SearchKey<'static>, &str, bool)> = vec![
        (
            "FROM decoded encoded word",
            K::From(s("hélène")),
            LAB_RESULTS,
            true,
        ),
        ("FROM address", K::From(s("CARON@chu")), LAB_RESULTS, true),
        (
            "FROM not the raw encoded word",
            K::From(s("=?UTF-8?Q")),
            LAB_RESULTS,
            false,
        ),
        ("TO display name", K::To(s("dr martin")), LAB_RESULTS, true),
        ("TO absent string", K::To(s("dupont")), LAB_RESULTS, false),
        ("CC", K::Cc(s("secretariat")), LAB_RESULTS, true),
        (
            "BCC without a Bcc field",
            K::Bcc(s("a")),
            LAB_RESULTS,
            false,
        ),
        (
            "SUBJECT ISO-8859-1 decoded",
            K::Subject(s("RÉSULTATS BIO")),
            LAB_RESULTS,
            true,
        ),
        (
            "SUBJECT absent",
            K::Subject(s("radiologie")),
            LAB_RESULTS,
            false,
        ),
        (
            "HEADER value",
            K::Header(s("x-priority"), s("1")),
            LAB_RESULTS,
            true,
        ),
        (
            "HEADER other value",
            K::Header(s("X-Priority"), s("2")),
            LAB_RESULTS,
            false,
        ),
        (
            "HEADER empty string, field present but empty",
            K::Header(s("X-Empty"), s("")),
            LAB_RESULTS,
            true,
        ),
        (
            "HEADER empty string, field absent",
            K::Header(s("X-Absent"), s("")),
            LAB_RESULTS,
            false,
        ),
        (
            "BODY quoted-printable latin-1",
            K::Body(s("HÉMOGLOBINE")),
            LAB_RESULTS,
            true,
        ),
        (
            "BODY not the raw QP",
            K::Body(s("H=E9")),
            LAB_RESULTS,
            false,
        ),
        ("BODY base64 html", K::Body(s("élevée")), LAB_RESULTS, true),
        (
            "BODY skips binary parts",
            K::Body(s("secretbinary")),
            LAB_RESULTS,
            false,
        ),
        (
            "BODY excludes the header",
            K::Body(s("hélène")),
            LAB_RESULTS,
            false,
        ),
        ("TEXT header value", K::Text(s("hélène")), LAB_RESULTS, true),
        (
            "TEXT header name",
            K::Text(s("x-priority")),
            LAB_RESULTS,
            true,
        ),
        ("TEXT body", K::Text(s("normale")), LAB_RESULTS, true),
        // Addresses match as parsed, comments and display names out (RFC 3501 6.4.4).
        (
            "FROM with comments inside the address",
            K::From(s("user-from@domain.org")),
            COMMENTED_FROM,
            true,
        ),
        (
            "FROM display name",
            K::From(s("Dr Étienne")),
            COMMENTED_FROM,
            true,
        ),
        (
            "TO as parsed",
            K::To(s("to-user@example.fr")),
            COMMENTED_FROM,
            true,
        ),
        (
            "CC group member",
            K::Cc(s("c2@example.fr")),
            COMMENTED_FROM,
            true,
        ),
        (
            "BCC absent",
            K::Bcc(s("user-from@domain.org")),
            COMMENTED_FROM,
            false,
        ),
        (
            "FROM another address",
            K::From(s("other@domain.org")),
            COMMENTED_FROM,
            false,
        ),
        ("TEXT absent", K::Text(s("scanner")), LAB_RESULTS, false),
        (
            "BODY nested alternative text",
            K::Body(s("texte brut")),
            &nested,
            true,
        ),
        (
            "BODY nested message body",
            K::Body(s("inner body")),
            &nested,
            true,
        ),
        (
            "BODY nested message header",
            K::Body(s("bob")),
            &nested,
            true,
        ),
        (
            "SUBJECT of the outer message only",
            K::Subject(s("inner")),
            &nested,
            false,
        ),
        (
            "SENTON the day in its own offset",
            K::SentOn(day(2026, 12, 2)),
            LAB_RESULTS,
            true,
        ),
        (
            "SENTON the UTC day",
            K::SentOn(day(2026, 12, 3)),
            LAB_RESULTS,
            false,
        ),
        (
            "SENTBEFORE next day",
            K::SentBefore(day(2026, 12, 3)),
            LAB_RESULTS,
            true,
        ),
        (
            "SENTBEFORE same day",
            K::SentBefore(day(2026, 12, 2)),
            LAB_RESULTS,
            false,
        ),
        (
            "SENTSINCE same day",
            K::SentSince(day(2026, 12, 2)),
            LAB_RESULTS,
            true,
        ),
        (
            "SENTSINCE next day",
            K::SentSince(day(2026, 12, 3)),
            LAB_RESULTS,
            false,
        ),
        (
            "SENTON without Date",
            K::SentOn(day(2026, 12, 2)),
            &nested,
            false,
        ),
        (
            "NOT SENTBEFORE without Date",
            not(K::SentBefore(day(2030, 1, 1))),
            &nested,
            true,
        ),
        (
            "AND of metadata and text",
            and(vec![K::Uid(set("10")), K::Body(s("normale"))]),
            LAB_RESULTS,
            true,
        ),
        (
            "OR of text criteria",
            or(K::Subject(s("zzz")), K::Cc(s("chu"))),
            LAB_RESULTS,
            true,
        ),
    ];
    let scope = SearchScope {
        uids: &VIEW,
        recent: &RECENT,
    };
    let meta = meta(&[]);
    for (name, key, message, want) in cases {
        let criteria = [key];
        assert!(needs_message_bytes(&criteria), "{name} needs the bytes");
        let got = matches(&criteria, &scope, INDEX, &meta, Some(message.as_bytes()));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn text_criteria_without_bytes_do_not_match() {
    let scope = SearchScope {
        uids: &VIEW,
        recent: &RECENT,
    };
    let meta = meta(&[]);
    let subject = SearchKey::Subject(s("résultats"));
    assert!(!matches(
        std::slice::from_ref(&subject),
        &scope,
        INDEX,
        &meta,
        None
    ));
    assert!(matches(&[not(subject.clone())], &scope, INDEX, &meta, None));
    assert!(matches(
        &[subject],
        &scope,
        INDEX,
        &meta,
        Some(LAB_RESULTS.as_bytes())
    ));
}

#[test]
fn needs_message_bytes_looks_inside_composites() {
    use SearchKey as K;
    let cases: Vec<(Vec<SearchKey<'static>>, bool)> = vec![
        (vec![], false),
        (vec![K::Seen, K::Uid(set("1:*"))], false),
        (vec![K::Seen, K::Body(s("x"))], true),
        (vec![not(K::Header(s("X-A"), s("")))], true),
        (vec![or(K::Seen, K::SentOn(day(2026, 1, 1)))], true),
        (vec![and(vec![K::Draft, K::Text(s("x"))])], true),
        (
            vec![and(vec![K::Draft, not(K::On(day(2026, 1, 1)))])],
            false,
        ),
    ];
    for (criteria, want) in cases {
        assert_eq!(needs_message_bytes(&criteria), want, "{criteria:?}");
    }
}

/// Flag-only criteria over 10,000 messages: the count is checked; the time is printed only.
#[test]
fn flag_criteria_on_a_large_view() {
    let uids: Vec<u32> = (1..=10_000).collect();
    let metas: Vec<MessageMeta> = uids
        .iter()
        .map(|&uid| MessageMeta {
            uid,
            modseq: u64::from(uid),
            flags: match uid % 4 {
                0 => vec!["\\Seen".into(), "\\Flagged".into()],
                1 => vec!["\\Seen".into()],
                2 => vec!["$Label1".into()],
                _ => vec![],
            },
            size: 1000,
            internal_date: INTERNAL_DATE,
            sha256: String::new(),
        })
        .collect();
    let criteria = [
        SearchKey::Unseen,
        SearchKey::Undeleted,
        not(SearchKey::Keyword(atom("$Label1"))),
    ];
    let scope = SearchScope {
        uids: &uids,
        recent: &[],
    };
    let started = Instant::now();
    let found = metas
        .iter()
        .enumerate()
        .filter(|(index, meta)| matches(&criteria, &scope, *index, meta, None))
        .count();
    let elapsed = started.elapsed();
    assert_eq!(found, 2_500);
    eprintln!("flag-only SEARCH over 10,000 messages: {elapsed:?}");
}

/// A message not recent to the session: OLD, neither RECENT nor NEW.
#[test]
fn old_messages_are_neither_recent_nor_new() {
    let scope = SearchScope {
        uids: &VIEW,
        recent: &[20],
    };
    let bare = meta(&[]);
    assert!(matches(&[SearchKey::Old], &scope, INDEX, &bare, None));
    assert!(!matches(&[SearchKey::Recent], &scope, INDEX, &bare, None));
    assert!(!matches(&[SearchKey::New], &scope, INDEX, &bare, None));
}
