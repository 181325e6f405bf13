//! A peer operator's PKI held by the benchmark (root + ORGANISATIONS intermediate issuing its
//! MTA certificate) and the liste blanche that lists it.

use std::path::{Path, PathBuf};

use mssd_certs::{IssuedCert, LeafSpec, TestCa};
use time::{Duration, OffsetDateTime};

use crate::error::{Result, io};

pub struct PeerPki {
    pub root: TestCa,
    pub intermediate: TestCa,
}

/// Files a peer MTA needs, and those operator A needs to trust it.
pub struct PeerFiles {
    pub root: PathBuf,
    pub crl: PathBuf,
    pub chain: PathBuf,
    pub key: PathBuf,
    /// The subject DN of the MTA certificate, as the liste blanche writes it.
    pub dn: String,
}

impl PeerPki {
    /// CA names differ from `mssd pki init`'s: CRLs are matched to CAs by issuer name.
    pub fn new() -> Result<PeerPki> {
        let root = TestCa::root("TEST AC RACINE PAIR BENCH")?;
        let intermediate = root.intermediate("TEST AC PAIR BENCH ORGANISATIONS")?;
        Ok(PeerPki { root, intermediate })
    }

    /// An MTA certificate for `cn` (serverAuth + clientAuth), written with the intermediate,
    /// plus the root and an empty CRL of the intermediate, all in `dir`.
    pub fn write_mta(&self, dir: &Path, cn: &str) -> Result<PeerFiles> {
        let mut spec = LeafSpec::new(&[
            ("CN", cn),
            ("OU", "1990000002"),
            ("O", "CLINIQUE BENCH"),
            ("ST", "Paris (75)"),
            ("C", "FR"),
        ]);
        spec.dns_names = vec![cn.to_string()];
        spec.server_auth = true;
        spec.client_auth = true;
        let cert: IssuedCert = self.intermediate.issue(&spec)?;
        let dn = mssd_certs::CertInfo::parse(&cert.cert_der)?
            .subject
            .to_string();
        let now = OffsetDateTime::now_utc();
        let crl = self
            .intermediate
            .crl(&[], now - Duration::hours(1), now + Duration::days(7))?;
        let files = PeerFiles {
            root: dir.join("peer-root.pem"),
            crl: dir.join("peer-crl.pem"),
            chain: dir.join("peer-mta.pem"),
            key: dir.join("peer-mta.key"),
            dn,
        };
        let write = |path: &Path, text: &str| {
            std::fs::write(path, text).map_err(io(format!("writing {}", path.display())))
        };
        write(&files.root, self.root.cert_pem())?;
        write(&files.crl, &crl.pem)?;
        write(
            &files.chain,
            &format!("{}{}", cert.cert_pem, self.intermediate.cert_pem()),
        )?;
        write(&files.key, &cert.key_pem)?;
        Ok(files)
    }
}

/// The ANS liste blanche listing (domain, operator certificate DN) pairs.
pub fn whitelist_xml(entries: &[(&str, &str)], generated: &str) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListeBlancheMSSante xmlns=\"https://listeblanche.mssante.fr/schema\">\n<DateDeGeneration>{generated}</DateDeGeneration>\n<ListeDomaines>\n"
    );
    for (domain, dn) in entries {
        xml.push_str(&format!(
            "<Domaine><Nom>{}</Nom><Description>bench</Description><DNCertificatOperateur>{}</DNCertificatOperateur><ResponsableContact>-</ResponsableContact><SupportContact>-</SupportContact><DateMAJ>{generated}</DateMAJ></Domaine>\n",
            escape(domain),
            escape(dn)
        ));
    }
    xml.push_str("</ListeDomaines>\n</ListeBlancheMSSante>\n");
    xml
}

/// XML character data: a DN may hold `&` or `<` (e.g. `O=A & B`).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_table() {
        let cases = [
            ("plain", "plain"),
            ("O=A & B", "O=A &amp; B"),
            ("<x>", "&lt;x&gt;"),
            ("&amp;", "&amp;amp;"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(escape(input), expected, "{input:?}");
        }
    }

    #[test]
    fn whitelist_lists_every_entry_escaped() {
        let xml = whitelist_xml(
            &[("a.fr", "CN=mail.a.fr,O=A"), ("b.fr", "CN=x,O=B & C")],
            "2026-11-01T00:00:00Z",
        );
        assert_eq!(xml.matches("<Domaine>").count(), 2);
        assert!(xml.contains("<Nom>a.fr</Nom><Description>bench</Description><DNCertificatOperateur>CN=mail.a.fr,O=A</DNCertificatOperateur>"));
        assert!(xml.contains("<DNCertificatOperateur>CN=x,O=B &amp; C</DNCertificatOperateur>"));
        assert!(xml.contains("<DateDeGeneration>2026-11-01T00:00:00Z</DateDeGeneration>"));
    }
}
