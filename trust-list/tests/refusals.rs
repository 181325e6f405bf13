//! Each refusal keeps the previous list in force and records why in the status.

mod common;

use common::{
    Entry, assert_refused, day, file_source, list_xml, sha256_hex, simple_entries, write,
};
use mssd_trust_list::{
    Checksum, FetchOptions, Fetcher, Location, RefreshOutcome, RefreshPolicy, TrustListHandle,
    TrustListSource,
};

/// A handle with list A (d0..d99.a.fr, generated on day 10) in force, and a scratch dir.
async fn with_list_a() -> (TrustListHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "a.xml",
        list_xml(&day(10), &simple_entries("a", 0..100)),
    );
    let handle = TrustListHandle::new(RefreshPolicy::default());
    let report = handle.refresh(&file_source(&path, None)).await.unwrap();
    assert!(matches!(
        report.outcome,
        RefreshOutcome::Accepted { forced: false, .. }
    ));
    assert_eq!(report.diff.domains_added.len(), 100);
    (handle, dir)
}

fn assert_list_a_in_force(handle: &TrustListHandle) {
    let list = handle.snapshot();
    assert_eq!(list.domain_count(), 100);
    assert!(handle.is_listed("d0.a.fr") && handle.is_listed("d99.a.fr"));
    assert_eq!(
        handle.status().generated_at.map(|t| t.to_string()),
        list.generated_at().map(|t| t.to_string())
    );
    assert_eq!(handle.status().domains, 100);
}

/// Offers `content` as a file and checks the refusal.
async fn refused_file(content: &[u8], kind: &str, text: &str) {
    let (handle, dir) = with_list_a().await;
    let path = write(dir.path(), "offered.xml", content);
    let err = handle
        .refresh(&file_source(&path, None))
        .await
        .expect_err("must be refused");
    assert_eq!(err.kind(), kind, "{err}");
    assert_list_a_in_force(&handle);
    let status = handle.status();
    assert_refused(&status, kind, text, 1);
    assert_eq!((status.accepted, status.refused_by_kind[kind]), (1, 1));
}

#[tokio::test]
async fn truncated_list_is_refused() {
    let full = list_xml(&day(11), &simple_entries("a", 0..100));
    // Cut as published files in the wild were: no closing tags.
    let cut = &full[..full.len() * 2 / 3];
    refused_file(cut.as_bytes(), "truncated", "truncated").await;
}

#[tokio::test]
async fn not_xml_is_refused() {
    refused_file(
        b"<html><body>502 Bad Gateway</body></html>",
        "parse",
        "wrong root element",
    )
    .await;
    refused_file(b"Service Unavailable", "parse", "not an XML").await;
}

#[tokio::test]
async fn empty_list_is_refused() {
    refused_file(list_xml(&day(11), &[]).as_bytes(), "empty", "no domain").await;
    // Only invalid entries: empty too.
    let bad = vec![Entry::new("bad_name.fr", "CN=x,C=FR")];
    refused_file(
        list_xml(&day(11), &bad).as_bytes(),
        "empty",
        "1 entries skipped",
    )
    .await;
}

#[tokio::test]
async fn older_list_is_refused_and_same_date_is_unchanged() {
    let entries = simple_entries("a", 0..100);
    refused_file(
        list_xml(&day(9), &entries).as_bytes(),
        "older",
        "older than the one in force",
    )
    .await;

    let (handle, dir) = with_list_a().await;
    // Same date, even with other content: unchanged, not an error, nothing swapped.
    let same_date = write(
        dir.path(),
        "same.xml",
        list_xml(&day(10), &simple_entries("z", 0..5)),
    );
    let report = handle
        .refresh(&file_source(&same_date, None))
        .await
        .unwrap();
    assert_eq!(report.outcome, RefreshOutcome::Unchanged);
    assert!(report.diff.is_empty());
    assert_list_a_in_force(&handle);
    let status = handle.status();
    assert_eq!(
        (status.accepted, status.unchanged, status.refused),
        (1, 1, 0)
    );
    assert_eq!(status.last_result, Some(RefreshOutcome::Unchanged));
}

#[tokio::test]
async fn the_same_bytes_again_are_unchanged() {
    let (handle, dir) = with_list_a().await;
    let before = handle.snapshot();
    let report = handle
        .refresh(&file_source(&dir.path().join("a.xml"), None))
        .await
        .unwrap();
    assert_eq!(report.outcome, RefreshOutcome::Unchanged);
    assert!(report.diff.is_empty() && !report.persisted);
    assert_eq!(
        (report.domains, report.entries, report.sha256.as_str()),
        (100, 100, before.sha256().unwrap())
    );
    assert!(
        std::sync::Arc::ptr_eq(&before, &handle.snapshot()),
        "nothing swapped"
    );
    assert_eq!(handle.status().unchanged, 1);
}

#[tokio::test]
async fn removing_more_than_the_share_is_refused_and_exactly_the_limit_accepted() {
    // 79 of 100 kept: 21 % removed.
    let too_many = list_xml(&day(11), &simple_entries("a", 0..79));
    refused_file(too_many.as_bytes(), "removal_share", "remove 21 of the 100").await;

    let (handle, dir) = with_list_a().await;
    // 80 kept plus 30 new: exactly 20 % removed, accepted.
    let mut entries = simple_entries("a", 0..80);
    entries.extend(simple_entries("n", 0..30));
    let path = write(dir.path(), "limit.xml", list_xml(&day(11), &entries));
    let report = handle.refresh(&file_source(&path, None)).await.unwrap();
    let summary = match report.outcome {
        RefreshOutcome::Accepted { summary, forced } => {
            assert!(!forced);
            summary
        }
        other => panic!("{other:?}"),
    };
    assert_eq!((summary.domains_removed, summary.domains_added), (20, 30));
    assert_eq!(
        report.diff.domains_removed.first().map(String::as_str),
        Some("d80.a.fr")
    );
    assert!(!handle.is_listed("d80.a.fr"));
    assert!(handle.is_listed("d0.n.fr"));
    assert_eq!(handle.status().domains, 110);
}

