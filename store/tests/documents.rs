//! Named documents: put, replace, read back after a reopen, name checks, corruption detection.

#[macro_use]
mod common;

use common::{Db, db_path, open_temp};
use mssd_store::{Error, SqliteOptions, SqliteStore, Store};

#[tokio::test(flavor = "multi_thread")]
async fn put_replace_and_read_back_after_reopen() {
    let db = open_temp();
    assert_eq!(db.store.document("trust-list").await.unwrap(), None);

    db.store
        .put_document("trust-list", b"first".to_vec())
        .await
        .unwrap();
    db.store
        .put_document("other", b"unrelated".to_vec())
        .await
        .unwrap();
    db.store
        .put_document("trust-list", b"second version".to_vec())
        .await
        .unwrap();
    assert_eq!(
        db.store.document("trust-list").await.unwrap().as_deref(),
        Some(&b"second version"[..])
    );
    assert_eq!(db.count("documents"), 2, "a put replaces, it does not add");

    let TestDbParts { dir, store } = split(db);
    store.close().await.unwrap();
    let reopened = SqliteStore::open(&db_path(dir.path()), SqliteOptions::default()).unwrap();
    assert_eq!(
        reopened.document("trust-list").await.unwrap().as_deref(),
        Some(&b"second version"[..])
    );
    assert_eq!(
        reopened.document("other").await.unwrap().as_deref(),
        Some(&b"unrelated"[..])
    );
}

async fn large_and_empty_documents_round_trip(db: Db) {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    db.store.put_document("big", big.clone()).await.unwrap();
    db.store.put_document("empty", Vec::new()).await.unwrap();
    assert_eq!(db.store.document("big").await.unwrap(), Some(big));
    assert_eq!(db.store.document("empty").await.unwrap(), Some(Vec::new()));
}

async fn invalid_names_are_refused(db: Db) {
    let long = "n".repeat(201);
    for name in ["", long.as_str()] {
        let err = db
            .store
            .put_document(name, b"x".to_vec())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Invalid { what, .. } if what == "document name"),
            "name of {} bytes: {err}",
            name.len()
        );
        let err = db.store.document(name).await.unwrap_err();
        assert!(matches!(&err, Error::Invalid { .. }), "{err}");
    }
    assert_eq!(db.count("documents").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_bytes_are_reported_corrupt() {
    let db = open_temp();
    db.store
        .put_document("trust-list", b"good list".to_vec())
        .await
        .unwrap();
    db.raw()
        .execute(
            "UPDATE documents SET bytes = X'00' WHERE name = 'trust-list'",
            [],
        )
        .unwrap();
    let err = db.store.document("trust-list").await.unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { table, detail } if table == "documents" && detail.contains("trust-list")),
        "{err}"
    );
}

struct TestDbParts {
    dir: tempfile::TempDir,
    store: SqliteStore,
}

fn split(db: common::TestDb) -> TestDbParts {
    TestDbParts {
        dir: db.dir,
        store: db.store,
    }
}

contract_tests!(
    large_and_empty_documents_round_trip,
    invalid_names_are_refused,
);
