//! Folders of a mailbox and of the ORG mailboxes shared with it, IDLE, and quotas.

use super::*;
use std::time::Instant;

/// User B of the shared-mailbox test, with PASSWORD.
const DURAND_OWNER: &str = "810002345675";

fn durand() -> String {
    format!("dr.durand@{A}")
}

#[test]
fn folders_are_listed_created_renamed_subscribed_and_deleted() {
    let world = world(BIN);
    run(async {
        let mut client = session(&world, &martin(), PASSWORD).await;
        let list = listed(&ok(&mut client, "LIST \"\" \"*\"").await);
        for (name, use_attr) in [
            ("Sent", "\\Sent"),
            ("Drafts", "\\Drafts"),
            ("Trash", "\\Trash"),
            ("Archive", "\\Archive"),
        ] {
            let row = list.iter().find(|(_, n)| n == name);
            assert!(
                row.is_some_and(|(a, _)| a.contains(use_attr)),
                "{name}: {list:?}"
            );
        }
        assert!(list.iter().any(|(_, n)| n == "INBOX"), "{list:?}");
        ok(&mut client, "CREATE Projets").await;
        ok(&mut client, "CREATE Projets/2026").await;
        refused(&mut client, "CREATE Sent", "NO", None).await;
        let list = listed(&ok(&mut client, "LIST \"\" \"Projets*\"").await);
        let parent = list.iter().find(|(_, n)| n == "Projets").unwrap();
        assert!(parent.0.contains("\\HasChildren"), "{list:?}");
        ok(&mut client, "RENAME Projets/2026 Projets/2027").await;
        let after = names(&ok(&mut client, "LIST \"\" \"*\"").await);
        assert!(after.contains(&"Projets/2027".to_string()), "{after:?}");
        assert!(!after.contains(&"Projets/2026".to_string()), "{after:?}");
        ok(&mut client, "DELETE Projets/2027").await;
        let after = names(&ok(&mut client, "LIST \"\" \"*\"").await);
        assert!(!after.contains(&"Projets/2027".to_string()), "{after:?}");
        refused(&mut client, "DELETE INBOX", "NO", None).await;

        ok(&mut client, "SUBSCRIBE Projets").await;
        let subscribed = names(&ok(&mut client, "LSUB \"\" \"*\"").await);
        assert!(
            subscribed.contains(&"Projets".to_string()),
            "{subscribed:?}"
        );
        ok(&mut client, "UNSUBSCRIBE Projets").await;
        let subscribed = names(&ok(&mut client, "LSUB \"\" \"*\"").await);
        assert!(
            !subscribed.contains(&"Projets".to_string()),
            "{subscribed:?}"
        );

        let message = text_message(&martin(), &martin(), "Statut", "Non lu.\r\n");
        assert!(
            client
                .append("INBOX", "", message.as_bytes(), true)
                .await
                .unwrap()
                .is_ok()
        );
        let status = ok(&mut client, "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)").await;
        assert_eq!(status_items(&status), "MESSAGES 1 UIDNEXT 2 UNSEEN 1");
        let namespace = ok(&mut client, "NAMESPACE").await;
        let line = &namespace.untagged_starting("NAMESPACE ")[0].line;
        assert!(line.starts_with("NAMESPACE ((\"\" \"/\"))"), "{line}");
        assert!(line.contains("((\"Shared/\" \"/\"))"), "{line}");
        let id = ok(&mut client, "ID (\"name\" \"mssd-e2e\")").await;
        assert!(id.untagged_starting("ID ").len() == 1, "{}", id.describe());
    });
}

#[test]
fn idle_sees_a_message_delivered_by_smtp() {
    let world = world(BIN);
    run(async {
        let mut client = session(&world, &martin(), PASSWORD).await;
        assert_eq!(
            ok(&mut client, "SELECT INBOX").await.count("EXISTS"),
            Some(0)
        );
        client.idle().await.unwrap();
        let message = text_message(&secretariat(), &martin(), "Urgent", "Rappel.\r\n");
        deliver(&world, &secretariat(), ORG_PASSWORD, &martin(), &[message]);
        let delivered = Instant::now();
        let mut seen = Vec::new();
        while !seen.iter().any(|l: &String| l == "1 EXISTS") {
            let left = Duration::from_secs(1).saturating_sub(delivered.elapsed());
            match client.idle_wait(left).await.unwrap() {
                Some(line) => seen.push(line),
                None => panic!("no \"* 1 EXISTS\" within 1 s of delivery; got {seen:?}"),
            }
        }
        assert!(client.idle_done().await.unwrap().is_ok());
        ok(&mut client, "NOOP").await;
    });
}

