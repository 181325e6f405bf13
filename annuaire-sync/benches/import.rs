//! Import and lookup benchmark: generates a 600,000-line Extraction_Correspondance_MSSante and
//! a 2,500,000-line PS_LibreAcces_Personne_activite with the real headers, imports each into a
//! fresh store, and prints time, peak RSS and lookups per second.
//! Run: `cargo bench -p mssd-annuaire --bench import` (line counts: ANNUAIRE_BENCH_BAL,
//! ANNUAIRE_BENCH_PS). Targets: ≤ 10 s and ≤ 45 s, peak RSS < 300 MB, ≥ 50,000 lookups/s.

#[path = "../tests/common/generate.rs"]
mod generate;

use std::time::Instant;

use mssd_annuaire::extraction::ProgressMode;
use mssd_annuaire::{Directory, ImportOptions, import_file};
use mssd_store::{SqliteOptions, SqliteStore};

/// The allocator of the mssd binary, so that peak RSS is what the server would show.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn count(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size so far, from /proc/self/status (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Current resident set size, in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let bal_lines = count("ANNUAIRE_BENCH_BAL", 600_000);
    let ps_lines = count("ANNUAIRE_BENCH_PS", 2_500_000);
    let options = ImportOptions {
        progress: ProgressMode::Off,
        ..ImportOptions::default()
    };

    let bal = dir
        .path()
        .join("Extraction_Correspondance_MSSante_202501010000.txt");
    let started = Instant::now();
    generate::write_correspondance(&bal, bal_lines);
    let size = std::fs::metadata(&bal).unwrap().len();
    println!(
        "generated {bal_lines} mailbox lines ({:.0} MB) in {:.1} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let store = SqliteStore::open(&dir.path().join("bal.db"), SqliteOptions::default()).unwrap();
    let started = Instant::now();
    let report = import_file(&store, &bal, &options).await.unwrap();
    println!(
        "import Extraction_Correspondance_MSSante: {} lines, {} mailboxes in {:.2} s; peak RSS {:.0} MB",
        report.counts.lines,
        report.entries,
        started.elapsed().as_secs_f64(),
        peak_rss_mb()
    );

    println!("before loading the index: RSS {:.0} MB", rss_mb());
    let started = Instant::now();
    let directory = Directory::load(&store).await.unwrap();
    println!(
        "lookup index: {} entries ({:.0} MB) loaded in {:.2} s; RSS {:.0} MB (peak {:.0} MB)",
        directory.len(),
        directory.memory_bytes() as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        rss_mb(),
        peak_rss_mb()
    );
    let queries: Vec<String> = (0..10_000u64)
        .map(|i| {
            let n = i * 59 % bal_lines.max(1);
            match i % 4 {
                0 => format!("bal.{n}@etab-{}.mssante.fr", n % 997),
                1 => generate::rpps(n - n % 10 + 2),
                2 => format!("dupont{}", n / 8),
                _ => format!("1{:09}", 100_000 + n / 50),
            }
        })
        .collect();
    let started = Instant::now();
    let mut hits = 0usize;
    let rounds = 10;
    for _ in 0..rounds {
        for q in &queries {
            hits += directory.lookup(q, 20).len();
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = (queries.len() * rounds) as f64;
    println!(
        "lookups: {:.0} lookups/s ({total} mixed queries: address, RPPS, name prefix, structure; {hits} hits)",
        total / elapsed
    );
    drop(directory);
    store.close().await.unwrap();
    std::fs::remove_file(&bal).ok();

    let ps = dir
        .path()
        .join("PS_LibreAcces_Personne_activite_202501010000.txt");
    let started = Instant::now();
    generate::write_personne(&ps, ps_lines);
    let size = std::fs::metadata(&ps).unwrap().len();
    println!(
        "generated {ps_lines} activity lines ({:.0} MB) in {:.1} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let store = SqliteStore::open(&dir.path().join("ps.db"), SqliteOptions::default()).unwrap();
    let started = Instant::now();
    let report = import_file(&store, &ps, &options).await.unwrap();
    println!(
        "import PS_LibreAcces_Personne_activite: {} lines, {} professionals in {:.2} s; peak RSS {:.0} MB",
        report.counts.lines,
        report.entries,
        started.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
    store.close().await.unwrap();
}
