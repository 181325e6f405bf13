//! A primary and its synchronous standby, for failover tests.
//!
//! Both are throwaway clusters in one directory, as the single cluster of [`crate::cluster`]
//! is (loopback ports, trust authentication, `nobody` when the tests run as root, a watchdog
//! that stops both and removes the directory once the test process is gone). The primary runs
//! with `wal_level = replica` and `synchronous_standby_names = 'mssd_standby'`; the standby is
//! a `pg_basebackup -R` of it, streaming with `application_name = mssd_standby`. [`start`]
//! returns once the primary's `pg_stat_replication` shows the standby as `sync`: from then on a
//! commit returns only once the standby has the WAL (`synchronous_commit = on`: flushed to its
//! disk; `remote_apply`: also replayed, so a read on the standby sees it).
//!
//! The server options are given on the command line (`pg_ctl -o`), not written in
//! `postgresql.conf`: the standby's copy of the data directory does not inherit
//! `synchronous_standby_names`, so once promoted it commits alone instead of waiting for a
//! standby that does not exist (the choice Patroni's `synchronous_mode` makes; its
//! `synchronous_mode_strict` would rather stop writes).
//!
//! Queries go through `psql`, so the pair can be driven from inside a test's runtime or
//! outside one.
//!
//! [`start`]: ReplicatedPair::start

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::SUPERUSER;
use crate::server_process::{
    cluster_user, command, initdb, new_cluster_dir, run, start_on_free_port, start_watchdog,
};

/// The standby's `application_name`, which `synchronous_standby_names` lists.
pub const STANDBY_NAME: &str = "mssd_standby";

/// How long the standby may take to become synchronous, and the promoted standby to accept
/// writes.
const WAIT: Duration = Duration::from_secs(60);

/// A running primary and synchronous standby (see the module's documentation).
pub struct ReplicatedPair {
    pub dir: PathBuf,
    pub bin: PathBuf,
    pub run_as: Option<&'static str>,
    pub primary_port: u16,
    pub standby_port: u16,
    /// The primary's `synchronous_commit`.
    pub synchronous_commit: &'static str,
}

impl ReplicatedPair {
    /// A pair whose primary commits with `synchronous_commit = remote_apply`; `None` (with a
    /// message on stderr) when the PostgreSQL binaries are not installed.
    pub fn start() -> Option<ReplicatedPair> {
        ReplicatedPair::start_with("remote_apply")
    }

    /// A pair whose primary commits with `synchronous_commit` (`on`, `remote_write`,
    /// `remote_apply`).
    pub fn start_with(synchronous_commit: &'static str) -> Option<ReplicatedPair> {
        let bin = crate::binaries_or_skip()?;
        let run_as = cluster_user();
        let dir = new_cluster_dir("mssd-pg-pair", run_as);
        let (primary, standby) = (dir.join("primary"), dir.join("standby"));
        initdb(&bin, run_as, &primary);
        // initdb's trust pg_hba.conf already admits replication on loopback; say it anyway,
        // since the pair depends on it.
        append(
            &primary.join("pg_hba.conf"),
            &format!("host replication {SUPERUSER} 127.0.0.1/32 trust\n"),
        );
        start_watchdog(&bin, run_as, &[&primary, &standby], &dir);

        let replication = "-c wal_level=replica -c max_wal_senders=10 -c hot_standby=on";
        let (primary_port, _) = start_on_free_port(
            &bin,
            run_as,
            &primary,
            &dir.join("primary.log"),
            &dir,
            &format!(
                "{replication} -c synchronous_standby_names={STANDBY_NAME} \
                 -c synchronous_commit={synchronous_commit}"
            ),
        );

        let conninfo = format!(
            "host=127.0.0.1 port={primary_port} user={SUPERUSER} application_name={STANDBY_NAME}"
        );
        let mut basebackup = command(run_as, &bin.join("pg_basebackup"));
        basebackup
            .args(["-R", "-X", "stream", "-c", "fast", "-D"])
            .arg(&standby)
            .args(["-d", &conninfo]);
        run(basebackup, "pg_basebackup of the primary");
        // `-R` writes `primary_conninfo` from the connection's parameters; the standby's name
        // must be the one `synchronous_standby_names` lists, so it is set here whatever `-R`
        // kept (the last setting in the file wins).
        append(
            &standby.join("postgresql.auto.conf"),
            &format!("primary_conninfo = '{conninfo}'\n"),
        );
        let (standby_port, _) = start_on_free_port(
            &bin,
            run_as,
            &standby,
            &dir.join("standby.log"),
            // Each server's socket and lock file are named after its port: one directory serves
            // both.
            &dir,
            &format!("{replication} -c synchronous_commit={synchronous_commit}"),
        );

        let pair = ReplicatedPair {
            dir,
            bin,
            run_as,
            primary_port,
            standby_port,
            synchronous_commit,
        };
        pair.wait_until(
            "the standby to be synchronous",
            pair.primary_port,
            &format!(
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = '{STANDBY_NAME}'"
            ),
            "sync",
        );
        Some(pair)
    }

