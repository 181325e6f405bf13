//! `mssd pki init`: writes a complete test PKI imitating IGC-Santé into a directory.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::thread;

use rustls_pki_types::pem::PemObject;

use time::{Duration, OffsetDateTime};

use crate::dn::DistinguishedName;
use crate::error::{Error, Result};
use crate::testpki::{GeneratedKey, IssuedCert, LeafSpec, TestCa};

pub const TEST_ROOT_CN: &str = "TEST AC RACINE IGC-SANTE ELEMENTAIRE";
pub const TEST_INTERMEDIATE_CN: &str = "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS";
/// `1` + FINESS 990000002 (Luhn-valid, department 99: not a real establishment).
pub const TEST_ID_NAT_STRUCT: &str = "1990000002";
/// `8` + RPPS 10999999997 (Luhn-valid test number).
pub const TEST_ID_NAT_PS: &str = "810999999997";

/// Where `init_pki` wrote each file, and what the certificates say, for the CLI to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkiLayout {
    pub dir: PathBuf,
    pub root_cert: PathBuf,
    pub intermediate_cert: PathBuf,
    /// The test intermediate's key (0600), for `mssd pki init --ca`.
    pub intermediate_key: PathBuf,
    /// Server chain: leaf then intermediate (so are the app and personal files).
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub app_cert: PathBuf,
    pub app_key: PathBuf,
    pub personal_cert: PathBuf,
    pub personal_key: PathBuf,
    pub crl: PathBuf,
    /// `mail.<domain>`: the server certificate's CN and first DNS name.
    pub server_name: String,
    pub root_subject: String,
    pub intermediate_subject: String,
    pub server_subject: String,
    pub app_subject: String,
    pub personal_subject: String,
    pub id_nat_struct: String,
    pub id_nat_ps: String,
}

/// Writes the test PKI for `domain` into `dir`. Without `force`, refuses to overwrite any
/// existing file (nothing is written then); with it, existing files are replaced.
pub fn init_pki(dir: &Path, domain: &str, force: bool) -> Result<PkiLayout> {
    init_pki_from(dir, domain, force, None)
}

/// Like [`init_pki`]; with `ca_dir`, the root and intermediate of an earlier `init_pki` there
/// issue this operator's certificates instead of a new hierarchy — several test operators
/// then share one "IGC-Santé", as real operators do.
pub fn init_pki_from(
    dir: &Path,
    domain: &str,
    force: bool,
    ca_dir: Option<&Path>,
) -> Result<PkiLayout> {
    check_domain(domain)?;
    let layout = layout(dir, domain);
    if !force {
        for (_, path) in layout.files() {
            if path.exists() {
                return Err(Error::AlreadyExists { path: path.into() });
            }
        }
    }
    // Owner-only: the folder holds private keys.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, e))?;
    let mut keys = generate_keys(if ca_dir.is_some() { 3 } else { 5 })?.into_iter();
    let mut next_key = || {
        keys.next()
            .ok_or_else(|| Error::Generate("missing generated key".into()))
    };

    let (root_pem, intermediate) = match ca_dir {
        Some(ca_dir) => load_ca(ca_dir)?,
        None => {
            let root = TestCa::root_with_key(&test_root_subject(), next_key()?)?;
            let intermediate = root.intermediate_with_key(TEST_INTERMEDIATE_CN, next_key()?)?;
            (root.cert_pem().to_string(), intermediate)
        }
    };
    let org = organisation_name(domain);
    let server_spec = LeafSpec {
        dns_names: vec![layout.server_name.clone(), "localhost".into()],
        ip_addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        server_auth: true,
        client_auth: true,
        ..LeafSpec::new(&[
            ("CN", &layout.server_name),
            ("OU", TEST_ID_NAT_STRUCT),
            ("O", &org),
            ("ST", "Paris (75)"),
            ("C", "FR"),
        ])
    };
    let app_cn = format!("app.{domain}");
    let app_spec = LeafSpec {
        client_auth: true,
        ..LeafSpec::new(&[
            ("CN", &app_cn),
            ("OU", TEST_ID_NAT_STRUCT),
            ("O", &org),
            ("ST", "Paris (75)"),
            ("C", "FR"),
        ])
    };
    let personal_spec = LeafSpec {
        client_auth: true,
        ..LeafSpec::new(&[
            ("CN", TEST_ID_NAT_PS),
            ("GN", "JEAN"),
            ("SN", "DUPONT-TEST"),
            ("OU", TEST_ID_NAT_STRUCT),
            ("O", &org),
            ("C", "FR"),
        ])
    };
    let server = intermediate.issue_with_key(&server_spec, next_key()?)?;
    let app = intermediate.issue_with_key(&app_spec, next_key()?)?;
    let personal = intermediate.issue_with_key(&personal_spec, next_key()?)?;
    let now = OffsetDateTime::now_utc();
    let crl = intermediate.crl(&[], now - Duration::minutes(5), now + Duration::days(30))?;

    write_file(&layout.root_cert, &root_pem, force, false)?;
    write_file(
        &layout.intermediate_cert,
        intermediate.cert_pem(),
        force,
        false,
    )?;
    // Kept so that `--ca` can issue more test operators from this hierarchy.
    write_file(
        &layout.intermediate_key,
        &intermediate.key_pem(),
        force,
        true,
    )?;
    let server_chain = format!("{}{}", server.cert_pem, intermediate.cert_pem());
    write_file(&layout.server_cert, &server_chain, force, false)?;
    write_file(&layout.server_key, &server.key_pem, force, true)?;
    // Clients present their chain too: a server only holds the root.
    let chain_of = |leaf: &IssuedCert| format!("{}{}", leaf.cert_pem, intermediate.cert_pem());
    write_file(&layout.app_cert, &chain_of(&app), force, false)?;
    write_file(&layout.app_key, &app.key_pem, force, true)?;
    write_file(&layout.personal_cert, &chain_of(&personal), force, false)?;
    write_file(&layout.personal_key, &personal.key_pem, force, true)?;
    write_file(&layout.crl, &crl.pem, force, false)?;

    let subject_of = |cert: &IssuedCert| DistinguishedName::from_certificate(&cert.cert_der);
    // Subjects in RFC 4514 order (CN first), as the whitelist writes them.
    let root_der = rustls_pki_types::CertificateDer::from_pem_slice(root_pem.as_bytes())
        .map_err(|e| Error::BadCertificate(format!("root PEM: {e}")))?;
    Ok(PkiLayout {
        root_subject: DistinguishedName::from_certificate(&root_der)?.to_string(),
        intermediate_subject: intermediate.subject().to_string(),
        server_subject: subject_of(&server)?.to_string(),
        app_subject: subject_of(&app)?.to_string(),
        personal_subject: subject_of(&personal)?.to_string(),
        ..layout
    })
}

