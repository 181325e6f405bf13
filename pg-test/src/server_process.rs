//! Running PostgreSQL's programs for a throwaway cluster: as `nobody` when the tests run as
//! root (PostgreSQL refuses root), `initdb` with trust authentication, `pg_ctl start` on a free
//! loopback port, and the watchdog that stops the clusters and removes their directory once the
//! test process is gone. Shared by the single cluster ([`crate::cluster`]) and the replicated
//! pair ([`crate::replica`]).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::SUPERUSER;

/// `Some("nobody")` when the tests run as root: the clusters then run as that user.
pub(crate) fn cluster_user() -> Option<&'static str> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    root.then_some("nobody")
}

/// `program args...` run as `run_as` when set.
pub(crate) fn command(run_as: Option<&str>, program: &Path) -> Command {
    match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// Runs `c`, panicking with its output unless it succeeds.
pub(crate) fn run(mut c: Command, what: &str) {
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

/// A new directory under the system temporary directory, owned by `run_as` when set.
pub(crate) fn new_cluster_dir(prefix: &str, run_as: Option<&str>) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).expect("creating the cluster directory");
    if let Some(user) = run_as {
        let mut chown = Command::new("chown");
        chown.arg(format!("{user}:")).arg(&dir);
        run(chown, "chown of the cluster directory");
    }
    dir
}

/// `initdb` of a new cluster in `data`: superuser [`SUPERUSER`], trust authentication.
pub(crate) fn initdb(bin: &Path, run_as: Option<&str>, data: &Path) {
    let mut initdb = command(run_as, &bin.join("initdb"));
    initdb.arg("-D").arg(data).args([
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
}

/// Starts the watchdog: once this process is gone, `pg_ctl -m immediate stop` of each data
/// directory in `datas` (a postmaster already killed makes it fail, which is fine), then
/// `rm -rf dir`.
pub(crate) fn start_watchdog(bin: &Path, run_as: Option<&str>, datas: &[&Path], dir: &Path) {
    let pg_ctl = bin.join("pg_ctl");
    let as_user = run_as.map_or(String::new(), |u| format!("runuser -u {u} -- "));
    let stops: String = datas
        .iter()
        .map(|data| {
            format!(
                "{as_user}'{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; ",
                pg_ctl = pg_ctl.display(),
                data = data.display()
            )
        })
        .collect();
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stops}rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display(),
    );
    // `setsid -f` forks the watchdog off (outside the test's process group) and returns at once.
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
}

/// The server options of a cluster on `port`, with its Unix socket in `socket_dir`, followed
/// by `extra` (`-c name=value …`).
pub(crate) fn server_options(port: u16, socket_dir: &Path, extra: &str) -> String {
    format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {dir} -c max_connections=200 \
         -c shared_buffers=32MB -c fsync=on {extra}",
        dir = socket_dir.display()
    )
}

/// `pg_ctl start -w` of `data` with `options`, its log in `log`.
pub(crate) fn pg_ctl_start(
    bin: &Path,
    run_as: Option<&str>,
    data: &Path,
    log: &Path,
    options: &str,
) -> Result<(), String> {
    let out = command(run_as, &bin.join("pg_ctl"))
        .arg("-D")
        .arg(data)
        .arg("-l")
        .arg(log)
        .args(["-o", options, "-w", "-t", "60", "start"])
        .stdin(Stdio::null())
        .output()
        .expect("running pg_ctl start");
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(log).unwrap_or_default()
    ))
}

/// Starts `data` on a free loopback port with `server_options(port, socket_dir, extra)`:
/// the port and the options used. A port found free may be taken before postgres binds it,
/// so a few are tried.
pub(crate) fn start_on_free_port(
    bin: &Path,
    run_as: Option<&str>,
    data: &Path,
    log: &Path,
    socket_dir: &Path,
    extra: &str,
) -> (u16, String) {
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port();
        let options = server_options(port, socket_dir, extra);
        match pg_ctl_start(bin, run_as, data, log, &options) {
            Ok(()) => return (port, options),
            Err(e) => last_error = e,
        }
    }
    panic!("pg_ctl start failed five times:\n{last_error}");
}
