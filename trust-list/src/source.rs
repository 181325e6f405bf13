//! Where a list (and its checksum) comes from, and fetching it verified.

use sha2::{Digest, Sha256};
use tracing::debug;

use crate::checksum::{digest_from_checksum_text, parse_hex_digest};
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
pub use crate::location::Location;

/// The expected SHA-256 of the list: given as hex, or read from a document whose content
/// starts with the hex digest (ANS publishes one beside the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checksum {
    Hex(String),
    At(Location),
}

impl Checksum {
    /// 64 hex digits are a digest; anything else is a [`Location`].
    pub fn parse(input: &str) -> Result<Checksum> {
        let trimmed = input.trim();
        match parse_hex_digest(trimmed) {
            Ok(hex) => Ok(Checksum::Hex(hex)),
            Err(_) => Ok(Checksum::At(Location::parse(trimmed)?)),
        }
    }
}

/// A list location, its optional checksum, and the fetcher to read them with.
#[derive(Clone, Debug)]
pub struct TrustListSource {
    pub list: Location,
    pub checksum: Option<Checksum>,
    pub fetcher: Fetcher,
}

/// Bytes of a list whose checksum (when one is configured) matched.
#[derive(Debug)]
pub(crate) struct VerifiedList {
    pub(crate) bytes: Vec<u8>,
    pub(crate) sha256: String,
}

impl TrustListSource {
    pub fn new(list: Location, checksum: Option<Checksum>, fetcher: Fetcher) -> TrustListSource {
        TrustListSource {
            list,
            checksum,
            fetcher,
        }
    }

    /// Fetches the list and checks it against the checksum before anything else reads it.
    pub(crate) async fn fetch_verified(&self) -> Result<VerifiedList> {
        let bytes = self.fetcher.fetch(&self.list).await?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(checksum) = &self.checksum {
            let (expected, origin) = match checksum {
                Checksum::Hex(hex) => (hex.clone(), "the configured sha256".to_owned()),
                Checksum::At(location) => {
                    let text = self.fetcher.fetch(location).await?;
                    let origin = location.to_string();
                    (digest_from_checksum_text(&text, &origin)?, origin)
                }
            };
            if expected != sha256 {
                return Err(Error::ChecksumMismatch {
                    origin,
                    expected,
                    actual: sha256,
                });
            }
            debug!(list = %self.list, "liste blanche checksum verified");
        }
        Ok(VerifiedList { bytes, sha256 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_table() {
        let valid = [
            (
                "https://listeblanche.mssante.fr/listeblanche.xml",
                Location::Https("https://listeblanche.mssante.fr/listeblanche.xml".into()),
            ),
            (
                "HTTPS://Example.FR:8443/a.xml",
                Location::Https("https://example.fr:8443/a.xml".into()),
            ),
            (
                "/etc/mssd/liste.xml",
                Location::File("/etc/mssd/liste.xml".into()),
            ),
            (" liste.xml ", Location::File("liste.xml".into())),
            ("file:///tmp/l.xml", Location::File("/tmp/l.xml".into())),
        ];
        for (input, expected) in valid {
            assert_eq!(Location::parse(input).unwrap(), expected, "input {input:?}");
        }
        let invalid = [
            ("", "empty"),
            (
                "http://listeblanche.mssante.fr/x.xml",
                "plain http is refused",
            ),
            ("ftp://host/x.xml", "only https://"),
            ("https://", "not a valid URL"),
            ("https://exa mple.fr/x", "not a valid URL"),
        ];
        for (input, expected) in invalid {
            let err = Location::parse(input).unwrap_err().to_string();
            assert!(err.contains(expected), "input {input:?}: {err}");
        }
    }

    #[test]
    fn checksum_table() {
        let d = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let cases = [
            (d.to_owned(), Checksum::Hex(d.to_owned())),
            (d.to_ascii_uppercase(), Checksum::Hex(d.to_owned())),
            (
                "https://h.fr/l.xml.sha256".to_owned(),
                Checksum::At(Location::Https("https://h.fr/l.xml.sha256".into())),
            ),
            (
                "/var/l.sha256".to_owned(),
                Checksum::At(Location::File("/var/l.sha256".into())),
            ),
            // One digit short: not a digest, so a (strange) file name.
            (
                d[..63].to_owned(),
                Checksum::At(Location::File(d[..63].into())),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Checksum::parse(&input).unwrap(),
                expected,
                "input {input:?}"
            );
        }
        assert!(Checksum::parse("http://h.fr/x").is_err());
    }
}
