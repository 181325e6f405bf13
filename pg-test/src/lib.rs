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
//! The binaries are looked for in `$MSSD_PG_BIN`, then `/usr/lib/postgresql/<version>/bin`
//! (newest first). When there are none, the PostgreSQL tests are skipped with a message: CI
//! installs the Debian package `postgresql`. Any other failure (initdb, start) fails the tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

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
        .get_or_init(|| {
            let Some(bin) = find_binaries() else {
                eprintln!(
                    "SKIPPED: PostgreSQL server binaries not found (install the Debian package \
                     `postgresql`, or set MSSD_PG_BIN to the directory of initdb and pg_ctl)"
                );
                return None;
            };
            Some(start(bin))
        })
        .as_ref()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `program args...` run as `run_as` when set.
fn command(run_as: Option<&str>, program: &Path) -> Command {
    match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("finding a free loopback port")
}

fn start(bin: PathBuf) -> PgCluster {
    let run_as = is_root().then_some("nobody");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("mssd-pg-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).expect("creating the cluster directory");
    if let Some(user) = run_as {
        let mut chown = Command::new("chown");
        chown.arg(format!("{user}:")).arg(&dir);
        run(chown, "chown of the cluster directory");
    }
    let data = dir.join("data");
    let mut initdb = command(run_as, &bin.join("initdb"));
    initdb.arg("-D").arg(&data).args([
        "-U",
        SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-instructions",
    ]);
    run(initdb, "initdb");

    // The watchdog: once this process is gone, stop the cluster and remove its directory.
    let pg_ctl = bin.join("pg_ctl");
    let as_user = run_as.map_or(String::new(), |u| format!("runuser -u {u} -- "));
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {as_user}'{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        pg_ctl = pg_ctl.display(),
        data = data.display(),
        dir = dir.display(),
    );
    // `setsid -f` forks the watchdog off and returns at once.
    let watchdog = Command::new("setsid")
        .args(["-f", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("starting the cluster's watchdog");
    assert!(
        watchdog.success(),
        "starting the cluster's watchdog: {watchdog}"
    );

    // A port found free may be taken before postgres binds it: try a few.
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {dir} -c max_connections=200 \
             -c shared_buffers=32MB -c fsync=on -c synchronous_commit=on",
            dir = dir.display()
        );
        let out = command(run_as, &pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("postgres.log"))
            .args(["-o", &options, "-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .output()
            .expect("running pg_ctl start");
        if out.status.success() {
            return PgCluster {
                dir,
                port,
                bin,
                run_as,
                options,
            };
        }
        last_error = format!(
            "{}\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default()
        );
    }
    panic!("pg_ctl start failed five times:\n{last_error}");
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
        let mut start = command(self.run_as, &pg_ctl);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .args(["-o", &self.options, "-w", "-t", "60", "start"]);
        run(start, "pg_ctl start after a crash");
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
