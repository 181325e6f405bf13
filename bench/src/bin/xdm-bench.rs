//! XDM throughput: messages whose IHE_XDM.zip (about 100 KB, 1–3 real ANS CDA documents) is
//! found, read, checked and parsed, then delivered with their index rows through the real
//! SQLite store (fsync, group commit), on one core. Prints messages per second, the parse
//! share and the peak memory.
//!
//! `cargo run --release -p mssd-bench --bin xdm-bench -- [--messages N] [--concurrency C]
//!  [--samples DIR]`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use mssd_cda::XdmLimits;
use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};
use mssd_store::{Delivery, NewMailbox, SqliteStore, Store};

// The allocator of the mssd binary, so the figures match the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 4000)]
    messages: usize,
    /// Deliveries in flight (they share fsyncs through the store's group commit).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value = "../shared/real-data/cda")]
    samples: PathBuf,
    /// Do not pin the process to CPU 0.
    #[arg(long)]
    all_cores: bool,
    /// Then route to this many citizen mailboxes (INS checks, index); 0 skips it.
    #[arg(long, default_value_t = 10_000)]
    citizens: usize,
}

/// Sample sets: each gives one XDM message (1 to 3 documents).
const SETS: &[&[&str]] = &[
    &["BIO-CR-BIO_2024.01_TSH_1.xml"],
    &["LDL-SES_2022.01.xml", "CSE-CS8_2024.01.xml"],
    &[
        "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml",
        "LDL-SES_2022.01.xml",
    ],
    &[
        "LDL-SES_2022.01.xml",
        "BIO-CR-BIO_2024.01_Microbiologie_V2.xml",
        "CSE-CS8_2024.01.xml",
    ],
];

fn main() {
    let args = Args::parse();
    if !args.all_cores {
        pin_to_cpu0();
    }
    let messages: Vec<Arc<Vec<u8>>> = SETS
        .iter()
        .map(|set| {
            let cdas: Vec<Vec<u8>> = set
                .iter()
                .map(|f| std::fs::read(args.samples.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
                .collect();
            let docs: Vec<XdmDocument> = cdas
                .iter()
                .map(|c| XdmDocument {
                    cda: c,
                    ..Default::default()
                })
                .collect();
            let zip = xdm_zip(&docs, &["pfi@bench.test.mssante.fr"]);
            Arc::new(message_with_xdm(
                "a@x.fr",
                "pfi@bench.test.mssante.fr",
                "XDM/1.0/DDM+bench",
                "",
                &zip,
            ))
        })
        .collect();
    let zip_sizes: Vec<usize> = SETS
        .iter()
        .zip(&messages)
        .map(|(_, m)| {
            mssd_cda::attachment::find(m)
                .ok()
                .flatten()
                .map_or(0, |z| z.len())
        })
        .collect();
    println!(
        "XDM messages: {} kinds, zips of {:?} bytes, 1-3 documents each",
        SETS.len(),
        zip_sizes
    );

    // Parse only, one core.
    let limits = XdmLimits::default();
    let started = Instant::now();
    let rounds = args.messages;
    for i in 0..rounds {
        let package = mssd_cda::read_message(&messages[i % messages.len()], &limits)
            .unwrap()
            .unwrap();
        assert!(!package.documents.is_empty());
    }
    let parse = started.elapsed();
    println!(
        "parse only:                {:>8.0} messages/s ({:.2} ms each)",
        rounds as f64 / parse.as_secs_f64(),
        parse.as_secs_f64() * 1000.0 / rounds as f64
    );

    // For scale: the embedded sample (a 2 KB N1 CDA), the same path.
    let small = mssd_cda::samples::sample_message("a@x.fr", "pfi@bench.test.mssante.fr");
    let started = Instant::now();
    for _ in 0..rounds {
        let package = mssd_cda::read_message(&small, &limits).unwrap().unwrap();
        assert_eq!(package.documents.len(), 1);
    }
    let elapsed = started.elapsed();
    println!(
        "parse only, 2 KB sample:   {:>8.0} messages/s ({:.3} ms each)",
        rounds as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / rounds as f64
    );

    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("bench.sqlite3"), Default::default()).unwrap());
        let mailbox = store
            .create_mailbox(NewMailbox {
                address: mssd_core::Address::parse("pfi@bench.test.mssante.fr").unwrap(),
                kind: mssd_core::MailboxKind::App,
                display_name: None,
                owner_id_nat: None,
                password_hash: None,
                certificate_dn: None,
                quota_bytes: None,
            })
            .await
            .unwrap();
        let started = Instant::now();
        let jobs: Vec<Job> = messages
            .iter()
            .map(|m| Job { mailbox: mailbox.id, message: m.clone(), patient: None })
            .collect();
        run_jobs(&store, args.concurrency, args.messages, jobs, limits, Vec::new()).await;
        let elapsed = started.elapsed();
        let stats = store.stats();
        let indexed = store.documents(mailbox.id, true).await.unwrap().len();
        println!(
            "parse + index + deliver:   {:>8.0} messages/s ({} messages, {} documents indexed, {} commits for {} writes)",
            args.messages as f64 / elapsed.as_secs_f64(),
            args.messages,
            indexed,
            stats.commits,
            stats.writes
        );
    });
    if args.citizens > 0 {
        runtime.block_on(citizens::run(&args, &messages, &limits));
    }
    println!("peak memory (VmHWM):       {:>8} KiB", vm_hwm_kib());
}

