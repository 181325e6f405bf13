//! Starting and stopping the real `mssd` binary, and running its CLI.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Every listener on an ephemeral loopback port.
pub const DEFAULT_LISTENERS: &str = "smtp = \"127.0.0.1:0\"\nsubmission = \"127.0.0.1:0\"\nsubmissions = \"127.0.0.1:0\"\nimap = \"127.0.0.1:0\"\nimaps = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\nhttps = \"127.0.0.1:0\"";

/// A free loopback port (bound then released: a later bind may race, which tests accept).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A test operator: a temporary folder with a PKI made by `mssd pki init` and a config file.
pub struct Operator {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
    pub domain: String,
}

impl Operator {
    /// A PKI for `domain` and a config with every listener on an ephemeral loopback port.
    pub fn new(bin: &str, domain: &str) -> Operator {
        Operator::create(bin, domain, None)
    }

    /// An operator whose certificates come from `ca`'s test hierarchy (one "IGC-Santé").
    pub fn sharing_ca(bin: &str, domain: &str, ca: &Operator) -> Operator {
        Operator::create(bin, domain, Some(&ca.data_dir().join("pki")))
    }

    fn create(bin: &str, domain: &str, ca: Option<&Path>) -> Operator {
        let dir = tempfile::tempdir().expect("temp dir");
        let op = Operator {
            bin: PathBuf::from(bin),
            dir,
            domain: domain.to_string(),
        };
        let pki = op.data_dir().join("pki");
        let mut args = vec![
            "pki",
            "init",
            "--dir",
            pki.to_str().unwrap(),
            "--domain",
            domain,
        ];
        if let Some(ca) = ca {
            args.extend(["--ca", ca.to_str().unwrap()]);
        }
        let out = run_cli(&op.bin, &args, None);
        assert!(out.status.success(), "pki init failed: {}", out.stderr);
        op.configure("", "");
        op
    }

    /// Rewrites the configuration: `tls_extra` lines go into `[tls]` (default: our CRL),
    /// `sections` are appended. `[citizen]` is `domain = "patient.<domain>"` unless
    /// `sections` has its own `[citizen]` table.
    pub fn configure(&self, tls_extra: &str, sections: &str) {
        self.configure_listeners(tls_extra, sections, DEFAULT_LISTENERS);
    }

    /// Like `configure`, with the `[listeners]` lines given (e.g. a fixed SMTP port, to restart
    /// on the same address).
    pub fn configure_listeners(&self, tls_extra: &str, sections: &str, listeners: &str) {
        let domain = &self.domain;
        let tls_extra = if tls_extra.is_empty() {
            "crls = [\"pki/crl.pem\"]"
        } else {
            tls_extra
        };
        let citizen = if sections.contains("[citizen]") {
            String::new()
        } else {
            format!("[citizen]\ndomain = \"patient.{domain}\"\n")
        };
        let config = format!(
            r#"[server]
hostname = "mail.{domain}"
domains = ["{domain}"]
data_dir = "data"

[tls]
{tls_extra}

[listeners]
{listeners}

{citizen}
{sections}
"#
        );
        std::fs::write(self.config_path(), config).expect("write config");
    }

    /// The subject DN of this operator's server certificate, as the whitelist writes it.
    pub fn server_dn(&self) -> String {
        let certs = mssd_certs::load_certs(&self.pki("server.pem")).expect("server.pem");
        mssd_certs::CertInfo::parse(&certs[0])
            .expect("parse")
            .subject
            .to_string()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn pki(&self, file: &str) -> PathBuf {
        self.data_dir().join("pki").join(file)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("mssd.toml")
    }

    /// Runs `mssd --config <ours> ARGS…`.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> CliOutput {
        let config = self.config_path();
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        run_cli(&self.bin, &all, stdin)
    }

    /// `cli`, failing the test with the command's standard error unless it succeeds.
    pub fn cli_ok(&self, args: &[&str], stdin: Option<&str>) -> CliOutput {
        let out = self.cli(args, stdin);
        assert!(out.status.success(), "{args:?}: {}", out.stderr);
        out
    }

    pub fn start(&self) -> Mssd {
        let config = self.config_path();
        Mssd::start(
            &self.bin,
            &["serve", "--config", config.to_str().unwrap()],
            self.dir.path(),
        )
    }
}

pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_cli(bin: &Path, args: &[&str], stdin: Option<&str>) -> CliOutput {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mssd");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait mssd");
    CliOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A running `mssd serve`; killed on drop if the test did not stop it.
pub struct Mssd {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub stdout: Vec<String>,
    pub listeners: HashMap<String, SocketAddr>,
}

const START_TIMEOUT: Duration = Duration::from_secs(60);

impl Mssd {
    /// Starts the binary and waits for its "ready" line, collecting the bound addresses.
    pub fn start(bin: &Path, args: &[&str], cwd: &Path) -> Mssd {
        let mut child = Command::new(bin)
            .args(args)
            .current_dir(cwd)
            .env("MSSD_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mssd serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut mssd = Mssd {
            child,
            lines,
            stdout: Vec::new(),
            listeners: HashMap::new(),
        };
        mssd.wait_for_line("mssd: ready", START_TIMEOUT);
        for line in &mssd.stdout {
            if let Some(rest) = line.strip_prefix("mssd: ")
                && let Some((name, addr)) = rest.split_once(" listening on ")
            {
                mssd.listeners
                    .insert(name.to_string(), addr.parse().expect("listener address"));
            }
        }
        mssd
    }

    pub fn addr(&self, listener: &str) -> SocketAddr {
        *self
            .listeners
            .get(listener)
            .unwrap_or_else(|| panic!("no {listener} listener in {:?}", self.stdout))
    }

    /// Waits until a stdout line starts with `prefix`; panics with all output on timeout.
    pub fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line starting with {prefix:?} within {timeout:?}; stdout so far: {:#?}",
                    self.stdout
                ),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self, timeout: Duration) -> (ExitStatus, Vec<String>) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid, which we have not reaped yet.
        assert_eq!(
            unsafe { libc::kill(pid, libc::SIGTERM) },
            0,
            "kill -TERM failed"
        );
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.stdout.push(line);
                }
                return (status, std::mem::take(&mut self.stdout));
            }
            assert!(
                Instant::now() < deadline,
                "mssd did not exit within {timeout:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Mssd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `kB` field of `/proc/<pid>/status` (e.g. "VmRSS", "VmHWM"), in KiB.
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}
