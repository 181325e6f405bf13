//! What a full liste blanche refresh of 10,000 entries costs an operator, where that time goes,
//! and lookups per second on one thread.
//!
//! Run with `cargo bench -p mssd-trust-list --bench parse_and_lookup`; add `-- refresh` or
//! `-- lookups` to run one part only, `-- profile` to run 100 refreshes back to back (for perf).

/// The allocator the server uses (server/src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{
    Entry, day, domain_name, file_source, generated_entries, list_xml, normalised, operator_dn,
    operator_dn_respelled,
};
use mssd_certs::DistinguishedName;
use mssd_trust_list::{
    Checksum, DnKey, Location, OperatorDn, RefreshPolicy, TrustListDiff, TrustListHandle, parse,
};

/// 5,000 domains with 1 to 3 DNs each (9,999 entries) plus one: 10,000 entries.
const DOMAINS: usize = 5_000;
const ENTRIES: usize = 10_000;
/// Timed runs per figure; the median is quoted.
const RUNS: usize = 21;
const LOOKUPS: usize = 20_000_000;

fn main() {
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    // Figures on a shared 2-core machine mean little without the load they were taken at.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!(
            "load average (1, 5, 15 min): {}",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let wants = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if wants("refresh") {
        refresh();
    }
    if wants("lookups") {
        lookups();
    }
    if only.as_deref() == Some("profile") {
        profile();
    }
}

/// List A: the generated list. List B: A after a day of churn (1% of the domains replaced by
/// new ones, one DN changed on another 1%), so that alternating them makes every refresh
/// accepted with a real diff, as in production.
fn lists() -> (Vec<Entry>, Vec<Entry>) {
    let mut a = generated_entries("bench", DOMAINS);
    a.push(Entry::new(
        domain_name("bench", DOMAINS),
        operator_dn(DOMAINS, 0),
    ));
    assert_eq!(a.len(), ENTRIES);
    let removed: std::collections::HashSet<String> = (50..DOMAINS)
        .step_by(100)
        .map(|i| domain_name("bench", i))
        .collect();
    let mut b: Vec<Entry> = a
        .iter()
        .filter(|e| !removed.contains(&e.name))
        .cloned()
        .collect();
    for i in (10..DOMAINS).step_by(100) {
        if let Some(e) = b.iter_mut().find(|e| e.dn == operator_dn(i, 0)) {
            e.dn = operator_dn(i, 7);
        }
    }
    let mut fresh = 0;
    while b.len() < ENTRIES {
        b.push(Entry::new(
            domain_name("new", fresh),
            operator_dn(100_000 + fresh, 0),
        ));
        fresh += 1;
    }
    (a, b)
}

