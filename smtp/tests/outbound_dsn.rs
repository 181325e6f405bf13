//! RFC 3464 reports built by `mssd_smtp::dsn`, parsed back: structure and fields.

mod common;

use common::dsn_check::{get, parse};
use mssd_core::Address;
use mssd_smtp::dsn::{Action, RecipientReport, Report, build};

const ORIGINAL: &[u8] =
    b"From: a@hopital-a.fr\r\nSubject: CR\r\nMessage-ID: <m1@a>\r\n\r\nBody\r\n--=_mssd-dsn-x1\r\n";

fn recipient(address: &str, action: Action, status: (u8, u16, u16)) -> RecipientReport {
    RecipientReport {
        final_recipient: Address::parse(address).unwrap(),
        original_recipient: None,
        action,
        status,
        remote_mta: Some("mx.b.fr:25".into()),
        smtp_reply: None,
        reason: None,
        last_attempt: Some(1_700_000_100),
    }
}

/// What one recipient group must say: (Final-Recipient, Original-Recipient, Action,
/// Status, Diagnostic-Code).
type ExpectedRecipient = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    Option<&'static str>,
);

struct Case {
    name: &'static str,
    recipients: Vec<RecipientReport>,
    return_full: bool,
    envelope_id: Option<&'static str>,
    subject_starts: &'static str,
    expected: Vec<ExpectedRecipient>,
}

#[test]
fn reports_parse_back_with_their_fields() {
    let cases = vec![
        Case {
            name: "unknown mailbox, headers only",
            recipients: vec![RecipientReport {
                smtp_reply: Some("550 5.1.1 No such mailbox here".into()),
                reason: Some(
                    "the peer answered RCPT TO with 550 5.1.1 No such mailbox here".into(),
                ),
                original_recipient: Some("Secretariat@b.fr".into()),
                ..recipient("secretariat@b.fr", Action::Failed, (5, 1, 1))
            }],
            return_full: false,
            envelope_id: Some("ENV-42"),
            subject_starts: "Undelivered Mail",
            expected: vec![(
                "rfc822; secretariat@b.fr",
                Some("rfc822; Secretariat@b.fr"),
                "failed",
                "5.1.1",
                Some("smtp; 550 5.1.1 No such mailbox here"),
            )],
        },
        Case {
            name: "expired, full message, reason only",
            recipients: vec![RecipientReport {
                reason: Some("delivery time expired\r\ninjected: yes".into()),
                ..recipient("x@b.fr", Action::Failed, (4, 4, 7))
            }],
            return_full: true,
            envelope_id: None,
            subject_starts: "Undelivered Mail",
            expected: vec![(
                "rfc822; x@b.fr",
                None,
                "failed",
                "4.4.7",
                Some("X-mssd; delivery time expired  injected: yes"),
            )],
        },
        Case {
            name: "success: delivered and relayed",
            recipients: vec![
                RecipientReport {
                    smtp_reply: Some("250 2.0.0 OK".into()),
                    ..recipient("y@b.fr", Action::Delivered, (2, 0, 0))
                },
                recipient("z@c.fr", Action::Relayed, (2, 0, 0)),
            ],
            return_full: false,
            envelope_id: None,
            subject_starts: "Delivery Status Notification (Success)",
            expected: vec![
                (
                    "rfc822; y@b.fr",
                    None,
                    "delivered",
                    "2.0.0",
                    Some("smtp; 250 2.0.0 OK"),
                ),
                ("rfc822; z@c.fr", None, "relayed", "2.0.0", None),
            ],
        },
    ];
    let sender = Address::parse("dr.a@hopital-a.fr").unwrap();
    for case in cases {
        let report = Report {
            reporting_mta: "mail.hopital-a.fr",
            from_domain: "hopital-a.fr",
            to: &sender,
            envelope_id: case.envelope_id,
            arrival_date: 1_700_000_000,
            date: 1_700_000_200,
            id: "x1",
            recipients: case.recipients.clone(),
            original: ORIGINAL,
            return_full: case.return_full,
        };
        let bytes = build(&report);
        let dsn = parse(&bytes);
        let name = case.name;
        assert_eq!(
            get(&dsn.headers, "From"),
            Some("Mail Delivery System <MAILER-DAEMON@hopital-a.fr>"),
            "{name}"
        );
        assert_eq!(
            get(&dsn.headers, "To"),
            Some("<dr.a@hopital-a.fr>"),
            "{name}"
        );
        assert_eq!(
            get(&dsn.headers, "Auto-Submitted"),
            Some("auto-replied"),
            "{name}"
        );
        assert_eq!(get(&dsn.headers, "In-Reply-To"), Some("<m1@a>"), "{name}");
        assert_eq!(
            get(&dsn.headers, "Date"),
            Some("Tue, 14 Nov 2023 22:16:40 +0000"),
            "{name}"
        );
        assert!(
            get(&dsn.headers, "Subject")
                .unwrap()
                .starts_with(case.subject_starts),
            "{name}"
        );
        assert_eq!(
            get(&dsn.per_message, "Reporting-MTA"),
            Some("dns; mail.hopital-a.fr"),
            "{name}"
        );
        assert_eq!(
            get(&dsn.per_message, "Arrival-Date"),
            Some("Tue, 14 Nov 2023 22:13:20 +0000"),
            "{name}"
        );
        assert_eq!(
            get(&dsn.per_message, "Original-Envelope-Id"),
            case.envelope_id,
            "{name}"
        );
        assert_eq!(dsn.per_recipient.len(), case.expected.len(), "{name}");
        for (fields, (final_rcpt, original, action, status, diagnostic)) in
            dsn.per_recipient.iter().zip(&case.expected)
        {
            assert_eq!(get(fields, "Final-Recipient"), Some(*final_rcpt), "{name}");
            assert_eq!(get(fields, "Original-Recipient"), *original, "{name}");
            assert_eq!(get(fields, "Action"), Some(*action), "{name}");
            assert_eq!(get(fields, "Status"), Some(*status), "{name}");
            assert_eq!(get(fields, "Diagnostic-Code"), *diagnostic, "{name}");
            assert_eq!(get(fields, "Remote-MTA"), Some("dns; mx.b.fr"), "{name}");
            assert_eq!(
                get(fields, "Last-Attempt-Date"),
                Some("Tue, 14 Nov 2023 22:15:00 +0000"),
                "{name}"
            );
        }
        let (original_headers, original_body) = &dsn.parts[2];
        if case.return_full {
            assert_eq!(
                get(original_headers, "Content-Type"),
                Some("message/rfc822"),
                "{name}"
            );
            assert_eq!(original_body.as_slice(), ORIGINAL, "{name}");
        } else {
            assert_eq!(
                get(original_headers, "Content-Type"),
                Some("text/rfc822-headers"),
                "{name}"
            );
            assert_eq!(original_body.as_slice(), &ORIGINAL[..57], "{name}");
        }
        let human = String::from_utf8(dsn.parts[0].1.clone()).unwrap();
        assert!(
            human.contains("Ceci est le système de messagerie de mail.hopital-a.fr."),
            "{name}"
        );
        assert!(
            human.contains("This is the mail system at mail.hopital-a.fr."),
            "{name}"
        );
        for expected in &case.expected {
            let address = expected.0.trim_start_matches("rfc822; ");
            assert!(human.contains(&format!("<{address}>")), "{name}: {human}");
        }
    }
}
