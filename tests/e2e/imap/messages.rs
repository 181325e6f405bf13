//! Reading and filing delivered mail: SELECT, FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE,
//! APPEND and CONDSTORE.

use super::*;
use mssd_e2e::submission::base64;

/// The text part of the multipart message, as BODY[1] must return it.
const XDM_TEXT: &str = "Bonjour,\r\nci-joint le document XDM du patient.\r\n";
/// Stand-in for an IHE XDM archive (only its transfer encoding matters here).
const XDM_ZIP: &str = "PK\u{3}\u{4}IHE_XDM/SUBSET01/METADATA.XML INDEX.HTM README.TXT";

fn xdm_message() -> String {
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: Document XDM\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n--sep\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n{XDM_TEXT}\r\n--sep\r\n\
Content-Type: application/zip; name=\"IHE_XDM.zip\"\r\n\
Content-Disposition: attachment; filename=\"IHE_XDM.zip\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{zip}\r\n--sep--\r\n",
        from = secretariat(),
        to = martin(),
        zip = base64(XDM_ZIP)
    )
}

/// Three messages from the secretariat in dr.martin's INBOX: a text, the XDM multipart, a text.
fn deliver_three(world: &World) {
    let (from, to) = (secretariat(), martin());
    let messages = [
        text_message(
            &from,
            &to,
            "Compte rendu de consultation",
            "Patient vu.\r\n",
        ),
        xdm_message(),
        text_message(
            &from,
            &to,
            "Ordonnance",
            "Renouvellement du traitement.\r\n",
        ),
    ];
    deliver(world, &from, ORG_PASSWORD, &to, &messages);
}

