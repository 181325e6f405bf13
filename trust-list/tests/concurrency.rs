//! Readers looping on lookups while refreshes swap lists never see a mix of two lists.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{file_source, list_xml, simple_entries, write};
use mssd_trust_list::{RefreshPolicy, TrustListHandle};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_see_half_a_list() {
    let dir = tempfile::tempdir().unwrap();
    // Each list replaces all domains of the other: allow 100 % removal.
    let handle = TrustListHandle::new(RefreshPolicy::new(1.0).unwrap());
    let lists: Vec<_> = (0..40u32)
        .map(|n| {
            let zone = if n % 2 == 0 { "a" } else { "b" };
            let date = common::day(n);
            write(
                dir.path(),
                &format!("{n}.xml"),
                list_xml(&date, &simple_entries(zone, 0..200)),
            )
        })
        .collect();
    handle.refresh(&file_source(&lists[0], None)).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let seen_a = Arc::new(AtomicU64::new(0));
    let seen_b = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (handle, stop) = (handle.clone(), stop.clone());
            let (seen_a, seen_b) = (seen_a.clone(), seen_b.clone());
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let list = handle.snapshot();
                    let a = (list.is_listed("d0.a.fr"), list.is_listed("d199.a.fr"));
                    let b = (list.is_listed("d0.b.fr"), list.is_listed("d199.b.fr"));
                    assert!(
                        (a == (true, true) && b == (false, false))
                            || (a == (false, false) && b == (true, true)),
                        "mixed snapshot: a {a:?}, b {b:?}"
                    );
                    assert_eq!(list.domain_count(), 200);
                    if a.0 {
                        seen_a.fetch_add(1, Ordering::Relaxed);
                    } else {
                        seen_b.fetch_add(1, Ordering::Relaxed);
                    }
                    checks += 1;
                }
                checks
            })
        })
        .collect();

    for path in &lists[1..] {
        handle.refresh(&file_source(path, None)).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let checks: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(checks > 0);
    assert!(
        seen_a.load(Ordering::Relaxed) > 0 && seen_b.load(Ordering::Relaxed) > 0,
        "the readers should have seen both lists"
    );
    assert_eq!(handle.status().accepted, 40);
    // The last list (n = 39) is a `b` list.
    assert!(handle.is_listed("d5.b.fr") && !handle.is_listed("d5.a.fr"));
}