fn refresh() {
    let (a, b) = lists();
    let xml_a = list_xml(&day(1), &a);
    let xml_b = list_xml(&day(2), &b);
    println!(
        "list: {} entries, {} domains, {} KiB of XML",
        a.len(),
        DOMAINS + 1,
        xml_a.len() / 1024
    );

    // The whole refresh an operator pays, as `TrustListHandle::refresh` does it: read the
    // file and its published .sha256, SHA-256 and compare, parse, non-empty and age rules,
    // diff against the list in force, removal-share rule, swap. Lists A and B alternate with
    // increasing dates, so each run is accepted with ~100 domains added/removed and ~50 DNs
    // changed. Not included: saving to the store (an fsync, disk-bound) and freeing the
    // previous list, which runs on a blocking thread after the swap.
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = TrustListHandle::new(RefreshPolicy::default());
    let timed_refresh = |n: usize| {
        let entries = if n.is_multiple_of(2) { &a } else { &b };
        let xml = list_xml(&day(n as u32 + 10), entries);
        let source = source_with_checksum(dir.path(), &xml);
        let cpu = cpu_time();
        let started = Instant::now();
        let report = runtime.block_on(handle.refresh(&source)).unwrap();
        let elapsed = started.elapsed();
        let cpu = cpu_time()
            .zip(cpu)
            .map(|(after, before)| after.saturating_sub(before));
        black_box(report);
        // Let the previous list be freed before the next run starts.
        std::thread::sleep(Duration::from_millis(30));
        (elapsed, cpu)
    };
    let first = timed_refresh(0).0;
    let (runs, cpu): (Vec<Duration>, Vec<Option<Duration>>) = (1..=RUNS).map(timed_refresh).unzip();
    let cpu: Option<Vec<Duration>> = cpu.into_iter().collect();
    // The same bytes again (most hourly refreshes): read, hash, compare, nothing else.
    let same = source_with_checksum(dir.path(), &list_xml(&day(RUNS as u32 + 10), &b));
    let unchanged = median_of(|| runtime.block_on(handle.refresh(&same)).unwrap());
    let diff = TrustListDiff::between(
        &parse(xml_a.as_bytes()).unwrap(),
        &parse(xml_b.as_bytes()).unwrap(),
    )
    .summary();
    println!(
        "FULL REFRESH of {ENTRIES} entries (read + SHA-256 + checksum check + parse + diff + \
         policy + swap): median {:.1} ms over {RUNS} runs (min {:.1}, max {:.1}); target < 50 ms",
        median_ms(&runs),
        min_ms(&runs),
        max_ms(&runs)
    );
    // CPU time is what a busy machine does not inflate much: compare it when the load differs.
    match cpu {
        Some(cpu) => println!(
            "  CPU time of a refresh (all threads): median {:.1} ms",
            median_ms(&cpu)
        ),
        None => println!("  CPU time of a refresh: not available here"),
    }
    println!(
        "  each run: {} domains added, {} removed, {} DNs added, {} removed; first load into \
         an empty handle (one run): {:.1} ms",
        diff.domains_added,
        diff.domains_removed,
        diff.dns_added,
        diff.dns_removed,
        first.as_secs_f64() * 1000.0
    );
    println!("  refresh offering the list in force again (unchanged): median {unchanged:.1} ms");

    // Where the time goes (each a median of RUNS runs).
    let source = source_with_checksum(dir.path(), &xml_a);
    println!(
        "  of which reading the file (Fetcher::fetch): {:.1} ms",
        median_of(|| runtime
            .block_on(source.fetcher.fetch(&source.list))
            .unwrap())
    );
    println!(
        "  of which SHA-256: {:.1} ms",
        median_of(|| black_box(common::sha256_hex(black_box(xml_a.as_bytes()))))
    );
    println!(
        "  parse alone, nothing reused from a list in force (SHA-256 included): {:.1} ms",
        median_of(|| parse(black_box(xml_a.as_bytes())).unwrap())
    );
    let (list_a, list_b) = (
        parse(xml_a.as_bytes()).unwrap(),
        parse(xml_b.as_bytes()).unwrap(),
    );
    println!(
        "  of which diff: {:.2} ms",
        median_of(|| TrustListDiff::between(black_box(&list_a), black_box(&list_b)))
    );
    let mut drops = Vec::new();
    for _ in 0..RUNS {
        let list = parse(xml_a.as_bytes()).unwrap();
        let started = Instant::now();
        drop(black_box(list));
        drops.push(started.elapsed());
    }
    println!(
        "  (off the refresh path) freeing the previous list: {:.1} ms",
        median_ms(&drops)
    );
    println!(
        "  parse breakdown: quick-xml events {:.1} ms, normalize_domain x{ENTRIES} {:.1} ms, \
         OperatorDn::parse x{ENTRIES} {:.1} ms (DistinguishedName::parse would be {:.1} ms)",
        median_of(|| xml_events(&xml_a)),
        median_of(|| {
            for e in &a {
                black_box(mssd_core::normalize_domain(black_box(&e.name)).unwrap());
            }
        }),
        median_of(|| {
            a.iter()
                .map(|e| OperatorDn::parse(black_box(&e.dn)).unwrap())
                .collect::<Vec<_>>()
        }),
        median_of(|| {
            a.iter()
                .map(|e| DistinguishedName::parse(black_box(&e.dn)).unwrap())
                .collect::<Vec<_>>()
        }),
    );
}

/// Refreshes alternating lists A and B, nothing else: what a profiler should look at.
fn profile() {
    let (a, b) = lists();
    let dir = tempfile::tempdir().unwrap();
    let sources: Vec<_> = (0..100u32)
        .map(|n| {
            let entries = if n.is_multiple_of(2) { &a } else { &b };
            let sub = dir.path().join(n.to_string());
            std::fs::create_dir(&sub).unwrap();
            source_with_checksum(&sub, &list_xml(&day(n + 10), entries))
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = TrustListHandle::new(RefreshPolicy::default());
    for source in &sources {
        black_box(runtime.block_on(handle.refresh(source)).unwrap());
    }
}

/// Writes the list and the checksum document ANS publishes beside it; the source reads both.
fn source_with_checksum(dir: &Path, xml: &str) -> mssd_trust_list::TrustListSource {
    let list = common::write(dir, "l.xml", xml);
    let sum = format!("{}  l.xml\n", common::sha256_hex(xml.as_bytes()));
    let sum = common::write(dir, "l.xml.sha256", sum);
    file_source(&list, Some(Checksum::At(Location::File(sum))))
}

/// The bare quick-xml loop the parser runs (namespace scopes kept, start tags resolved): the
/// floor of any parse.
fn xml_events(xml: &str) -> usize {
    let mut reader = quick_xml::NsReader::from_str(xml);
    let mut events = 0usize;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) | Err(_) => break,
            Ok(quick_xml::events::Event::Start(start)) => {
                black_box(reader.resolver().resolve_element(start.name()));
                events += 1;
            }
            Ok(event) => {
                black_box(event);
                events += 1;
            }
        }
    }
    events
}

