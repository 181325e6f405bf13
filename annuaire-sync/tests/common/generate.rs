//! Extraction files with the real headers, generated for tests and the benchmark.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

pub const CORRESPONDANCE_HEADER: &str =
    include_str!("../fixtures/extraction-correspondance-mssante.header.txt");
pub const PERSONNE_HEADER: &str =
    include_str!("../fixtures/ps-libreacces-personne-activite.header.txt");

/// The column names of a header (a trailing empty name from a final `|` dropped).
pub fn columns(header: &str) -> Vec<String> {
    let mut names: Vec<String> = header.trim_end().split('|').map(str::to_owned).collect();
    if names.last().is_some_and(String::is_empty) {
        names.pop();
    }
    names
}

/// A valid RPPS (11 digits, Luhn) made from `n`.
pub fn rpps(n: u64) -> String {
    let payload = format!("1{:09}", n % 1_000_000_000);
    (0..10)
        .map(|d| format!("{payload}{d}"))
        .find(|candidate| mssd_core::luhn_valid(candidate))
        .unwrap_or_default()
}

/// One line with `values` in the named columns (others empty), in the order of `columns`.
pub fn line(columns: &[String], values: &[(&str, String)]) -> String {
    columns
        .iter()
        .map(|name| {
            values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        })
        .collect::<Vec<_>>()
        .join("|")
}

const FIRST_NAMES: [&str; 8] = [
    "Jean",
    "Hélène",
    "Émile",
    "Anne",
    "François",
    "Zoé",
    "Loïc",
    "Marie",
];
const LAST_NAMES: [&str; 8] = [
    "DUPONT", "MARTIN", "LÉGER", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD",
];

/// The values of mailbox number `i` of a generated Correspondance file.
pub fn mailbox_values(i: u64) -> Vec<(&'static str, String)> {
    let kind = match i % 10 {
        0 => "ORG",
        1 => "APP",
        _ => "PER",
    };
    let structure = 100_000 + (i / 50);
    let mut v = vec![
        ("Type de BAL", kind.to_owned()),
        (
            "Adresse BAL",
            format!("bal.{i}@etab-{}.mssante.fr", i % 997),
        ),
        ("Identification Structure", format!("1{:09}", structure)),
        ("Type identifiant structure", "1".to_owned()),
        (
            "Raison Sociale structure BAL",
            format!("CENTRE HOSPITALIER NUMÉRO {structure}"),
        ),
        (
            // A structure's address is the same on all its mailboxes, as in the real file.
            "Code postal structure BAL",
            format!("{:05}", 1000 + structure % 95_000),
        ),
        (
            "L6LIGNEACHEMINEMENT structure BAL",
            format!(
                "{:05} VILLE {}",
                1000 + structure % 95_000,
                structure % 3000
            ),
        ),
        ("Pays structure BAL", "FRANCE".to_owned()),
        ("Dématérialisation", "O".to_owned()),
    ];
    if kind == "PER" {
        v.extend([
            ("Type Identifiant PP", "8".to_owned()),
            ("Identifiant PP", rpps(i)),
            ("Identification nationale PP", format!("8{}", rpps(i))),
            ("Civilité d'exercice", "DR".to_owned()),
            (
                "Nom d'exercice",
                format!("{}{}", LAST_NAMES[(i % 8) as usize], i / 8),
            ),
            (
                "Prénom d'exercice",
                FIRST_NAMES[(i / 8 % 8) as usize].to_owned(),
            ),
            ("Catégorie profession", "C".to_owned()),
            ("Code Profession", "10".to_owned()),
            ("Libellé Profession", "Médecin".to_owned()),
            ("Libellé savoir-faire", "Médecine générale".to_owned()),
        ]);
    } else {
        v.push(("Service de rattachement", format!("Service {}", i % 40)));
    }
    v
}

/// The values of activity line `i` of a generated PS file: professional `i / 2`, two
/// activities each.
pub fn activity_values(i: u64) -> Vec<(&'static str, String)> {
    let p = i / 2;
    vec![
        ("Type d'identifiant PP", "8".to_owned()),
        ("Identifiant PP", rpps(p)),
        ("Identification nationale PP", format!("8{}", rpps(p))),
        ("Code civilité d'exercice", "DR".to_owned()),
        ("Libellé civilité d'exercice", "Docteur".to_owned()),
        (
            "Nom d'exercice",
            format!("{}{}", LAST_NAMES[(p % 8) as usize], p / 8),
        ),
        (
            "Prénom d'exercice",
            FIRST_NAMES[(p / 8 % 8) as usize].to_owned(),
        ),
        ("Code profession", "10".to_owned()),
        ("Libellé profession", "Médecin".to_owned()),
        (
            "Libellé mode exercice",
            if i.is_multiple_of(2) {
                "Libéral"
            } else {
                "Salarié"
            }
            .to_owned(),
        ),
        (
            "Numéro SIRET site",
            format!("{:014}", 10_000_000_000_000 + i),
        ),
        (
            "Numéro FINESS site",
            format!("{:09}", 100_000_000 + i % 50_000),
        ),
        (
            "Identifiant technique de la structure",
            format!("R{:010}", i),
        ),
        ("Raison sociale site", format!("CABINET {}", i % 100_000)),
        (
            "Code postal (coord. structure)",
            format!("{:05}", 1000 + i % 95_000),
        ),
        (
            "Libellé commune (coord. structure)",
            format!("COMMUNE {}", i % 30_000),
        ),
        ("Libellé pays (coord. structure)", "France".to_owned()),
        (
            "Libellé secteur d'activité",
            "Cabinet individuel".to_owned(),
        ),
    ]
}

/// Writes a Correspondance file of `count` generated mailboxes with the real header.
pub fn write_correspondance(path: &Path, count: u64) {
    let cols = columns(CORRESPONDANCE_HEADER);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "{}", CORRESPONDANCE_HEADER.trim_end()).unwrap();
    for i in 0..count {
        writeln!(out, "{}", line(&cols, &mailbox_values(i))).unwrap();
    }
    out.flush().unwrap();
}

/// Writes a PS file of `count` generated activity lines (trailing `|`, like the real file).
pub fn write_personne(path: &Path, count: u64) {
    let cols = columns(PERSONNE_HEADER);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "{}", PERSONNE_HEADER.trim_end()).unwrap();
    for i in 0..count {
        writeln!(out, "{}|", line(&cols, &activity_values(i))).unwrap();
    }
    out.flush().unwrap();
}

/// Zips `content` as the single entry `name` (deflate).
pub fn write_zip(path: &Path, name: &str, content: &[u8]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(name, options).unwrap();
    zip.write_all(content).unwrap();
    zip.finish().unwrap();
}
