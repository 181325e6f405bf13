//! The throttle's decisions, driven by a test clock.

use super::*;

const SECOND: Duration = Duration::from_secs(1);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config() -> ThrottleConfig {
    ThrottleConfig {
        max_failures: 3,
        window: 600 * SECOND,
        initial_delay: 10 * SECOND,
        max_delay: 60 * SECOND,
        max_entries: 4,
    }
}

#[test]
fn delay_doubles_up_to_the_cap() {
    let cases = [(0, 10), (1, 20), (2, 40), (3, 60), (10, 60), (40, 60)];
    for (doublings, secs) in cases {
        assert_eq!(delay(&config(), doublings), secs * SECOND, "{doublings}");
    }
}

/// Each row: seconds since start, event, then the expected retry_after (seconds) for
/// (ip, account) right after it.
#[test]
fn failure_sequence_table() {
    enum Event {
        Fail(&'static str, &'static str),
        Success(&'static str, &'static str),
        Check(&'static str, &'static str),
    }
    use Event::*;
    let mut rows: Vec<(u32, Event, Option<u32>)> = vec![
        (0, Fail("192.0.2.1", "a@x.fr"), None),
        (1, Fail("192.0.2.1", "a@x.fr"), None),
        (2, Fail("192.0.2.1", "a@x.fr"), Some(10)),
        (5, Check("192.0.2.1", "a@x.fr"), Some(7)),
        // The account itself is never locked: from another IP it opens at once.
        (5, Check("192.0.2.9", "A@X.FR"), None),
        (5, Success("192.0.2.9", "A@X.FR"), None),
        // Nor is the IP, for another account, before IP_FAILURE_FACTOR times as many.
        (5, Check("192.0.2.1", "b@x.fr"), None),
        (12, Check("192.0.2.1", "a@x.fr"), None),
        (12, Fail("192.0.2.1", "a@x.fr"), Some(20)),
        (32, Fail("192.0.2.1", "a@x.fr"), Some(40)),
        (72, Fail("192.0.2.1", "a@x.fr"), Some(60)),
        (132, Fail("192.0.2.1", "a@x.fr"), Some(60)),
        // A success elsewhere does not clear this pair.
        (140, Success("192.0.2.77", "a@x.fr"), None),
        (140, Check("192.0.2.1", "a@x.fr"), Some(52)),
        // A success from the pair itself clears it.
        (200, Success("192.0.2.1", "a@x.fr"), None),
        (200, Fail("192.0.2.1", "a@x.fr"), None),
        // Past the window, old failures no longer count.
        (2000, Fail("192.0.2.1", "c@x.fr"), None),
        (2001, Fail("192.0.2.1", "c@x.fr"), None),
        (2002, Fail("192.0.2.1", "c@x.fr"), Some(10)),
    ];
    // A spray from one IP over many accounts blocks the IP at 3 x 4 = 12 failures.
    let spray = [
        "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
    ];
    for (i, account) in spray.iter().enumerate() {
        let expected = (i == spray.len() - 1).then_some(10);
        rows.push((3000 + i as u32, Fail("192.0.2.5", account), expected));
    }
    rows.push((3011, Check("192.0.2.5", "new@x.fr"), Some(10)));
    rows.push((3011, Check("192.0.2.6", "s0"), None));
    let start = Instant::now();
    let mut throttle = Throttle::new(config());
    for (at, event, expected) in &rows {
        let now = start + *at * SECOND;
        let (checked_ip, checked_account) = match event {
            Fail(i, a) => {
                throttle.record_failure(ip(i), Some(a), now);
                (*i, *a)
            }
            Success(i, a) => {
                let attempt = throttle.begin(ip(i), Some(a), now).expect("not blocked");
                throttle.finish(attempt, false, now);
                (*i, *a)
            }
            Check(i, a) => (*i, *a),
        };
        let got = throttle.retry_after(ip(checked_ip), Some(checked_account), now);
        assert_eq!(got, expected.map(|s| s * SECOND), "at {at}s");
    }
}