fn lookups() {
    let entries = generated_entries("bench", DOMAINS);
    let handle = TrustListHandle::new(RefreshPolicy::default());
    let dir = tempfile::tempdir().unwrap();
    let source = source_with_checksum(dir.path(), &list_xml(&day(1), &entries));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(handle.refresh(&source)).unwrap();

    // Half listed, half unlisted domains; half of the DN checks allowed. The DNs are spelled
    // as certificates give them (other order, case and spacing).
    let listed: Vec<String> = (0..DOMAINS).map(|i| normalised("bench", i)).collect();
    let unlisted: Vec<String> = (0..DOMAINS)
        .map(|i| format!("absent-{i}.bench.mssante.fr"))
        .collect();
    let dns: Vec<DistinguishedName> = (0..DOMAINS)
        .map(|i| DistinguishedName::parse(&operator_dn_respelled(i, 0)).unwrap())
        .collect();
    // What a connection computes once from its peer's certificate.
    let keys: Vec<DnKey> = dns.iter().map(DnKey::new).collect();
    let list = handle.snapshot();
    let started = Instant::now();
    let mut hits = 0usize;
    for k in 0..LOOKUPS {
        let i = (k.wrapping_mul(7919)) % DOMAINS;
        let hit = match k % 4 {
            0 => list.is_listed(black_box(&listed[i])),
            1 => list.is_listed(black_box(&unlisted[i])),
            2 => list.dn_key_allowed(black_box(&listed[i]), black_box(&keys[i])),
            _ => list.dn_key_allowed(black_box(&listed[i]), black_box(&keys[(i + 1) % DOMAINS])),
        };
        hits += usize::from(hit);
    }
    let elapsed = started.elapsed();
    assert_eq!(hits, LOOKUPS / 2, "exactly the listed/allowed half hits");
    println!(
        "snapshot lookups (is_listed, dn_key_allowed): {:.1} million/s on one thread \
         (target > 5 million/s)",
        LOOKUPS as f64 / elapsed.as_secs_f64() / 1e6
    );

    let rate = |per_call: &dyn Fn(usize) -> bool, calls: usize| {
        let started = Instant::now();
        let mut hits = 0usize;
        for k in 0..calls {
            hits += usize::from(per_call((k.wrapping_mul(7919)) % DOMAINS));
        }
        assert_eq!(hits, calls);
        calls as f64 / started.elapsed().as_secs_f64() / 1e6
    };
    println!(
        "handle dn_key_allowed (ArcSwap load each call): {:.1} million/s",
        rate(
            &|i| handle.dn_key_allowed(black_box(&listed[i]), black_box(&keys[i])),
            LOOKUPS / 4
        )
    );
    println!(
        "handle dn_allowed with a DistinguishedName (its key made on each call): {:.1} million/s",
        rate(
            &|i| handle.dn_allowed(black_box(&listed[i]), black_box(&dns[i])),
            LOOKUPS / 20
        )
    );
}

/// Median of RUNS timed calls of `f`, in ms; what `f` returns is dropped outside the timing.
fn median_of<T>(mut f: impl FnMut() -> T) -> f64 {
    let times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let out = black_box(f());
            let elapsed = started.elapsed();
            drop(out);
            elapsed
        })
        .collect();
    median_ms(&times)
}

/// CPU time used so far by the live threads of this process (Linux schedstat), `None` where
/// unavailable. The bench's threads (main, tokio's blocking pool) outlive the runs.
fn cpu_time() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

fn median_ms(times: &[Duration]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2].as_secs_f64() * 1000.0
}

fn min_ms(times: &[Duration]) -> f64 {
    times.iter().min().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn max_ms(times: &[Duration]) -> f64 {
    times.iter().max().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
