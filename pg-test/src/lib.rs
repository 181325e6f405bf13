//! A throwaway PostgreSQL cluster for the tests of one test binary.
//!
//! The first test that asks starts it: `initdb` in a fresh directory under the system temporary
//! directory, then `pg_ctl start` on a free loopback port (and a Unix socket in that directory),
//! trust authentication, nothing else listening. PostgreSQL refuses to run as root, and tests
//! run as root in CI: as root the cluster runs as `nobody` (`runuser`), its directory chowned to
//! it. Each test then gets a database of its own ([`fresh_database`]), so tests run in parallel
//! without seeing each other's rows.
//!
//! A watchdog started with the cluster (`setsid -f sh`, outside the test's process group) waits for
//! the test process to exit, whatever the way, then stops the cluster and removes its directory.
//!
//! [`ReplicatedPair`] (module [`replica`]) is a primary with a synchronous standby, for failover
//! tests: each pair is its own two clusters.
//!
//! The binaries are looked for in `$MSSD_PG_BIN`, then `/usr/lib/postgresql/<version>/bin`
//! (newest first). When there are none, the PostgreSQL tests are skipped with a message: CI
//! installs the Debian package `postgresql`. Any other failure (initdb, start) fails the tests.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod replica;
mod server_process;

pub use replica::ReplicatedPair;
use server_process::{
    cluster_user, command, initdb, new_cluster_dir, pg_ctl_start, run, start_on_free_port,
    start_watchdog,
};

/// A running cluster.
pub struct PgCluster {
    pub dir: PathBuf,
    pub port: u16,
    pub bin: PathBuf,
    /// `Some("nobody")` when the cluster runs as another user than the tests.
    pub run_as: Option<&'static str>,
    /// The server options `pg_ctl start` was given (port, socket directory, durability).
    options: String,
}

static CLUSTER: OnceLock<Option<PgCluster>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// The superuser every database is created by and connected as.
pub const SUPERUSER: &str = "postgres";

/// The directory holding `initdb`, `pg_ctl` and `postgres`, if any.
pub fn find_binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MSSD_PG_BIN") {
        let dir = PathBuf::from(dir);
        return dir.join("initdb").exists().then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The cluster of this test binary, started on first use; `None` (with a message on stderr)
/// when the PostgreSQL binaries are not installed.
pub fn cluster() -> Option<&'static PgCluster> {
    CLUSTER
        .get_or_init(|| binaries_or_skip().map(start))
        .as_ref()
}

/// [`find_binaries`], or `None` with the message that says the PostgreSQL tests are skipped.
fn binaries_or_skip() -> Option<PathBuf> {
    let found = find_binaries();
    if found.is_none() {
        eprintln!(
            "SKIPPED: PostgreSQL server binaries not found (install the Debian package \
             `postgresql`, or set MSSD_PG_BIN to the directory of initdb and pg_ctl)"
        );
    }
    found
}

fn start(bin: PathBuf) -> PgCluster {
    let run_as = cluster_user();
    let dir = new_cluster_dir("mssd-pg", run_as);
    let data = dir.join("data");
    initdb(&bin, run_as, &data);
    start_watchdog(&bin, run_as, &[&data], &dir);
    let (port, options) = start_on_free_port(
        &bin,
        run_as,
        &data,
        &dir.join("postgres.log"),
        &dir,
        "-c synchronous_commit=on",
    );
    PgCluster {
        dir,
        port,
        bin,
        run_as,
        options,
    }
}

impl PgCluster {
    /// Stops the server as a crash would (`pg_ctl -m immediate`: no checkpoint, every backend
    /// killed; the next start replays the WAL), then starts it again on the same port.
    pub fn crash_and_restart(&self) {
        let data = self.dir.join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let mut stop = command(self.run_as, &pg_ctl);
        stop.arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"]);
        run(stop, "pg_ctl stop -m immediate");
        let log = self.dir.join("postgres.log");
        if let Err(e) = pg_ctl_start(&self.bin, self.run_as, &data, &log, &self.options) {
            panic!("pg_ctl start after a crash failed:\n{e}");
        }
    }

    /// The URL of database `db` as the superuser.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql://{SUPERUSER}@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }
}

/// A new, empty database on this binary's cluster: its URL. `None` when PostgreSQL is not
/// installed (see [`cluster`]).
pub async fn fresh_database() -> Option<String> {
    let cluster = cluster()?;
    let name = format!("t{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
    let client = connect(&cluster.url("postgres")).await;
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    Some(cluster.url(&name))
}

/// A new directory for a store's staged bodies, under the cluster's directory (removed with it
/// by the watchdog).
pub fn staging_dir() -> PathBuf {
    let cluster = cluster().expect("staging_dir without a cluster");
    let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
    cluster.dir.join(format!("staging-{n}"))
}

/// A plain client on `url` (its connection driven on the current runtime).
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test cluster: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}