#[test]
fn a_shared_org_mailbox_follows_its_grants() {
    let world = world(BIN);
    let add = world.op.cli(
        &[
            "mailbox",
            "add",
            &durand(),
            "--kind",
            "PER",
            "--owner",
            DURAND_OWNER,
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(add.status.success(), "{}", add.stderr);
    let grant = |to: &str, rights: &str| {
        let out = world.op.cli(
            &[
                "mailbox",
                "grant",
                &secretariat(),
                "--to",
                to,
                "--rights",
                rights,
            ],
            None,
        );
        assert!(out.status.success(), "{}", out.stderr);
    };
    grant(&martin(), "read");
    grant(&durand(), "read,write");
    let message = text_message(&martin(), &secretariat(), "Pour le secretariat", "RDV.\r\n");
    deliver(&world, &martin(), PASSWORD, &secretariat(), &[message]);
    let shared = format!("Shared/{}", secretariat());
    run(async {
        let mut reader = session(&world, &martin(), PASSWORD).await;
        let list = names(&ok(&mut reader, "LIST \"\" \"Shared/*\"").await);
        assert!(list.contains(&shared), "{list:?}");
        assert!(list.contains(&format!("{shared}/Sent")), "{list:?}");
        let select = ok(&mut reader, &format!("SELECT \"{shared}\"")).await;
        assert_eq!(select.code(), Some("READ-ONLY"));
        assert_eq!(select.count("EXISTS"), Some(1));
        refused(
            &mut reader,
            "STORE 1 +FLAGS (\\Flagged)",
            "NO",
            Some("NOPERM"),
        )
        .await;
        refused(&mut reader, "MOVE 1 INBOX", "NO", Some("NOPERM")).await;
        let note = b"Subject: note\r\n\r\nx\r\n";
        let append = reader.append(&shared, "", note, false).await.unwrap();
        assert_eq!((append.status(), append.code()), ("NO", Some("NOPERM")));

        let mut writer = session(&world, &durand(), PASSWORD).await;
        let select = ok(&mut writer, &format!("SELECT \"{shared}\"")).await;
        assert_eq!(select.code(), Some("READ-WRITE"));
        ok(&mut writer, "STORE 1 +FLAGS (\\Seen)").await;
        // B's change may also reach A unsolicited, before the answer to its FETCH.
        let flags = ok(&mut reader, "FETCH 1 (FLAGS)").await;
        let seen = flags.untagged_starting("1 FETCH (");
        assert!(
            seen.iter().any(|f| f.line.contains("\\Seen")),
            "{}",
            flags.describe()
        );
    });
    let out = world.op.cli(
        &["mailbox", "revoke", &secretariat(), "--to", &martin()],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    run(async {
        let mut reader = session(&world, &martin(), PASSWORD).await;
        let list = names(&ok(&mut reader, "LIST \"\" \"Shared/*\"").await);
        assert!(list.is_empty(), "{list:?}");
        refused(&mut reader, &format!("SELECT \"{shared}\""), "NO", None).await;
    });
}

#[test]
fn quota_is_reported_and_enforced_on_append() {
    let world = world(BIN);
    let small = format!("petit@{A}");
    world.add_org_mailbox(&small, Some("64K"));
    run(async {
        let mut client = session(&world, &small, PASSWORD).await;
        let quota = ok(&mut client, "GETQUOTAROOT INBOX").await;
        assert_eq!(
            quota.untagged_starting("QUOTAROOT INBOX \"\"").len(),
            1,
            "{quota:?}"
        );
        assert_eq!(
            quota.untagged_starting("QUOTA \"\" (STORAGE 0 64)").len(),
            1,
            "{quota:?}"
        );
        let ten_kib = format!("Subject: 10K\r\n\r\n{}\r\n", "x".repeat(10 * 1024));
        assert!(
            client
                .append("INBOX", "", ten_kib.as_bytes(), false)
                .await
                .unwrap()
                .is_ok()
        );
        let quota = ok(&mut client, "GETQUOTAROOT INBOX").await;
        let line = &quota.untagged_starting("QUOTA \"\" (STORAGE ")[0].line;
        let used: u64 = line.split(' ').nth(3).unwrap().parse().unwrap();
        assert!(
            (10..=11).contains(&used) && line.ends_with(" 64)"),
            "{line}"
        );
        let too_big = format!("Subject: 60K\r\n\r\n{}\r\n", "y".repeat(60 * 1024));
        let refused = client
            .append("INBOX", "", too_big.as_bytes(), false)
            .await
            .unwrap();
        assert_eq!(
            (refused.status(), refused.code()),
            ("NO", Some("OVERQUOTA"))
        );
        let status = ok(&mut client, "STATUS INBOX (MESSAGES)").await;
        assert_eq!(status_items(&status), "MESSAGES 1");

        // Delivery is held to the quota too. 60 KiB more passes RCPT (10 KiB used) but not the
        // commit: 452 4.2.2 after DATA. Once the mailbox is full, RCPT itself is refused.
        let mut smtp = world.logged_in(&martin(), PASSWORD);
        let sixty = text_message(&martin(), &small, "60K", &"z".repeat(60 * 1024));
        let at_commit = smtp.send_message(&martin(), &[&small], sixty.as_bytes());
        assert!(at_commit.starts_with("452 4.2.2 "), "{at_commit}");
        // Exactly what is left: the mailbox is then full to the byte.
        let head = "Subject: fill\r\n\r\n";
        let fill = format!(
            "{head}{}",
            "f".repeat(64 * 1024 - ten_kib.len() - head.len())
        );
        assert!(
            client
                .append("INBOX", "", fill.as_bytes(), false)
                .await
                .unwrap()
                .is_ok()
        );
        let small_one = text_message(&martin(), &small, "1K", "hello");
        let at_rcpt = smtp.send_message(&martin(), &[&small], small_one.as_bytes());
        assert!(at_rcpt.starts_with("452 4.2.2 "), "{at_rcpt}");
        let status = ok(&mut client, "STATUS INBOX (MESSAGES)").await;
        assert_eq!(status_items(&status), "MESSAGES 2");
    });
}
