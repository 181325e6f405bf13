//! Outbound delivery from operator A's queue to operator B's real inbound session over
//! mutual TLS: content arrives intact, one connection carries several messages, a 5xx at
//! RCPT bounces at once, NOTIFY=SUCCESS gives the sender a success DSN.

mod common;

use common::dsn_check::{self, get};
use common::*;
use smtp_proto::{RCPT_NOTIFY_FAILURE, RCPT_NOTIFY_SUCCESS};

#[tokio::test]
async fn message_arrives_byte_identical_after_the_receivers_received_field() {
    let (a, b) = two_operators().await;
    let peer = Peer::start(b.ctx.clone(), 0).await;
    for use_chunking in [true, false] {
        let runner = a.runner(peer.port, |c| c.use_chunking = use_chunking);
        let message = sample_message(&format!("chunking-{use_chunking}"));
        let id = a
            .enqueue(Some(SENDER), &[RECIPIENT], &message, DsnParams::default())
            .await;

        let report = runner.run_once().await.unwrap();
        assert_eq!(
            (
                report.entries,
                report.delivered,
                report.deferred,
                report.failed
            ),
            (1, 1, 0, 0),
            "{report:?}"
        );
        assert_eq!(report.completed, 1);
        assert_eq!(report.reports, 0, "no DSN without NOTIFY=SUCCESS");
        assert!(
            a.ctx
                .store
                .queue()
                .await
                .unwrap()
                .iter()
                .all(|e| e.id != id),
            "delivered entry leaves the queue"
        );

        let inbox = b.inbox(RECIPIENT).await;
        let received = inbox.last().unwrap();
        assert!(
            received.starts_with(b"Received: from mail.hopital-a.test.mssante.fr"),
            "{}",
            String::from_utf8_lossy(received)
        );
        assert_eq!(
            after_first_field(received),
            message.as_slice(),
            "chunking={use_chunking}"
        );
    }
    assert_eq!(b.inbox(RECIPIENT).await.len(), 2);
    assert!(a.inbox(SENDER).await.is_empty());
    let audits = a.audit_kinds("smtp.outbound.delivery").await;
    assert_eq!(audits.len(), 2);
    assert_eq!(audits[0].outcome, "delivered");
    assert_eq!(audits[0].detail["peer_dn"], b.identity.dn.as_str());
    assert_eq!(audits[0].detail["recipients"][0]["address"], RECIPIENT);
    peer.stop();
}

#[tokio::test]
async fn one_connection_carries_several_messages_to_one_host() {
    let (a, b) = two_operators().await;
    let peer = Peer::start(b.ctx.clone(), 0).await;
    let runner = a.runner(peer.port, |_| {});
    let first = sample_message("first");
    let second = sample_message("second");
    a.enqueue(Some(SENDER), &[RECIPIENT], &first, DsnParams::default())
        .await;
    a.enqueue(
        Some(SENDER),
        &[RECIPIENT, RECIPIENT_2],
        &second,
        DsnParams::default(),
    )
    .await;

    let report = runner.run_once().await.unwrap();
    assert_eq!(
        (report.entries, report.delivered, report.completed),
        (2, 3, 2),
        "{report:?}"
    );
    assert_eq!(peer.connections(), 1, "both messages over one connection");
    let inbox = b.inbox(RECIPIENT).await;
    assert_eq!(inbox.len(), 2);
    assert_eq!(after_first_field(&inbox[0]), first.as_slice());
    assert_eq!(after_first_field(&inbox[1]), second.as_slice());
    assert_eq!(b.inbox(RECIPIENT_2).await.len(), 1);
    // B saw both messages from the same client socket.
    let accepted = b.audit_kinds("smtp.message").await;
    assert_eq!(accepted.len(), 2);
    assert_eq!(accepted[0].actor, accepted[1].actor);
    assert_eq!(runner.stats().snapshot().0, 3);
    peer.stop();
}

#[tokio::test]
async fn unknown_mailbox_at_rcpt_bounces_at_once_with_5_1_1() {
    let (a, b) = two_operators().await;
    let peer = Peer::start(b.ctx.clone(), 0).await;
    let runner = a.runner(peer.port, |_| {});
    let unknown = "nobody@clinique-b.test.mssante.fr";
    let message = sample_message("unknown");
    let params = DsnParams {
        env_id: Some("ENV-7".into()),
        orcpt: vec![(unknown.into(), "Nobody@clinique-b.test.mssante.fr".into())],
        ..Default::default()
    };
    a.enqueue(Some(SENDER), &[RECIPIENT, unknown], &message, params)
        .await;

    let report = runner.run_once().await.unwrap();
    assert_eq!(
        (
            report.delivered,
            report.failed,
            report.deferred,
            report.reports,
            report.completed
        ),
        (1, 1, 0, 1, 1),
        "{report:?}"
    );
    assert_eq!(
        b.inbox(RECIPIENT).await.len(),
        1,
        "the known recipient still gets it"
    );
    assert!(a.ctx.store.queue().await.unwrap().is_empty());

    let bounces = a.inbox(SENDER).await;
    assert_eq!(bounces.len(), 1);
    let dsn = dsn_check::parse(&bounces[0]);
    assert_eq!(
        get(&dsn.headers, "To"),
        Some(format!("<{SENDER}>").as_str())
    );
    assert_eq!(
        get(&dsn.headers, "From"),
        Some("Mail Delivery System <MAILER-DAEMON@hopital-a.test.mssante.fr>")
    );
    assert_eq!(get(&dsn.per_message, "Original-Envelope-Id"), Some("ENV-7"));
    assert_eq!(
        dsn.per_recipient.len(),
        1,
        "only the failed recipient is reported"
    );
    let r = &dsn.per_recipient[0];
    assert_eq!(
        get(r, "Final-Recipient"),
        Some(format!("rfc822; {unknown}").as_str())
    );
    assert_eq!(
        get(r, "Original-Recipient"),
        Some("rfc822; Nobody@clinique-b.test.mssante.fr")
    );
    assert_eq!(get(r, "Action"), Some("failed"));
    assert_eq!(get(r, "Status"), Some("5.1.1"));
    assert_eq!(
        get(r, "Diagnostic-Code"),
        Some("smtp; 550 5.1.1 No such mailbox here")
    );
    assert_eq!(get(r, "Remote-MTA"), Some("dns; 127.0.0.1"));
    assert_eq!(
        get(&dsn.parts[2].0, "Content-Type"),
        Some("text/rfc822-headers")
    );
    peer.stop();
}