/// Attempts under way count as failures: of 64 simultaneous guesses for one account from
/// one IP, only max_failures are let through to the password check.
#[test]
fn attempts_in_flight_are_reserved() {
    let now = Instant::now();
    let mut throttle = Throttle::new(config());
    let mut admitted = Vec::new();
    let mut refused = 0;
    for _ in 0..64 {
        match throttle.begin(ip("192.0.2.1"), Some("a@x.fr"), now) {
            Ok(attempt) => admitted.push(attempt),
            Err(wait) => {
                assert_eq!(wait, SECOND);
                refused += 1;
            }
        }
    }
    assert_eq!((admitted.len(), refused), (3, 61));
    for attempt in admitted {
        throttle.finish(attempt, true, now);
    }
    assert_eq!(
        throttle.retry_after(ip("192.0.2.1"), Some("a@x.fr"), now),
        Some(10 * SECOND)
    );
    // Over many accounts, the IP's own limit (12) bounds the attempts in flight.
    let mut in_flight = Vec::new();
    for i in 0..64 {
        if let Ok(attempt) = throttle.begin(ip("192.0.2.2"), Some(&format!("u{i}@x.fr")), now) {
            in_flight.push(attempt);
        }
    }
    assert_eq!(in_flight.len(), 12);
}

#[test]
fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
    let cases = [
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
        ("::ffff:192.0.2.5", "192.0.2.5"),
        ("192.0.2.5", "192.0.2.5"),
    ];
    for (input, key) in cases {
        assert_eq!(client_source(ip(input)), ip(key), "{input}");
    }
    let start = Instant::now();
    let mut throttle = Throttle::new(config());
    // 12 failures (the IP limit) from 12 addresses of one /64.
    for i in 0..12u32 {
        let addr = format!("2001:db8::{}", i + 1);
        throttle.record_failure(ip(&addr), None, start + i * SECOND);
    }
    assert!(
        throttle
            .retry_after(ip("2001:db8::ffff"), None, start + 12 * SECOND)
            .is_some()
    );
    assert!(
        throttle
            .retry_after(ip("2001:db8:0:1::1"), None, start + 12 * SECOND)
            .is_none()
    );
}

#[test]
fn tables_are_bounded_and_forget_the_oldest() {
    let start = Instant::now();
    let mut throttle = Throttle::new(config());
    // Block 192.0.2.0 first, then touch 5 other IPs: the table holds 4.
    for s in 0..12 {
        throttle.record_failure(ip("192.0.2.0"), None, start + s * SECOND);
    }
    assert!(
        throttle
            .retry_after(ip("192.0.2.0"), None, start + 12 * SECOND)
            .is_some()
    );
    for i in 1..=5u32 {
        throttle.record_failure(
            ip(&format!("192.0.2.{i}")),
            Some(&format!("u{i}@x.fr")),
            start + (12 + i) * SECOND,
        );
        assert!(throttle.tracked_ips() <= 4);
        assert!(throttle.tracked_accounts() <= 4);
    }
    assert_eq!(throttle.tracked_ips(), 4);
    assert_eq!(
        throttle.retry_after(ip("192.0.2.0"), None, start + 18 * SECOND),
        None
    );
    // Touching an entry makes it the youngest: 192.0.2.2 survives the next insert and
    // reaches its 12th failure.
    for s in 20..30 {
        throttle.record_failure(ip("192.0.2.2"), None, start + s * SECOND);
    }
    throttle.record_failure(ip("192.0.2.9"), None, start + 30 * SECOND);
    throttle.record_failure(ip("192.0.2.2"), None, start + 31 * SECOND);
    assert!(
        throttle
            .retry_after(ip("192.0.2.2"), None, start + 31 * SECOND)
            .is_some()
    );
}
