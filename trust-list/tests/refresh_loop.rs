//! The background loop refreshes on its interval and picks up a newer list.

mod common;

use std::time::Duration;

use common::{day, file_source, list_xml, simple_entries, write};
use mssd_trust_list::{MIN_REFRESH_INTERVAL, RefreshPolicy, TrustListHandle, spawn_refresh_loop};

#[tokio::test(flavor = "multi_thread")]
async fn loop_refreshes_until_aborted() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "l.xml",
        list_xml(&day(1), &simple_entries("a", 0..10)),
    );
    let handle = TrustListHandle::new(RefreshPolicy::default());
    let task = spawn_refresh_loop(
        handle.clone(),
        file_source(&path, None),
        MIN_REFRESH_INTERVAL,
    );

    wait_for(|| handle.is_listed("d0.a.fr")).await;
    // Later ticks find the same list: unchanged.
    wait_for(|| handle.status().unchanged >= 1).await;
    // A newer list adding domains replaces it on a later tick.
    let mut entries = simple_entries("a", 0..10);
    entries.extend(simple_entries("b", 0..3));
    replace(&path, list_xml(&day(2), &entries));
    wait_for(|| handle.is_listed("d2.b.fr")).await;
    // A broken file afterwards is refused; the list stays.
    replace(&path, "<ListeBlancheMSSante".to_owned());
    wait_for(|| handle.status().refused > 0).await;
    assert!(handle.is_listed("d2.b.fr"));
    let status = handle.status();
    assert_eq!(status.accepted, 2);

    task.abort();
    let attempts = handle.status().last_attempt;
    tokio::time::sleep(MIN_REFRESH_INTERVAL * 2).await;
    assert_eq!(
        handle.status().last_attempt,
        attempts,
        "aborted loop is stopped"
    );
}

/// Replaces the file atomically, so the loop never reads it half written.
fn replace(path: &std::path::Path, content: String) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn wait_for(mut condition: impl FnMut() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition not met within 4 s");
}
