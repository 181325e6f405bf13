//! A peer that is down: the entry is deferred on the retry schedule, delivered once the peer
//! is back; still down past expiry, the sender gets a bounce (4.4.7) in its INBOX.

mod common;

use std::time::Duration;

use common::dsn_check::{self, get};
use common::*;
use mssd_store::RecipientStatus;

#[tokio::test]
async fn peer_down_defers_on_schedule_then_delivers_when_it_is_back() {
    let (a, b) = two_operators().await;
    let port = free_port().await;
    let runner = a.runner(port, |c| {
        c.retry = vec![Duration::from_secs(60), Duration::from_secs(300)]
    });
    let message = sample_message("retry");
    let id = a
        .enqueue(Some(SENDER), &[RECIPIENT], &message, DsnParams::default())
        .await;

    let t0 = now();
    let report = runner.run_once_at(t0).await.unwrap();
    assert_eq!(
        (
            report.entries,
            report.deferred,
            report.delivered,
            report.reports
        ),
        (1, 1, 0, 0),
        "{report:?}"
    );
    let entry = a
        .ctx
        .store
        .queue()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == id)
        .unwrap();
    assert_eq!(entry.attempts, 1);
    assert_eq!(
        entry.next_attempt,
        Some(t0 + 60),
        "first delay of the schedule"
    );
    assert_eq!(entry.recipients[0].status, RecipientStatus::Pending);
    let error = entry.last_error.unwrap();
    assert!(
        error.contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "{error}"
    );
    assert!(error.contains("temporary failure 4.4.1"), "{error}");

    // Not due yet: nothing is attempted.
    assert_eq!(runner.run_once_at(t0 + 59).await.unwrap().entries, 0);
    // Due, still down: the second delay applies.
    let report = runner.run_once_at(t0 + 60).await.unwrap();
    assert_eq!(report.deferred, 1);
    let entry = a
        .ctx
        .store
        .queue()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == id)
        .unwrap();
    assert_eq!(
        (entry.attempts, entry.next_attempt),
        (2, Some(t0 + 60 + 300))
    );

    let peer = Peer::start(b.ctx.clone(), port).await;
    let report = runner.run_once_at(t0 + 360).await.unwrap();
    assert_eq!(
        (report.delivered, report.completed, report.reports),
        (1, 1, 0),
        "{report:?}"
    );
    assert!(a.ctx.store.queue().await.unwrap().is_empty());
    let inbox = b.inbox(RECIPIENT).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(after_first_field(&inbox[0]), message.as_slice());
    assert!(
        a.inbox(SENDER).await.is_empty(),
        "no bounce for a message delivered late"
    );
    let stats = runner.queue_stats().await.unwrap();
    assert_eq!(stats.depth, 0);
    peer.stop();
}

#[tokio::test]
async fn peer_down_past_expiry_bounces_into_the_senders_inbox() {
    let (a, _b) = two_operators().await;
    let port = free_port().await;
    let runner = a.runner(port, |c| c.expiry = Duration::from_secs(3600));
    let message = sample_message("expired");
    let id = a
        .enqueue(Some(SENDER), &[RECIPIENT], &message, DsnParams::default())
        .await;
    let created = a.ctx.store.queue().await.unwrap()[0].created_at;

    // Before expiry: deferred, next attempt never later than the expiry.
    let report = runner.run_once_at(created + 3599).await.unwrap();
    assert_eq!(report.deferred, 1);
    let entry = a
        .ctx
        .store
        .queue()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id == id)
        .unwrap();
    assert_eq!(entry.next_attempt, Some(created + 3600));
    let stats = runner.queue_stats().await.unwrap();
    assert_eq!(stats.depth, 1);
    assert!(stats.oldest_age_secs >= 0);

    let report = runner.run_once_at(created + 3600).await.unwrap();
    assert_eq!(
        (
            report.deferred,
            report.failed,
            report.reports,
            report.completed
        ),
        (0, 1, 1, 1),
        "{report:?}"
    );
    assert!(
        a.ctx.store.queue().await.unwrap().is_empty(),
        "an expired entry leaves the queue"
    );

    let bounces = a.inbox(SENDER).await;
    assert_eq!(bounces.len(), 1);
    let dsn = dsn_check::parse(&bounces[0]);
    assert!(
        get(&dsn.headers, "Subject")
            .unwrap()
            .starts_with("Undelivered Mail")
    );
    assert_eq!(get(&dsn.headers, "Auto-Submitted"), Some("auto-replied"));
    let r = &dsn.per_recipient[0];
    assert_eq!(
        get(r, "Final-Recipient"),
        Some(format!("rfc822; {RECIPIENT}").as_str())
    );
    assert_eq!(get(r, "Action"), Some("failed"));
    assert_eq!(get(r, "Status"), Some("4.4.7"));
    let diagnostic = get(r, "Diagnostic-Code").unwrap();
    assert!(diagnostic.starts_with("X-mssd; delivery time expired: not delivered within 1 hour(s); last error: 4.4.1 cannot connect to"), "{diagnostic}");
    // Headers only by default.
    assert_eq!(
        dsn.parts[2].1,
        message[..message.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4].to_vec()
    );
    assert_eq!(runner.stats().snapshot(), (0, 1, 1, 0, 1));
}