    /// The URL of database `db` on the server at `port`, as the superuser.
    pub fn url(&self, port: u16, db: &str) -> String {
        format!("postgresql://{SUPERUSER}@127.0.0.1:{port}/{db}?sslmode=disable")
    }

    /// A libpq URL naming both servers, primary first, that connects only to the one accepting
    /// writes (`target_session_attrs=read-write`): after a promotion it finds the new primary.
    pub fn multi_host_url(&self, db: &str) -> String {
        format!(
            "postgresql://{SUPERUSER}@127.0.0.1:{},127.0.0.1:{}/{db}?sslmode=disable&target_session_attrs=read-write",
            self.primary_port, self.standby_port
        )
    }

    /// Creates database `name` on the primary (the standby replays it).
    pub fn create_database(&self, name: &str) {
        self.psql(
            self.primary_port,
            "postgres",
            &format!("CREATE DATABASE {name}"),
        );
    }

    /// Runs `sql` with `psql` on database `db` of the server at `port`: the rows' values,
    /// unaligned (`|` between columns, one row a line), trimmed.
    pub fn psql(&self, port: u16, db: &str, sql: &str) -> String {
        self.try_psql(port, db, sql)
            .unwrap_or_else(|e| panic!("psql on port {port}: {sql}: {e}"))
    }

    fn try_psql(&self, port: u16, db: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
            .args([
                "-p",
                &port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                db,
                "-c",
                sql,
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Polls `sql` on `port` until it prints `expected`; panics after [`WAIT`] with the logs.
    fn wait_until(&self, what: &str, port: u16, sql: &str, expected: &str) {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            match self.try_psql(port, "postgres", sql) {
                Ok(value) if value == expected => return,
                Ok(value) => last = value,
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "waiting for {what}: {sql} still gives {last:?} after {WAIT:?}\nprimary log:\n{}\nstandby log:\n{}",
            std::fs::read_to_string(self.dir.join("primary.log")).unwrap_or_default(),
            std::fs::read_to_string(self.dir.join("standby.log")).unwrap_or_default(),
        );
    }

    /// Kills the primary's postmaster with SIGKILL, as a crash of its machine would end it:
    /// no shutdown checkpoint, no goodbye to the standby. Its backends notice the postmaster's
    /// death and exit without answering (a commit waiting for the standby is never
    /// acknowledged). Returns once the postmaster is gone.
    pub fn kill_primary(&self) {
        let pid_file = self.dir.join("primary").join("postmaster.pid");
        let text = std::fs::read_to_string(&pid_file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", pid_file.display()));
        let pid = text.lines().next().unwrap_or_default().trim().to_owned();
        assert!(
            pid.parse::<u32>().is_ok(),
            "no pid in {}: {text:?}",
            pid_file.display()
        );
        let mut kill = Command::new("kill");
        kill.args(["-KILL", &pid]);
        run(kill, "kill -KILL of the primary's postmaster");
        let proc = PathBuf::from(format!("/proc/{pid}"));
        let deadline = Instant::now() + WAIT;
        // The postmaster is not our child (pg_ctl detached it): init reaps it.
        while proc.exists() && !is_zombie(&proc) {
            assert!(
                Instant::now() < deadline,
                "the primary's postmaster {pid} survived SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Promotes the standby (`pg_ctl promote -w`) and waits until it accepts writes
    /// (`pg_is_in_recovery()` false).
    pub fn promote_standby(&self) {
        let mut promote = command(self.run_as, &self.bin.join("pg_ctl"));
        promote
            .arg("-D")
            .arg(self.dir.join("standby"))
            .args(["-w", "-t", "60", "promote"]);
        run(promote, "pg_ctl promote of the standby");
        self.wait_until(
            "the promoted standby to leave recovery",
            self.standby_port,
            "SELECT pg_is_in_recovery()",
            "f",
        );
    }
}

fn is_zombie(proc: &Path) -> bool {
    std::fs::read_to_string(proc.join("stat"))
        .map(|stat| {
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}

fn append(file: &Path, line: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .unwrap_or_else(|e| panic!("opening {}: {e}", file.display()));
    f.write_all(line.as_bytes())
        .unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
}