mod citizens {
    //! Routing to citizen mailboxes: each message's documents are rewritten for one of
    //! 400 citizens (of `--citizens` mailboxes), then read, checked against the
    //! recipient's INS, indexed and delivered.

    use std::sync::Arc;
    use std::time::Instant;

    use mssd_cda::XdmLimits;
    use mssd_core::{Address, Ins};
    use mssd_store::{NewMailbox, SqliteStore, Store};

    /// The INS the sample documents name (CSE-CS8 has its own).
    const SAMPLE_INS: [&str; 2] = ["279035121518989", "223042545611404"];
    const DISTINCT: usize = 400;

    fn ins(n: usize) -> Ins {
        let nir = format!("1850775{n:06}");
        let key = 97 - (nir.parse::<u64>().unwrap() % 97);
        Ins::parse(&format!("{nir}{key:02}")).unwrap()
    }

    pub async fn run(args: &super::Args, messages: &[Arc<Vec<u8>>], limits: &XdmLimits) {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("citizens.sqlite3"), Default::default()).unwrap(),
        );
        let started = Instant::now();
        let mut mailboxes = Vec::with_capacity(args.citizens);
        for n in 0..args.citizens {
            let address = Address::parse(&format!(
                "{}@patient.bench.test.mssante.fr",
                ins(n).as_str()
            ))
            .unwrap();
            let m = store
                .create_mailbox(NewMailbox::citizen(address, None))
                .await
                .unwrap();
            mailboxes.push(m.id);
        }
        println!(
            "{} citizen mailboxes created in {:.1} s",
            args.citizens,
            started.elapsed().as_secs_f64()
        );
        // Message k goes to citizen k * (citizens / DISTINCT): its documents name that INS.
        let step = (args.citizens / DISTINCT).max(1);
        let variants: Vec<(usize, Arc<Vec<u8>>)> = (0..DISTINCT.min(args.citizens))
            .map(|k| {
                let n = k * step;
                let original = &messages[k % messages.len()];
                // The zip is deflated: rebuild it from the documents with the INS replaced.
                let package = mssd_cda::attachment::find(original).unwrap().unwrap();
                let archive = mssd_cda::archive::read(&package, limits).unwrap();
                let docs: Vec<Vec<u8>> = archive
                    .entries
                    .iter()
                    .filter(|e| e.name.starts_with("IHE_XDM/SUBSET01/DOC"))
                    .map(|e| {
                        let target = ins(n);
                        SAMPLE_INS
                            .iter()
                            .fold(
                                String::from_utf8_lossy(&e.bytes).into_owned(),
                                |text, old| text.replace(old, target.as_str()),
                            )
                            .into_bytes()
                    })
                    .collect();
                let xdm: Vec<mssd_cda::builder::XdmDocument> = docs
                    .iter()
                    .map(|d| mssd_cda::builder::XdmDocument {
                        cda: d,
                        ..Default::default()
                    })
                    .collect();
                let zip = mssd_cda::builder::xdm_zip(&xdm, &[]);
                (
                    n,
                    Arc::new(mssd_cda::builder::message_with_xdm(
                        "lab@h.fr",
                        "c@p.fr",
                        "XDM/1.0/DDM+bench",
                        "",
                        &zip,
                    )),
                )
            })
            .collect();
        let oids = vec![
            "1.2.250.1.213.1.4.8".to_string(),
            "1.2.250.1.213.1.4.10".to_string(),
        ];
        let started = Instant::now();
        let jobs: Vec<super::Job> = variants
            .iter()
            .map(|(n, message)| super::Job {
                mailbox: mailboxes[*n],
                message: message.clone(),
                patient: Some(ins(*n)),
            })
            .collect();
        super::run_jobs(&store, args.concurrency, args.messages, jobs, *limits, oids).await;
        let elapsed = started.elapsed();
        println!(
            "to citizens (INS checks, index, delivery): {:>6.0} messages/s ({} messages to {} of {} citizen mailboxes)",
            args.messages as f64 / elapsed.as_secs_f64(),
            args.messages,
            variants.len(),
            args.citizens
        );
    }
}

/// One kind of message to one mailbox; with `patient`, the documents are checked against
/// that citizen's INS first.
#[derive(Clone)]
struct Job {
    mailbox: mssd_store::MailboxId,
    message: Arc<Vec<u8>>,
    patient: Option<mssd_core::Ins>,
}

/// Reads, checks, indexes and delivers `total` messages, cycling through `jobs`, with
/// `concurrency` deliveries in flight (sharing fsyncs through the group commit).
async fn run_jobs(
    store: &Arc<dyn Store>,
    concurrency: usize,
    total: usize,
    jobs: Vec<Job>,
    limits: XdmLimits,
    oids: Vec<String>,
) {
    let jobs = Arc::new(jobs);
    let oids = Arc::new(oids);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (store, next, jobs, oids) = (store.clone(), next.clone(), jobs.clone(), oids.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let job = &jobs[i % jobs.len()];
                let package = mssd_cda::read_message(&job.message, &limits)
                    .unwrap()
                    .unwrap();
                if let Some(ins) = &job.patient {
                    mssd_citizen::check_for_citizen(&package, ins, &oids).unwrap();
                }
                let documents = mssd_smtp::session::documents::index_rows(&package);
                store
                    .deliver(Delivery {
                        recipients: vec![job.mailbox],
                        message: job.message.to_vec().into(),
                        internal_date: 1_780_000_000,
                        documents,
                    })
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn pin_to_cpu0() {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET and sched_setaffinity only read it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("could not pin to CPU 0; measuring on all cores");
        }
    }
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
