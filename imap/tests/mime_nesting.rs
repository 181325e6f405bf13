//! Messages nested thousands of multiparts deep (a 139 KB message did this to the server): every
//! MIME walker must answer without recursing as deep as the input, describing the levels past the
//! cap as opaque parts. The tests run on a thread with a small stack, like a tokio worker's.

mod common;

use common::wire;
use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::fetch::{MessageDataItem, Part, Section};
use imap_codec::imap_types::search::SearchKey;
use mssd_imap::mime::{MAX_MIME_DEPTH, MAX_MIME_PARTS, body_structure, envelope, section};
use mssd_imap::search::{SearchScope, matches};
use mssd_store::MessageMeta;

/// `levels` multiparts, each holding the next, the innermost holding one text part.
fn nested(levels: usize) -> Vec<u8> {
    let mut out =
        String::from("From: a@b.fr\r\nTo: c@d.fr\r\nSubject: deep\r\nMIME-Version: 1.0\r\n");
    for level in 0..levels {
        out.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
        ));
    }
    out.push_str("Content-Type: text/plain\r\n\r\nneedle\r\n");
    for level in (0..levels).rev() {
        out.push_str(&format!("--b{level}--\r\n"));
    }
    out.into_bytes()
}

/// Runs `f` on a thread with a 512 KiB stack: deep recursion overflows it and aborts the test.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

#[test]
fn body_structure_of_deep_nesting_is_capped() {
    for levels in [2_000, 20_000] {
        let text = on_small_stack(move || {
            let message = nested(levels);
            wire(MessageDataItem::BodyStructure(body_structure(
                &message, true,
            )))
        });
        let depth = text.matches("(").count();
        assert!(
            text.to_ascii_lowercase()
                .contains(r#""application" "octet-stream""#),
            "past the cap, an opaque part: {}",
            &text[text.len().saturating_sub(300)..]
        );
        assert!(
            depth < 4 * MAX_MIME_DEPTH,
            "{levels} levels gave {depth} parentheses"
        );
    }
}

#[test]
fn shallow_nesting_keeps_its_structure() {
    let text = wire(MessageDataItem::Body(body_structure(&nested(3), false)));
    // The text part's 6 octets are "needle": the CRLF before a boundary belongs to it.
    assert_eq!(
        text,
        r#"BODY (((("TEXT" "plain" NIL NIL NIL "7BIT" 6 0) "mixed") "mixed") "mixed")"#
    );
}

#[test]
fn sections_envelope_and_search_of_deep_nesting_answer() {
    on_small_stack(|| {
        let message = nested(2_000);
        let path: Vec<std::num::NonZeroU32> =
            (0..3_000).map(|_| std::num::NonZeroU32::MIN).collect();
        let part = Part(path.try_into().expect("non-empty"));
        // Past the cap the part is opaque: deeper numbers do not exist.
        assert!(section(&message, Some(&Section::Part(part)), None).is_none());
        let shallow = Part(
            vec![std::num::NonZeroU32::MIN; 3]
                .try_into()
                .expect("non-empty"),
        );
        assert!(section(&message, Some(&Section::Part(shallow)), None).is_some());
        let _ = envelope(&message);
        let meta = MessageMeta {
            uid: 1,
            modseq: 1,
            flags: Vec::new(),
            size: message.len() as u64,
            internal_date: 0,
            sha256: String::new(),
        };
        let scope = SearchScope {
            uids: &[1],
            recent: &[],
        };
        let body = SearchKey::Body(AString::try_from("needle").expect("atom"));
        let text = SearchKey::Text(AString::try_from("deep").expect("atom"));
        // The search answers; the header still matches TEXT.
        let _ = matches(&[body], &scope, 0, &meta, Some(&message));
        assert!(matches(&[text], &scope, 0, &meta, Some(&message)));
    });
}

/// 560 bytes found by the fuzzer: encapsulated messages reusing one boundary, each parsed
/// again at its level, fanned out exponentially (over 1 GB). The structure is now bounded.
#[test]
fn encapsulated_messages_cannot_fan_out() {
    let message = include_bytes!("fanout-message.eml");
    let started = std::time::Instant::now();
    let text = on_small_stack(move || {
        let structure = body_structure(message, true);
        wire(MessageDataItem::BodyStructure(structure))
    });
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let parts = text.matches("NIL NIL").count();
    assert!(parts < 4 * MAX_MIME_PARTS, "{parts} parts");
    assert!(
        text.len() < 2 << 20,
        "{} bytes of BODYSTRUCTURE",
        text.len()
    );
}