/// RFC 3461 §5.2.2/§5.2.3: to a peer with DSN, NOTIFY goes on and the final MTA (here B, a
/// real mssd session) reports "delivered"; A reports nothing, so the sender gets one report.
#[tokio::test]
async fn notify_success_to_a_dsn_peer_is_reported_once_by_the_final_mta() {
    let (a, b) = two_operators().await;
    let peer = Peer::start(b.ctx.clone(), 0).await;
    let runner = a.runner(peer.port, |_| {});
    let message = sample_message("accuse");
    let success = DsnParams {
        notify: RCPT_NOTIFY_SUCCESS | RCPT_NOTIFY_FAILURE,
        ret_full: true,
        env_id: Some("ENV-42".into()),
        ..Default::default()
    };
    a.enqueue(Some(SENDER), &[RECIPIENT], &message, success)
        .await;
    let report = runner.run_once().await.unwrap();
    assert_eq!((report.delivered, report.reports), (1, 0), "{report:?}");
    assert!(a.inbox(SENDER).await.is_empty(), "no report from the relay");
    assert_eq!(b.inbox(RECIPIENT).await.len(), 1);

    // B queued its report to the sender, with the null reverse-path.
    let queued = b.ctx.store.due(now() + 3600, 10).await.unwrap();
    assert_eq!(queued.len(), 1, "one report");
    assert!(queued[0].sender.is_none());
    assert_eq!(queued[0].recipients[0].address.as_str(), SENDER);
    let dsn = dsn_check::parse(&queued[0].message);
    assert!(
        get(&dsn.headers, "Subject")
            .unwrap()
            .starts_with("Delivery Status Notification (Success)")
    );
    assert_eq!(
        get(&dsn.per_message, "Original-Envelope-Id"),
        Some("ENV-42")
    );
    let r = &dsn.per_recipient[0];
    assert_eq!(
        get(r, "Final-Recipient"),
        Some(format!("rfc822; {RECIPIENT}").as_str())
    );
    assert_eq!(get(r, "Action"), Some("delivered"));
    assert_eq!(get(r, "Status"), Some("2.0.0"));
    assert_eq!(get(&dsn.parts[2].0, "Content-Type"), Some("message/rfc822"));

    // NOTIFY=NEVER: delivered, no report; a DSN itself (null sender) never gets one.
    let never = DsnParams {
        notify: smtp_proto::RCPT_NOTIFY_NEVER,
        ..Default::default()
    };
    a.enqueue(Some(SENDER), &[RECIPIENT], &message, never).await;
    let null_sender = DsnParams {
        notify: RCPT_NOTIFY_SUCCESS,
        ..Default::default()
    };
    a.enqueue(None, &[RECIPIENT], &message, null_sender).await;
    let report = runner.run_once().await.unwrap();
    assert_eq!((report.delivered, report.reports), (2, 0), "{report:?}");
    assert!(a.inbox(SENDER).await.is_empty());
    assert_eq!(b.inbox(RECIPIENT).await.len(), 3);
    assert_eq!(b.ctx.store.due(now() + 3600, 10).await.unwrap().len(), 1);
    peer.stop();
}

#[tokio::test]
async fn the_loop_delivers_when_woken_and_stops_on_shutdown() {
    let (a, b) = two_operators().await;
    let peer = Peer::start(b.ctx.clone(), 0).await;
    let runner =
        std::sync::Arc::new(a.runner(peer.port, |c| c.poll = std::time::Duration::from_secs(3600)));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(runner.clone().run(stopped));

    a.enqueue(
        Some(SENDER),
        &[RECIPIENT],
        &sample_message("woken"),
        DsnParams::default(),
    )
    .await;
    a.ctx.queue_notify.notify_one();
    let mut delivered = false;
    for _ in 0..200 {
        if b.inbox(RECIPIENT).await.len() == 1 {
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        delivered,
        "the runner delivers without waiting for its hour-long poll"
    );
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(runner.stats().snapshot().0, 1);
    peer.stop();
}
