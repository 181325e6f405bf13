//! The last accepted list is saved in the store and enforced again after a restart.

mod common;

use std::sync::Arc;

use common::{day, file_source, generated_entries, list_xml, normalised, operator_dn, write};
use mssd_certs::DistinguishedName;
use mssd_store::{SqliteOptions, SqliteStore, Store};
use mssd_trust_list::{RefreshPolicy, RestoreOutcome, STORE_DOCUMENT, TrustListHandle};

fn open(dir: &std::path::Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(&dir.join("mssd.db"), SqliteOptions::default()).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_after_restart_enforces_the_last_accepted_list() {
    let dir = tempfile::tempdir().unwrap();
    let entries = generated_entries("p", 300);
    let path = write(dir.path(), "l.xml", list_xml(&day(5), &entries));
    {
        let store = open(dir.path());
        let handle = TrustListHandle::restore(store, RefreshPolicy::default())
            .await
            .unwrap();
        assert_eq!(
            handle.status().restored,
            Some(RestoreOutcome::NothingStored)
        );
        assert!(handle.snapshot().is_empty());
        let report = handle.refresh(&file_source(&path, None)).await.unwrap();
        assert!(report.persisted);
        assert_eq!(handle.status().last_persist_error, None);
    }
    // Everything dropped; the list file is gone too (no network at restart).
    std::fs::remove_file(&path).unwrap();
    let handle = TrustListHandle::restore(open(dir.path()), RefreshPolicy::default())
        .await
        .unwrap();
    let list = handle.snapshot();
    assert_eq!(list.domain_count(), 300);
    assert_eq!(list.entry_count(), entries.len());
    match handle.status().restored {
        Some(RestoreOutcome::Restored {
            domains,
            generated_at,
        }) => {
            assert_eq!(domains, 300);
            assert_eq!(Some(generated_at), list.generated_at());
        }
        other => panic!("{other:?}"),
    }
    for i in 0..300 {
        let domain = normalised("p", i);
        assert!(handle.is_listed(&domain), "{domain}");
        let dn = DistinguishedName::parse(&operator_dn(i, 0)).unwrap();
        assert!(handle.dn_allowed(&domain, &dn), "{domain}");
        assert_eq!(handle.domains_for_dn(&dn), vec![domain.clone()]);
    }
    // The restored list keeps its date: an older download is still refused after restart.
    let older = write(dir.path(), "old.xml", list_xml(&day(4), &entries));
    let err = handle
        .refresh(&file_source(&older, None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "older");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unparsable_saved_copy_starts_empty_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .put_document(
            STORE_DOCUMENT,
            b"<ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\"><DateDe"
                .to_vec(),
        )
        .await
        .unwrap();
    let handle = TrustListHandle::restore(store.clone(), RefreshPolicy::default())
        .await
        .unwrap();
    assert!(handle.snapshot().is_empty());
    match handle.status().restored {
        Some(RestoreOutcome::Unusable { reason }) => {
            assert!(reason.contains("truncated"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // A refresh then works and replaces the bad copy.
    let path = write(
        dir.path(),
        "l.xml",
        list_xml(&day(5), &generated_entries("q", 10)),
    );
    handle.refresh(&file_source(&path, None)).await.unwrap();
    let again = TrustListHandle::restore(store, RefreshPolicy::default())
        .await
        .unwrap();
    assert_eq!(again.snapshot().domain_count(), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handle_without_store_does_not_persist() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "l.xml",
        list_xml(&day(5), &generated_entries("r", 3)),
    );
    let handle = TrustListHandle::new(RefreshPolicy::default());
    let report = handle.refresh(&file_source(&path, None)).await.unwrap();
    assert!(!report.persisted);
    assert_eq!(handle.status().restored, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_attempt_saves_the_refresh_history_for_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let handle = TrustListHandle::restore(store.clone(), RefreshPolicy::default())
        .await
        .unwrap();
    let entries = generated_entries("h", 10);
    let good = write(dir.path(), "good.xml", list_xml(&day(5), &entries));
    handle.refresh(&file_source(&good, None)).await.unwrap();
    let status = saved_status(&store).await;
    assert_eq!(status["last_result"]["result"], "accepted");
    assert_eq!(status["accepted"], 1);

    let older = write(dir.path(), "older.xml", list_xml(&day(2), &entries));
    assert!(handle.refresh(&file_source(&older, None)).await.is_err());
    let status = saved_status(&store).await;
    assert_eq!(status["last_result"]["result"], "refused");
    assert_eq!(status["last_result"]["kind"], "older");
    assert_eq!(
        (status["accepted"].as_u64(), status["refused"].as_u64()),
        (Some(1), Some(1))
    );
}

async fn saved_status(store: &Arc<dyn Store>) -> serde_json::Value {
    let bytes = store
        .document(mssd_trust_list::STATUS_DOCUMENT)
        .await
        .unwrap()
        .expect("status saved");
    serde_json::from_slice(&bytes).unwrap()
}

/// A running server's handle follows the list another process (the CLI) saved in the
/// store: put in force once, not again while unchanged; a saved copy that does not parse is
/// reported once and the list in force stays.
#[tokio::test(flavor = "multi_thread")]
async fn the_handle_follows_a_list_another_process_saved() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let first = write(
        dir.path(),
        "a.xml",
        list_xml(&day(5), &generated_entries("p", 3)),
    );
    let server = TrustListHandle::restore(store.clone(), RefreshPolicy::default())
        .await
        .unwrap();
    server.refresh(&file_source(&first, None)).await.unwrap();
    assert!(
        !server.follow_store().await.unwrap(),
        "its own list: nothing to do"
    );

    // The CLI's handle saves another list (forced: it removes every domain).
    let second = write(
        dir.path(),
        "b.xml",
        list_xml(&day(6), &generated_entries("q", 2)),
    );
    let cli = TrustListHandle::restore(store.clone(), RefreshPolicy::default())
        .await
        .unwrap();
    cli.load_forced(&file_source(&second, None)).await.unwrap();
    assert!(server.is_listed(&normalised("p", 0)));
    assert!(server.follow_store().await.unwrap());
    assert!(server.is_listed(&normalised("q", 0)) && !server.is_listed(&normalised("p", 0)));
    assert!(!server.follow_store().await.unwrap(), "followed once");

    // A saved copy that does not parse: refused once, then left alone; the list stays.
    store
        .put_document(STORE_DOCUMENT, b"<not a list".to_vec())
        .await
        .unwrap();
    assert!(server.follow_store().await.is_err());
    assert!(!server.follow_store().await.unwrap());
    assert!(server.is_listed(&normalised("q", 0)));
}
