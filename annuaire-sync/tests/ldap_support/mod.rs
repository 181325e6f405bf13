//! A real OpenLDAP `slapd` for the LDAP tests: a temporary directory with our test PKI,
//! a slapd.conf (mdb backend, core/cosine/inetorgperson/nis schemas, TLS), the fixture
//! loaded with `slapadd`, and slapd listening on free loopback ports (ldap:// for
//! StartTLS and ldaps://). Stopped when dropped.

#![allow(dead_code)] // each test file uses part of the harness

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mssd_annuaire::ldap::{GroupMapping, LdapConfig};
use mssd_store::{SqliteOptions, SqliteStore, Store};
use rustls_pki_types::CertificateDer;
use tempfile::TempDir;

pub const SLAPD: &str = "/usr/sbin/slapd";
pub const SLAPADD: &str = "/usr/sbin/slapadd";
pub const SUFFIX: &str = "dc=hopital,dc=test";
pub const ROOT_DN: &str = "cn=admin,dc=hopital,dc=test";
pub const ROOT_PASSWORD: &str = "admin-password";
pub const SERVICE_DN: &str = "cn=mssd,ou=services,dc=hopital,dc=test";
pub const SERVICE_PASSWORD: &str = "service-password";
pub const DOMAIN: &str = "hopital.test";

pub struct Slapd {
    pub dir: TempDir,
    child: Option<Child>,
    pub ldap_port: u16,
    pub ldaps_port: u16,
    pub root_pem: PathBuf,
}

/// The fixtures, whether this harness is compiled for mssd-annuaire's tests or included by
/// the end-to-end tests of the mssd package (tests/e2e/ldap_auth.rs).
fn fixtures() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = manifest.join("tests/fixtures/ldap");
    if own.exists() {
        own
    } else {
        manifest.join("../annuaire-sync/tests/fixtures/ldap")
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().unwrap().port()
}

fn require(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} not found: the LDAP tests need OpenLDAP; install it with \
         `apt-get install -y slapd ldap-utils` (test.sh and .ci/run do)"
    );
}

impl Slapd {
    /// Writes the configuration and the fixture, then starts slapd.
    pub fn start() -> Slapd {
        require(SLAPD);
        require(SLAPADD);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let pki = mssd_certs::init_pki(&root.join("pki"), DOMAIN, false).unwrap();
        std::fs::create_dir(root.join("db")).unwrap();
        let template = std::fs::read_to_string(fixtures().join("slapd.conf.template")).unwrap();
        let conf = template.replace("@DIR@", root.to_str().unwrap());
        std::fs::write(root.join("slapd.conf"), conf).unwrap();
        let out = Command::new(SLAPADD)
            .arg("-f")
            .arg(root.join("slapd.conf"))
            .arg("-l")
            .arg(fixtures().join("directory.ldif"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut slapd = Slapd {
            dir,
            child: None,
            ldap_port: free_port(),
            ldaps_port: free_port(),
            root_pem: pki.root_cert,
        };
        slapd.run();
        slapd
    }

    /// Starts (or restarts) slapd on the same ports and database.
    pub fn run(&mut self) {
        let root = self.dir.path();
        let urls = format!(
            "ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{}/",
            self.ldap_port, self.ldaps_port
        );
        let log = std::fs::File::create(root.join("slapd.log")).unwrap();
        // -d 0: stay in the foreground (so the child is slapd itself), no debug output.
        let child = Command::new(SLAPD)
            .arg("-f")
            .arg(root.join("slapd.conf"))
            .arg("-h")
            .arg(&urls)
            .arg("-d")
            .arg("0")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ready = [self.ldap_port, self.ldaps_port]
                .iter()
                .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok());
            if ready {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                let log = std::fs::read_to_string(root.join("slapd.log")).unwrap_or_default();
                panic!("slapd exited with {status} before listening:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "slapd did not listen within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops slapd (the LDAP server is then down); `run` brings it back.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    pub fn anchors(&self) -> Vec<CertificateDer<'static>> {
        mssd_certs::load_certs(&self.root_pem).unwrap()
    }

    /// LDAPS with the service account, people under ou=people, groups under ou=groups.
    pub fn config(&self) -> LdapConfig {
        let mut config = LdapConfig::new(
            self.ldaps_url(),
            SERVICE_DN,
            SERVICE_PASSWORD,
            format!("ou=people,{SUFFIX}"),
            self.anchors(),
        );
        config.page_size = 2; // several pages even for the small fixture
        config.timeout = Duration::from_secs(5);
        config.groups = Some(GroupMapping {
            base_dn: format!("ou=groups,{SUFFIX}"),
            ..GroupMapping::default()
        });
        config
    }

    /// Runs the real `ldapmodify` as the root DN over StartTLS, validated with our root.
    pub fn ldapmodify(&self, ldif: &str) {
        use std::io::Write;
        let mut child = Command::new("ldapmodify")
            .args(["-x", "-ZZ", "-H", &self.ldap_url(), "-D", ROOT_DN, "-w"])
            .arg(ROOT_PASSWORD)
            .env("LDAPTLS_CACERT", &self.root_pem)
            .env("LDAPTLS_REQCERT", "demand")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ldapmodify not found: apt-get install -y ldap-utils");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ldapmodify failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fresh SQLite store in its own temporary directory.
pub fn store() -> (TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("mssd.db"), SqliteOptions::default()).unwrap();
    (dir, Arc::new(store))
}
