//! Parse + swap time of a generated 10,000-entry list, and lookups per second on one thread.
//! Run with `cargo bench -p mssd-trust-list`.

/// The allocator the server uses (server/src/main.rs): the list is ~30 small strings per entry,
/// so allocation dominates parse and drop times.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{day, file_source, generated_entries, list_xml, normalised, operator_dn_respelled};
use mssd_certs::DistinguishedName;
use mssd_trust_list::{RefreshPolicy, TrustListHandle, parse};

/// 5,000 domains with 1 to 3 DNs each: 10,000 entries.
const DOMAINS: usize = 5_000;
const RUNS: u32 = 20;
const LOOKUPS: usize = 20_000_000;

fn main() {
    let entries = generated_entries("bench", DOMAINS);
    println!("list: {} entries, {DOMAINS} domains", entries.len());

    let xml = list_xml(&day(1), &entries);
    let mut drop_times = Vec::new();
    let parse_times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            let list = black_box(parse(black_box(xml.as_bytes())).unwrap());
            let parsed = started.elapsed();
            let started = Instant::now();
            drop(list);
            drop_times.push(started.elapsed());
            parsed
        })
        .collect();
    println!(
        "parse only ({} KiB): median {:.1} ms",
        xml.len() / 1024,
        median_ms(parse_times)
    );
    println!(
        "  dropping a parsed list: median {:.1} ms",
        median_ms(drop_times)
    );

    // Where parse time goes: SHA-256, the bare XML event loop, the per-entry normalisations.
    let started = Instant::now();
    black_box(common::sha256_hex(black_box(xml.as_bytes())));
    println!(
        "  of which SHA-256: {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let started = Instant::now();
    let mut reader = quick_xml::NsReader::from_str(&xml);
    let mut events = 0usize;
    loop {
        match reader.read_resolved_event().unwrap() {
            (_, quick_xml::events::Event::Eof) => break,
            (ns, event) => {
                black_box((ns, event));
                events += 1;
            }
        }
    }
    println!(
        "  of which quick-xml events ({events}): {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let started = Instant::now();
    for name in &names {
        black_box(mssd_core::normalize_domain(black_box(name)).unwrap());
    }
    println!(
        "  of which normalize_domain x{}: {:.1} ms",
        names.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let started = Instant::now();
    for entry in &entries {
        black_box(DistinguishedName::parse(black_box(&entry.dn)).unwrap());
    }
    println!(
        "  of which DistinguishedName::parse x{}: {:.1} ms",
        entries.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );

    // The whole accepted-refresh path: read file, SHA-256, parse, diff, swap.
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handle = TrustListHandle::new(RefreshPolicy::default());
    let refresh_times: Vec<Duration> = (0..RUNS)
        .map(|n| {
            let path = common::write(dir.path(), "l.xml", list_xml(&day(n + 2), &entries));
            let source = file_source(&path, None);
            let started = Instant::now();
            runtime.block_on(handle.refresh(&source)).unwrap();
            started.elapsed()
        })
        .collect();
    println!(
        "refresh (read + sha256 + parse + diff + swap): median {:.1} ms (target < 50 ms)",
        median_ms(refresh_times)
    );

    // Half listed, half unlisted domains; half of the DN checks allowed.
    let listed: Vec<String> = (0..DOMAINS).map(|i| normalised("bench", i)).collect();
    let unlisted: Vec<String> = (0..DOMAINS)
        .map(|i| format!("absent-{i}.bench.mssante.fr"))
        .collect();
    let dns: Vec<DistinguishedName> = (0..DOMAINS)
        .map(|i| DistinguishedName::parse(&operator_dn_respelled(i, 0)).unwrap())
        .collect();
    let list = handle.snapshot();
    let started = Instant::now();
    let mut hits = 0usize;
    for k in 0..LOOKUPS {
        let i = (k.wrapping_mul(7919)) % DOMAINS;
        let hit = match k % 4 {
            0 => list.is_listed(black_box(&listed[i])),
            1 => list.is_listed(black_box(&unlisted[i])),
            2 => list.dn_allowed(black_box(&listed[i]), black_box(&dns[i])),
            _ => list.dn_allowed(black_box(&listed[i]), black_box(&dns[(i + 1) % DOMAINS])),
        };
        hits += usize::from(hit);
    }
    let elapsed = started.elapsed();
    assert_eq!(hits, LOOKUPS / 2, "exactly the listed/allowed half hits");
    println!(
        "snapshot lookups: {:.1} million/s on one thread (target > 5 million/s)",
        LOOKUPS as f64 / elapsed.as_secs_f64() / 1e6
    );

    let started = Instant::now();
    let mut hits = 0usize;
    for k in 0..LOOKUPS / 4 {
        let i = (k.wrapping_mul(7919)) % DOMAINS;
        hits += usize::from(handle.dn_allowed(black_box(&listed[i]), black_box(&dns[i])));
    }
    assert_eq!(hits, LOOKUPS / 4);
    println!(
        "handle dn_allowed (ArcSwap load each call): {:.1} million/s",
        (LOOKUPS / 4) as f64 / started.elapsed().as_secs_f64() / 1e6
    );
}

fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}
