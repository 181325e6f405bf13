//! Helpers shared by the integration tests and the benchmark: generated lists, file sources.
#![allow(dead_code)]

pub mod https;

use std::path::{Path, PathBuf};

use mssd_trust_list::{
    Checksum, FetchOptions, Fetcher, Location, RefreshOutcome, RefreshStatus, TrustListSource,
};

pub const NS: &str = "https://listeblanche.mssante.fr/schema";

/// One `<Domaine>`: the name and DN exactly as the XML will spell them.
#[derive(Clone, Debug)]
pub struct Entry {
    pub name: String,
    pub dn: String,
}

impl Entry {
    pub fn new(name: impl Into<String>, dn: impl Into<String>) -> Entry {
        Entry {
            name: name.into(),
            dn: dn.into(),
        }
    }
}

/// A complete liste blanche document.
pub fn list_xml(generated_at: &str, entries: &[Entry]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListeBlancheMSSante xmlns=\"{NS}\">\n\
         <DateDeGeneration>{generated_at}</DateDeGeneration>\n<ListeDomaines>\n"
    );
    for entry in entries {
        xml.push_str(&format!(
            "<Domaine>\n<Nom>{}</Nom>\n<Description>Messagerie de {}</Description>\n\
             <DNCertificatOperateur>{}</DNCertificatOperateur>\n\
             <ResponsableContact>01 02 03 04 05, dpo@{}</ResponsableContact>\n\
             <SupportContact>support@{}</SupportContact>\n<DateMAJ>2025-01-27T15:49:34Z</DateMAJ>\n\
             </Domaine>\n",
            entry.name, entry.name, entry.dn, entry.name, entry.name
        ));
    }
    xml.push_str("</ListeDomaines>\n</ListeBlancheMSSante>\n");
    xml
}

/// The operator DN number `j` of domain `i`, in the whitelist's order and spacing.
pub fn operator_dn(i: usize, j: usize) -> String {
    format!("CN=smtp-{j}.op{i}.santnet.com,OU=17500{i:05},O=Operateur {i},ST=Paris (75),C=FR")
}

/// The same DN as a certificate would give it: other order, spacing and case.
pub fn operator_dn_respelled(i: usize, j: usize) -> String {
    format!(
        "c=fr , st = PARIS  (75) , o=OPERATEUR {i},ou=17500{i:05}, cn = SMTP-{j}.op{i}.santnet.com"
    )
}

/// Domain `i` under `zone`, plain ASCII; every 7th one is an IDN (U-label, mixed case).
pub fn domain_name(zone: &str, i: usize) -> String {
    if i % 7 == 3 {
        format!("Hôpital-Ü-{i}.{zone}.mssante.fr")
    } else {
        format!("etab-{i}.{zone}.mssante.fr")
    }
}

/// Domain `i` as `normalize_domain` gives it.
pub fn normalised(zone: &str, i: usize) -> String {
    mssd_core::normalize_domain(&domain_name(zone, i)).unwrap()
}

/// Entries for `domains` domains of `zone`; domain `i` has `i % 3 + 1` operator DNs, so a
/// domain appears up to three times, its entries spread through the list.
pub fn generated_entries(zone: &str, domains: usize) -> Vec<Entry> {
    let mut entries = Vec::new();
    for j in 0..3 {
        for i in 0..domains {
            if j < i % 3 + 1 {
                entries.push(Entry::new(domain_name(zone, i), operator_dn(i, j)));
            }
        }
    }
    entries
}

/// Simple entries `d0.zone.fr`..: one DN each.
pub fn simple_entries(zone: &str, range: std::ops::Range<usize>) -> Vec<Entry> {
    range
        .map(|i| {
            Entry::new(
                format!("d{i}.{zone}.fr"),
                format!("CN=mta.d{i}.{zone}.fr,C=FR"),
            )
        })
        .collect()
}

/// A generation date `n` days after 2025-01-01.
pub fn day(n: u32) -> String {
    let date = time::macros::datetime!(2025-01-01 00:00:00 UTC) + time::Duration::days(n.into());
    date.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Writes `content` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A source reading `path`, with an optional checksum.
pub fn file_source(path: &Path, checksum: Option<Checksum>) -> TrustListSource {
    TrustListSource::new(
        Location::File(path.to_path_buf()),
        checksum,
        Fetcher::files_only(FetchOptions::default()),
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Asserts the status records exactly `refused` refusals, the last of `kind` with `text`.
pub fn assert_refused(status: &RefreshStatus, kind: &str, text: &str, refused: u64) {
    match &status.last_result {
        Some(RefreshOutcome::Refused { kind: k, reason }) => {
            assert_eq!(*k, kind, "reason: {reason}");
            assert!(reason.contains(text), "{reason:?} lacks {text:?}");
        }
        other => panic!("expected a refusal of kind {kind}, status has {other:?}"),
    }
    assert_eq!(status.refused, refused);
    assert!(status.last_attempt.is_some());
}