#[test]
fn delivered_messages_are_selected_and_fetched() {
    let world = world(BIN);
    deliver_three(&world);
    run(async {
        let mut client = session(&world, &martin(), PASSWORD).await;
        let select = ok(&mut client, "SELECT INBOX").await;
        assert_eq!(select.count("EXISTS"), Some(3), "{}", select.describe());
        // The first session to select sees the three new messages as \Recent.
        assert_eq!(select.count("RECENT"), Some(3));
        assert_eq!(untagged_code(&select, "UIDNEXT"), "4");
        assert!(
            untagged_code(&select, "UIDVALIDITY")
                .parse::<u32>()
                .unwrap()
                > 0
        );
        assert!(!select.untagged_starting("OK [PERMANENTFLAGS (").is_empty());
        assert!(!select.untagged_starting("FLAGS (").is_empty());
        assert_eq!(select.code(), Some("READ-WRITE"));

        let reply = ok(&mut client, "FETCH 1:* (FLAGS ENVELOPE)").await;
        assert_eq!(reply.untagged_starting("").len(), 3, "{}", reply.describe());
        let subjects = [
            "\"Compte rendu de consultation\"",
            "\"Document XDM\"",
            "\"Ordonnance\"",
        ];
        for (n, subject) in (1..).zip(subjects) {
            let line = &fetch_of(&reply, n).line;
            assert!(
                line.contains("FLAGS (\\Recent)") && line.contains(subject),
                "{line}"
            );
            assert!(
                line.contains("\"secretariat\" \"hopital-a.test.mssante.fr\""),
                "{line}"
            );
        }

        let structure = ok(&mut client, "FETCH 2 BODYSTRUCTURE").await;
        let line = fetch_of(&structure, 2).line.to_uppercase();
        for part in [
            "(\"TEXT\" \"PLAIN\"",
            "\"APPLICATION\" \"ZIP\"",
            "\"IHE_XDM.ZIP\"",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
        assert!(
            line.contains("\"BASE64\"") && line.contains("\"MIXED\""),
            "{line}"
        );

        let peek = ok(&mut client, "FETCH 2 BODY.PEEK[1]").await;
        assert_eq!(fetch_of(&peek, 2).literals, [XDM_TEXT.as_bytes()]);
        let flags = ok(&mut client, "FETCH 2 (FLAGS)").await;
        assert!(
            !fetch_of(&flags, 2).line.contains("\\Seen"),
            "PEEK sets no flag"
        );
        let partial = ok(&mut client, "FETCH 2 BODY[2]<0.10>").await;
        let fetched = fetch_of(&partial, 2);
        assert!(fetched.line.contains("BODY[2]<0> {10}"), "{}", fetched.line);
        assert_eq!(fetched.literals, [&base64(XDM_ZIP).as_bytes()[..10]]);
        let flags = ok(&mut client, "FETCH 2 (FLAGS)").await;
        assert!(
            fetch_of(&flags, 2).line.contains("\\Seen"),
            "BODY[] sets \\Seen"
        );

        let whole = ok(&mut client, "FETCH 3 (RFC822.SIZE BODY.PEEK[])").await;
        let fetched = fetch_of(&whole, 3);
        let size = format!("RFC822.SIZE {}", fetched.literals[0].len());
        assert!(fetched.line.contains(&size), "{}", fetched.line);
        assert!(fetched.literals[0].ends_with(b"\r\n\r\nRenouvellement du traitement.\r\n"));
    });
}

#[test]
fn flags_are_stored_and_searched() {
    let world = world(BIN);
    deliver_three(&world);
    run(async {
        let mut client = session(&world, &martin(), PASSWORD).await;
        ok(&mut client, "SELECT INBOX").await;
        let stored = ok(&mut client, "STORE 2 +FLAGS (\\Flagged)").await;
        assert!(
            fetch_of(&stored, 2)
                .line
                .contains("FLAGS (\\Flagged \\Recent)")
        );
        let searches = [
            ("SEARCH FLAGGED", vec![2]),
            ("SEARCH UNFLAGGED", vec![1, 3]),
            ("SEARCH SUBJECT \"Ordonnance\"", vec![3]),
            ("SEARCH TEXT \"document XDM du patient\"", vec![2]),
            ("SEARCH FROM \"secretariat\" NOT FLAGGED", vec![1, 3]),
            ("UID SEARCH FLAGGED", vec![2]),
            ("SEARCH SUBJECT \"absent de la boite\"", vec![]),
        ];
        for (cmd, expected) in searches {
            assert_eq!(
                search_numbers(&ok(&mut client, cmd).await),
                expected,
                "{cmd}"
            );
        }
        let silent = ok(&mut client, "STORE 1 +FLAGS.SILENT (\\Seen)").await;
        assert!(silent.untagged_starting("1 FETCH").is_empty(), "{silent:?}");
        assert_eq!(search_numbers(&ok(&mut client, "SEARCH SEEN").await), [1]);
        let by_uid = ok(&mut client, "UID STORE 3 +FLAGS (\\Answered)").await;
        assert!(fetch_of(&by_uid, 3).line.contains("UID 3"), "{by_uid:?}");
        ok(&mut client, "STORE 2 -FLAGS (\\Flagged)").await;
        assert!(search_numbers(&ok(&mut client, "SEARCH FLAGGED").await).is_empty());
    });
}

#[test]
fn messages_are_copied_moved_and_expunged() {
    let world = world(BIN);
    deliver_three(&world);
    run(async {
        let mut client = session(&world, &martin(), PASSWORD).await;
        let validity = untagged_code(&ok(&mut client, "SELECT Archive").await, "UIDVALIDITY");
        ok(&mut client, "SELECT INBOX").await;
        let copy = ok(&mut client, "COPY 1 Archive").await;
        assert_eq!(
            copy.code(),
            Some(format!("COPYUID {validity} 1 1").as_str())
        );
        let moved = ok(&mut client, "MOVE 3 Archive").await;
        let copyuid = format!("OK [COPYUID {validity} 3 2]");
        assert_eq!(
            moved.untagged_starting(&copyuid).len(),
            1,
            "{}",
            moved.describe()
        );
        assert_eq!(moved.untagged_starting("3 EXPUNGE").len(), 1);
        ok(&mut client, "STORE 1 +FLAGS (\\Deleted)").await;
        let expunge = ok(&mut client, "EXPUNGE").await;
        assert_eq!(
            expunge.untagged_starting("1 EXPUNGE").len(),
            1,
            "{expunge:?}"
        );
        let left = ok(&mut client, "FETCH 1:* (UID)").await;
        assert_eq!(fetch_of(&left, 1).line, "1 FETCH (UID 2)");
        assert_eq!(left.untagged.len(), 1);

        let status = ok(&mut client, "STATUS Archive (MESSAGES)").await;
        assert_eq!(status_items(&status), "MESSAGES 2");
        ok(&mut client, "SELECT Archive").await;
        let header = ok(&mut client, "FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]").await;
        assert_eq!(
            fetch_of(&header, 2).literals,
            [b"Subject: Ordonnance\r\n\r\n"]
        );
    });
}

#[test]
fn append_with_sync_and_non_sync_literals() {
    let world = world(BIN);
    run(async {
        let mut client = session(&world, &martin(), PASSWORD).await;
        let first = text_message(&martin(), &martin(), "Note", "Premier brouillon.\r\n");
        let second = text_message(&martin(), &martin(), "Note 2", "Second.\r\n");
        let sync = client
            .append("INBOX", "\\Seen", first.as_bytes(), false)
            .await;
        let sync = sync.unwrap();
        let plus = client
            .append("INBOX", "", second.as_bytes(), true)
            .await
            .unwrap();
        let draft = client
            .append("Drafts", "\\Draft", second.as_bytes(), true)
            .await;
        assert!(draft.unwrap().is_ok());
        let select = ok(&mut client, "SELECT INBOX").await;
        let validity = untagged_code(&select, "UIDVALIDITY");
        assert_eq!(
            sync.code(),
            Some(format!("APPENDUID {validity} 1").as_str())
        );
        assert_eq!(
            plus.code(),
            Some(format!("APPENDUID {validity} 2").as_str())
        );
        assert_eq!(select.count("EXISTS"), Some(2));
        let fetched = ok(&mut client, "FETCH 1:2 (FLAGS BODY.PEEK[])").await;
        assert!(fetch_of(&fetched, 1).line.contains("\\Seen"));
        assert_eq!(fetch_of(&fetched, 1).literals, [first.as_bytes()]);
        assert_eq!(fetch_of(&fetched, 2).literals, [second.as_bytes()]);
        let drafts = ok(&mut client, "STATUS Drafts (MESSAGES)").await;
        assert_eq!(status_items(&drafts), "MESSAGES 1");
    });
}

#[test]
fn condstore_reports_changes_and_close_expunges_silently() {
    let world = world(BIN);
    deliver_three(&world);
    run(async {
        let mut client = session(&world, &martin(), PASSWORD).await;
        let enabled = ok(&mut client, "ENABLE CONDSTORE").await;
        assert_eq!(enabled.untagged_starting("ENABLED CONDSTORE").len(), 1);
        let select = ok(&mut client, "SELECT INBOX").await;
        let highest: u64 = untagged_code(&select, "HIGHESTMODSEQ").parse().unwrap();
        let stored = ok(&mut client, "STORE 2 +FLAGS (\\Flagged)").await;
        assert!(fetch_of(&stored, 2).line.contains("MODSEQ ("), "{stored:?}");
        let cmd = format!("FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})");
        let changed = ok(&mut client, &cmd).await;
        assert_eq!(changed.untagged.len(), 1, "{}", changed.describe());
        let line = &fetch_of(&changed, 2).line;
        let modseq: u64 = line
            .split("MODSEQ (")
            .nth(1)
            .unwrap()
            .split(')')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(modseq > highest, "{line} after {highest}");

        ok(&mut client, "UNSELECT").await;
        refused(&mut client, "FETCH 1 (FLAGS)", "BAD", None).await;
        ok(&mut client, "SELECT INBOX").await;
        ok(&mut client, "STORE 3 +FLAGS.SILENT (\\Deleted)").await;
        let close = ok(&mut client, "CLOSE").await;
        assert!(close.untagged_starting("3 EXPUNGE").is_empty(), "{close:?}");
        assert_eq!(
            ok(&mut client, "SELECT INBOX").await.count("EXISTS"),
            Some(2)
        );
    });
}
