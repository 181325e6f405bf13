//! Listing summaries and message heads, what an IMAP listing reads instead of bodies: the
//! same answers from both backends.

mod common;

use std::sync::Arc;

use common::{Db, add_mailbox, folder_named};
use mssd_store::{Appended, Delivery, ListingSummarizer};

/// The summary a test stores: the header block, upper-cased.
fn summarizer() -> ListingSummarizer {
    Arc::new(|head: &[u8]| head.to_ascii_uppercase())
}

async fn summaries_and_heads(db: Db) {
    let s = &*db.store;
    let m = add_mailbox(s, "a@x.mssante.fr").await;
    let inbox = folder_named(s, m.id, "INBOX").await.id;
    let first = b"Subject: one\r\n\r\nbody one\r\n".to_vec();
    s.deliver(Delivery {
        recipients: vec![m.id],
        message: first.clone().into(),
        internal_date: 1,
        documents: Vec::new(),
    })
    .await
    .unwrap();
    let batch = (2..=3)
        .map(|i| Appended {
            message: format!("Subject: m{i}\r\n\r\nbody {i}\r\n")
                .into_bytes()
                .into(),
            flags: Vec::new(),
            internal_date: i,
        })
        .collect();
    s.append_all(inbox, batch).await.unwrap();

    let summaries = s.listing_summaries(inbox, vec![3, 1, 99, 1]).await.unwrap();
    assert_eq!(
        summaries,
        vec![
            (1, b"SUBJECT: ONE\r\n\r\n".to_vec()),
            (3, b"SUBJECT: M3\r\n\r\n".to_vec())
        ],
        "UID order, unknown UIDs and duplicates skipped"
    );
    let heads = s.message_heads(inbox, vec![2, 1]).await.unwrap();
    assert_eq!(heads.len(), 2);
    assert_eq!(heads[0].0, 1);
    assert!(heads[0].1.starts_with(b"Subject: one\r\n\r\n"));
    assert!(first.starts_with(&heads[0].1));
    assert_eq!(heads[1].0, 2);
    assert!(
        s.listing_summaries(inbox, Vec::new())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_summaries_and_heads() {
    summaries_and_heads(Db::sqlite_with(Some(summarizer()))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_summaries_and_heads() {
    let Some(db) = Db::postgres_with(Some(summarizer())).await else {
        return;
    };
    summaries_and_heads(db).await;
}
