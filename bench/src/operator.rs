//! A throw-away operator for the benchmark: `mssd pki init`, a configuration trusting one
//! peer, `mssd mailbox add`, and `mssd serve` started, watched and stopped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, io};
use crate::peer::PeerFiles;

pub struct BenchOperator {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
    pub domain: String,
}

impl BenchOperator {
    /// A temporary folder with the test PKI of `domain`.
    pub fn new(bin: &Path, domain: &str) -> Result<BenchOperator> {
        let dir = tempfile::Builder::new()
            .prefix("mssd-bench-")
            .tempdir()
            .map_err(io("creating a temporary folder"))?;
        let op = BenchOperator {
            bin: bin.to_path_buf(),
            dir,
            domain: domain.to_string(),
        };
        let pki = op.data_dir().join("pki");
        op.run(
            &[
                "pki",
                "init",
                "--dir",
                &pki.to_string_lossy(),
                "--domain",
                domain,
            ],
            None,
        )?;
        Ok(op)
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

    pub fn database(&self) -> PathBuf {
        self.data_dir().join("mssd.sqlite3")
    }

    /// The subject DN of our server certificate, as the liste blanche writes it.
    pub fn server_dn(&self) -> Result<String> {
        let path = self.pki("server.pem");
        let certs = mssd_certs::load_certs(&path)?;
        let leaf = certs.first().ok_or(Error::NoCertificate(path))?;
        Ok(mssd_certs::CertInfo::parse(leaf)?.subject.to_string())
    }

    /// Writes the configuration: every listener on an ephemeral loopback port, our anchors
    /// plus the peer's, and the liste blanche file `liste-blanche.xml` in the data folder.
    pub fn configure(&self, peer: &PeerFiles) -> Result<()> {
        let domain = &self.domain;
        let config = format!(
            r#"[server]
hostname = "mail.{domain}"
domains = ["{domain}"]
data_dir = "data"

[tls]
trust_anchors = ["pki/root.pem", "{peer_root}"]
crls = ["pki/crl.pem", "{peer_crl}"]

[listeners]
smtp = "127.0.0.1:0"
http = "127.0.0.1:0"

[trust_list]
source = "liste-blanche.xml"
"#,
            peer_root = peer.root.display(),
            peer_crl = peer.crl.display(),
        );
        let path = self.config_path();
        std::fs::write(&path, config).map_err(io(format!("writing {}", path.display())))
    }

    /// Runs `mssd --config <ours> ARGS…`, fails unless it succeeds; returns its stdout.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<String> {
        let config = self.config_path();
        let mut all: Vec<&str> = Vec::new();
        let config_text = config.to_string_lossy();
        // `pki init` runs before there is a configuration file.
        if config.exists() {
            all.extend(["--config", &config_text]);
        }
        all.extend_from_slice(args);
        let command = format!("mssd {}", all.join(" "));
        let mut child = Command::new(&self.bin)
            .args(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io(format!("starting {}", self.bin.display())))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())
                .map_err(io(format!("writing to {command}")))?;
        }
        drop(child.stdin.take());
        let out = child
            .wait_with_output()
            .map_err(io(format!("waiting for {command}")))?;
        if !out.status.success() {
            return Err(Error::Command {
                command,
                status: out.status,
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `mssd serve`, its log in `serve.log`, and waits for its ready line.
    pub fn start(&self) -> Result<RunningServer> {
        let log_path = self.dir.path().join("serve.log");
        let log = std::fs::File::create(&log_path)
            .map_err(io(format!("creating {}", log_path.display())))?;
        let config = self.config_path();
        let mut child = Command::new(&self.bin)
            .args(["serve", "--config", &config.to_string_lossy()])
            .current_dir(self.dir.path())
            .env("MSSD_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(io(format!("starting {} serve", self.bin.display())))?;
        let Some(stdout) = child.stdout.take() else {
            return Err(Error::ServerStart("no stdout pipe".into()));
        };
        let (tx, lines) = mpsc::channel();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = RunningServer {
            child,
            listeners: HashMap::new(),
            log: log_path,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = lines.recv_timeout(left) else {
                return Err(Error::ServerStart(format!(
                    "stdout so far {seen:?}; see {}",
                    server.log.display()
                )));
            };
            if let Some(rest) = line.strip_prefix("mssd: ")
                && let Some((name, addr)) = rest.split_once(" listening on ")
                && let Ok(addr) = addr.trim().parse()
            {
                server.listeners.insert(name.to_string(), addr);
            }
            let ready = line.starts_with("mssd: ready");
            seen.push(line);
            if ready {
                return Ok(server);
            }
        }
    }
}

/// A running `mssd serve`, killed on drop if not stopped.
pub struct RunningServer {
    child: Child,
    pub listeners: HashMap<String, SocketAddr>,
    pub log: PathBuf,
}

impl RunningServer {
    pub fn addr(&self, listener: &'static str) -> Result<SocketAddr> {
        self.listeners
            .get(listener)
            .copied()
            .ok_or(Error::NoListener(listener))
    }

    /// SIGTERM, then waits up to `timeout` for a clean exit (SIGKILL after it).
    pub fn stop(mut self, timeout: Duration) -> Result<ExitStatus> {
        let pid = libc::pid_t::try_from(self.child.id())
            .map_err(|_| Error::ServerStart("pid out of range".into()))?;
        // SAFETY: kill(2) on our own child, not yet reaped, so the pid is still ours.
        if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
            return Err(io("sending SIGTERM to mssd")(
                std::io::Error::last_os_error(),
            ));
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().map_err(io("waiting for mssd"))? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                self.child.kill().map_err(io("killing mssd"))?;
                return self.child.wait().map_err(io("waiting for mssd"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        // Already reaped after `stop`; otherwise make sure no server outlives the bench.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
