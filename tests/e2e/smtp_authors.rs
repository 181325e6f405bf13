//! End-to-end: on submission, `From:` and `Sender:` must be addresses the authenticated user
//! may send as (its own mailbox, or one it holds the send right on): no
//! `From: chef-de-service@…` of our own domain. A message without `From:` gets one.

use mssd_e2e::submission::stored_id;
use mssd_e2e::submission_world::{A, PASSWORD, martin, secretariat, world};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

#[test]
fn author_fields_must_be_addresses_the_user_may_send_as() {
    let world = world(BIN);
    let send = |headers: &str| {
        let mut client = world.logged_in(&martin(), PASSWORD);
        let message = format!("{headers}Subject: authors\r\n\r\nbody\r\n");
        client.send_message(&martin(), &[&secretariat()], message.as_bytes())
    };
    let martin = martin();
    let refused = "550 5.7.1";
    let cases: Vec<(String, &str)> = vec![
        (format!("From: <{martin}>\r\n"), "250 2.0.0"),
        (
            format!("From: \"Dr Martin\" <{}>\r\n", martin.to_uppercase()),
            "250 2.0.0",
        ),
        (
            format!("From: =?utf-8?q?Dr_Martin?= (cardiologie) <{martin}>\r\n"),
            "250 2.0.0",
        ),
        (format!("From: <chef-de-service@{A}>\r\n"), refused),
        (
            format!("From: \"{martin}\" <chef-de-service@{A}>\r\n"),
            refused,
        ),
        (
            format!("From: <{martin}>\r\nSender: <chef-de-service@{A}>\r\n"),
            refused,
        ),
        (
            format!("From: <{martin}>, <chef-de-service@{A}>\r\nSender: <{martin}>\r\n"),
            refused,
        ),
        (
            format!("From: <{martin}>, <{}>\r\n", secretariat()),
            refused,
        ),
        (format!("From: <{}>\r\n", secretariat()), refused),
        ("From: undisclosed\r\n".to_owned(), refused),
    ];
    for (headers, expected) in &cases {
        let reply = send(headers);
        assert!(reply.starts_with(expected), "{headers:?}: {reply}");
        if *expected == refused {
            assert!(reply.contains("may send as"), "{reply}");
        }
    }
    // With the send right on the ORG mailbox, it may be the author.
    let out = world.op.cli(
        &[
            "mailbox",
            "grant",
            &secretariat(),
            "--to",
            &martin,
            "--rights",
            "read,send",
        ],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    let reply = send(&format!(
        "From: <{}>\r\nSender: <{martin}>\r\n",
        secretariat()
    ));
    assert!(reply.starts_with("250 2.0.0"), "{reply}");

    // No From: at all: the envelope sender's is added.
    let reply = send("");
    stored_id(&reply);
    let inbox = world.inbox(&secretariat());
    let last = inbox
        .iter()
        .find(|m| !m.contains("\r\nFrom:") && !m.starts_with("From:"));
    assert!(last.is_none(), "a message was stored without From:");
    assert!(
        inbox
            .iter()
            .any(|m| m.contains(&format!("From: <{martin}>\r\n"))),
        "{inbox:#?}"
    );
    let refusals = world.audit_details("submission.refused");
    assert!(
        refusals.iter().any(|d| d["stage"] == "content"
            && d["reply"]
                .as_str()
                .is_some_and(|r| r.contains("chef-de-service"))),
        "{refusals:#?}"
    );
}

/// RFC 3461 §5.2.3: a message we deliver ourselves with NOTIFY=SUCCESS gets a "delivered" DSN,
/// for local submission as for mail from other operators (tests/e2e/smtp_relay.rs).
#[test]
fn local_delivery_with_notify_success_gives_a_delivered_dsn() {
    let world = world(BIN);
    let mut client = world.logged_in(&martin(), PASSWORD);
    let mail = client.command(&format!("MAIL FROM:<{}> ENVID=accuse-1 RET=HDRS", martin()));
    assert!(mail.starts_with("250"), "{mail}");
    let rcpt = client.command(&format!(
        "RCPT TO:<{}> NOTIFY=SUCCESS ORCPT=rfc822;{}",
        secretariat(),
        secretariat()
    ));
    assert!(rcpt.starts_with("250"), "{rcpt}");
    assert!(client.command("DATA").starts_with("354"));
    client.send_raw(
        format!(
            "From: <{}>\r\nSubject: ordonnance\r\n\r\nbody\r\n.\r\n",
            martin()
        )
        .as_bytes(),
    );
    let end = client.reply();
    assert!(end.starts_with("250 2.0.0"), "{end}");
    // The report is in the sender's INBOX when the 250 is sent.
    let reports = world.inbox(&martin());
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let dsn = &reports[0];
    for field in [
        "Action: delivered".to_owned(),
        "Status: 2.0.0".to_owned(),
        format!("Final-Recipient: rfc822; {}", secretariat()),
        format!("Original-Recipient: rfc822; {}", secretariat()),
        "Original-Envelope-Id: accuse-1".to_owned(),
    ] {
        assert!(dsn.contains(&field), "{field}: {dsn}");
    }
    assert!(dsn.contains("text/rfc822-headers"), "RET=HDRS: {dsn}");
    assert_eq!(world.inbox(&secretariat()).len(), 1);
}