#[tokio::test]
async fn forced_load_skips_age_and_removal_rules_only() {
    let (handle, dir) = with_list_a().await;
    // Older AND removes 95 %: refused by refresh, accepted by load_forced.
    let path = write(
        dir.path(),
        "small.xml",
        list_xml(&day(1), &simple_entries("a", 0..5)),
    );
    let source = file_source(&path, None);
    assert_eq!(handle.refresh(&source).await.unwrap_err().kind(), "older");
    let report = handle.load_forced(&source).await.unwrap();
    assert!(matches!(
        report.outcome,
        RefreshOutcome::Accepted { forced: true, .. }
    ));
    assert_eq!(handle.snapshot().domain_count(), 5);

    // Force never skips checksum or parse rules.
    let wrong = Checksum::Hex("0".repeat(64));
    let err = handle
        .load_forced(&file_source(&path, Some(wrong)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "checksum");
    let truncated = write(
        dir.path(),
        "cut.xml",
        &list_xml(&day(20), &simple_entries("a", 0..5))[..200],
    );
    let err = handle
        .load_forced(&file_source(&truncated, None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "truncated");
    let empty = write(dir.path(), "empty.xml", list_xml(&day(20), &[]));
    assert_eq!(
        handle
            .load_forced(&file_source(&empty, None))
            .await
            .unwrap_err()
            .kind(),
        "empty"
    );
    assert_eq!(handle.snapshot().domain_count(), 5);
}

#[tokio::test]
async fn checksum_mismatch_is_refused() {
    let (handle, dir) = with_list_a().await;
    let content = list_xml(&day(11), &simple_entries("a", 0..100));
    let path = write(dir.path(), "b.xml", &content);
    let good = sha256_hex(content.as_bytes());
    let other = sha256_hex(b"another file");

    // A configured hex value that does not match.
    let err = handle
        .refresh(&file_source(&path, Some(Checksum::Hex(other.clone()))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "checksum");
    assert_list_a_in_force(&handle);
    assert_refused(&handle.status(), "checksum", &other, 1);

    // A checksum file beside the list, as ANS publishes it, that does not match.
    let sum = write(dir.path(), "b.xml.sha256", format!("{other}  b.xml\n"));
    let checksum = Checksum::At(Location::File(sum.clone()));
    let err = handle
        .refresh(&file_source(&path, Some(checksum)))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&sum.display().to_string()),
        "{err}"
    );
    assert_refused(&handle.status(), "checksum", &good, 2);

    // A checksum file that holds no digest.
    let junk = write(dir.path(), "junk.sha256", "<html>404</html>");
    let err = handle
        .refresh(&file_source(
            &path,
            Some(Checksum::At(Location::File(junk))),
        ))
        .await
        .unwrap_err();
    assert_refused(&handle.status(), "checksum", "not a SHA-256 digest", 3);
    assert_eq!(err.kind(), "checksum");
    assert_list_a_in_force(&handle);

    // The matching checksum, upper case, is accepted.
    let sum = write(
        dir.path(),
        "ok.sha256",
        format!("{}\n", good.to_uppercase()),
    );
    let report = handle
        .refresh(&file_source(&path, Some(Checksum::At(Location::File(sum)))))
        .await
        .unwrap();
    assert_eq!(report.sha256, good);
    assert_eq!(handle.status().sha256.as_deref(), Some(good.as_str()));
}

#[tokio::test]
async fn download_failures_are_refused() {
    let (handle, dir) = with_list_a().await;
    // Connection refused: a port that was just free.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let pki = common::https::TestPki::new("TEST ROOT A");
    let fetcher = Fetcher::new(&[pki.root_der()], FetchOptions::default()).unwrap();
    let source = TrustListSource::new(
        Location::parse(&format!("https://127.0.0.1:{port}/liste.xml")).unwrap(),
        None,
        fetcher,
    );
    let err = handle.refresh(&source).await.unwrap_err();
    assert_eq!(err.kind(), "download", "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert_list_a_in_force(&handle);
    assert_refused(&handle.status(), "download", "failed", 1);

    // A missing file.
    let missing = dir.path().join("nowhere.xml");
    let err = handle
        .refresh(&file_source(&missing, None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nowhere.xml"), "{err}");
    assert_refused(&handle.status(), "download", "cannot read", 2);

    // Over the size bound.
    let big = write(
        dir.path(),
        "big.xml",
        list_xml(&day(11), &simple_entries("a", 0..100)),
    );
    let small_limit = FetchOptions {
        max_bytes: 1000,
        ..FetchOptions::default()
    };
    let source = TrustListSource::new(Location::File(big), None, Fetcher::files_only(small_limit));
    let err = handle.refresh(&source).await.unwrap_err();
    assert_refused(&handle.status(), "download", "limit of 1000 bytes", 3);
    assert_eq!(err.kind(), "download");

    // An https source with no anchor configured is not fetched at all.
    let no_anchor = TrustListSource::new(
        Location::parse("https://127.0.0.1:1/l.xml").unwrap(),
        None,
        Fetcher::files_only(FetchOptions::default()),
    );
    handle.refresh(&no_anchor).await.unwrap_err();
    assert_refused(
        &handle.status(),
        "download",
        "no HTTPS client configured",
        4,
    );
    assert_list_a_in_force(&handle);
    assert_eq!(handle.status().refused_by_kind["download"], 4);
}