impl PkiLayout {
    /// Every file written, with what it is, in writing order.
    pub fn files(&self) -> [(&'static str, &Path); 10] {
        [
            ("root CA", &self.root_cert),
            ("intermediate CA", &self.intermediate_cert),
            ("intermediate CA key", &self.intermediate_key),
            ("server chain", &self.server_cert),
            ("server key", &self.server_key),
            ("applicative certificate", &self.app_cert),
            ("applicative key", &self.app_key),
            ("personal certificate", &self.personal_cert),
            ("personal key", &self.personal_key),
            ("CRL", &self.crl),
        ]
    }
}

fn layout(dir: &Path, domain: &str) -> PkiLayout {
    PkiLayout {
        dir: dir.to_path_buf(),
        root_cert: dir.join("root.pem"),
        intermediate_cert: dir.join("intermediate.pem"),
        intermediate_key: dir.join("intermediate.key"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        app_cert: dir.join("app.pem"),
        app_key: dir.join("app.key"),
        personal_cert: dir.join("personal.pem"),
        personal_key: dir.join("personal.key"),
        crl: dir.join("crl.pem"),
        server_name: format!("mail.{domain}"),
        root_subject: String::new(),
        intermediate_subject: String::new(),
        server_subject: String::new(),
        app_subject: String::new(),
        personal_subject: String::new(),
        id_nat_struct: TEST_ID_NAT_STRUCT.to_string(),
        id_nat_ps: TEST_ID_NAT_PS.to_string(),
    }
}

fn test_root_subject() -> Vec<(String, String)> {
    [
        ("CN", TEST_ROOT_CN),
        ("OU", "IGC-SANTE TEST"),
        ("OU", "0002 187512751"),
        ("O", "ASIP-SANTE"),
        ("C", "FR"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// RSA key generation dominates; spread it over the cores.
/// The root certificate and the intermediate CA (with its key) of an earlier `init_pki`.
fn load_ca(ca_dir: &Path) -> Result<(String, TestCa)> {
    let read = |name: &str| {
        let path = ca_dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))
    };
    let root_pem = read("root.pem")?;
    let intermediate = TestCa::load(&read("intermediate.pem")?, &read("intermediate.key")?)?;
    Ok((root_pem, intermediate))
}

fn generate_keys(count: usize) -> Result<Vec<GeneratedKey>> {
    thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|_| scope.spawn(GeneratedKey::rsa_2048))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Error::Generate("key generation thread panicked".into()))?
            })
            .collect()
    })
}

fn check_domain(domain: &str) -> Result<()> {
    let bad = |reason| Error::BadDomain {
        domain: domain.to_string(),
        reason,
    };
    if domain.is_empty() || domain.len() > 240 {
        return Err(bad("must have 1 to 240 characters"));
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !domain.split('.').all(valid_label) {
        return Err(bad(
            "labels must be lower-case letters, digits and inner '-'",
        ));
    }
    Ok(())
}

/// `hopital.test.mssante.fr` → `MSSD TEST HOPITAL`.
fn organisation_name(domain: &str) -> String {
    let first = domain.split('.').next().unwrap_or(domain);
    format!("MSSD TEST {}", first.to_uppercase())
}

fn write_file(path: &Path, contents: &str, force: bool, private: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // create_new: fail rather than race with a file that appeared meanwhile.
        options.create_new(true);
    }
    if private {
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::AlreadyExists { path: path.into() },
        _ => Error::io(path, e),
    })?;
    if private {
        // mode() only applies on creation; a forced overwrite must tighten an old file too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(path, e))?;
    }
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_table() {
        let cases: &[(&str, bool)] = &[
            ("hopital.test.mssante.fr", true),
            ("a-b.fr", true),
            ("localhost", true),
            ("", false),
            ("Hopital.fr", false),
            ("a..fr", false),
            ("-a.fr", false),
            ("a_b.fr", false),
            ("a.fr.", false),
        ];
        for (domain, ok) in cases {
            assert_eq!(check_domain(domain).is_ok(), *ok, "{domain:?}");
        }
    }

    #[test]
    fn test_identifiers_are_valid() {
        assert!(mssd_core::IdNatStruct::parse(TEST_ID_NAT_STRUCT).is_ok());
        assert!(mssd_core::IdNatPs::parse(TEST_ID_NAT_PS).is_ok());
    }

    #[test]
    fn organisation_name_from_domain() {
        assert_eq!(
            organisation_name("hopital.test.mssante.fr"),
            "MSSD TEST HOPITAL"
        );
    }
}
