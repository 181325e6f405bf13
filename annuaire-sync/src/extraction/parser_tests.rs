//! Table tests of the extraction parser on the real headers.

use super::columns::FileKind;
use super::parser::ExtractionParser;
use super::rows::Row;
use crate::error::Error;

const CORRESPONDANCE: &str =
    include_str!("../../tests/fixtures/extraction-correspondance-mssante.header.txt");
const PERSONNE: &str =
    include_str!("../../tests/fixtures/ps-libreacces-personne-activite.header.txt");

/// A Correspondance line with the given values in the named columns, empty elsewhere.
fn line(header: &str, values: &[(&str, &str)]) -> String {
    header
        .trim_end()
        .split('|')
        .map(|name| {
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .unwrap_or("")
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn parser(header: &str) -> ExtractionParser {
    let mut p = ExtractionParser::new();
    assert_eq!(p.feed(header.trim_end().as_bytes()).unwrap(), None);
    p
}

#[test]
fn detects_both_headers_and_refuses_others() {
    let cases: &[(&str, Result<FileKind, &str>)] = &[
        (CORRESPONDANCE, Ok(FileKind::ExtractionCorrespondance)),
        (PERSONNE, Ok(FileKind::PersonneActivite)),
        // Reordered columns and an extra one.
        (
            "Nouvelle colonne|Adresse BAL|Type de BAL|Identification nationale PP|Identification Structure|Raison Sociale structure BAL|Prénom d'exercice|Nom d'exercice",
            Ok(FileKind::ExtractionCorrespondance),
        ),
        // A byte order mark, spaces and typographic apostrophes.
        (
            "\u{feff} Type de BAL |Adresse BAL|Identification nationale PP|Identification Structure|Raison Sociale structure BAL|Nom d\u{2019}exercice|Prénom d'exercice",
            Ok(FileKind::ExtractionCorrespondance),
        ),
        (
            "Type de BAL|Adresse BAL|Identification Structure",
            Err(
                "lacks the required column(s) [\"Identification nationale PP\", \"Raison Sociale structure BAL\", \"Nom d'exercice\", \"Prénom d'exercice\"]",
            ),
        ),
        (
            "Identification nationale PP|Nom d'exercice|",
            Err("lacks the required column(s) [\"Prénom d'exercice\"]"),
        ),
        ("a|b|c", Err("unrecognised header")),
        ("", Err("unrecognised header")),
    ];
    for (header, expected) in cases {
        let mut p = ExtractionParser::new();
        let got = p.feed(header.trim_end().as_bytes()).map(|_| p.kind());
        match (got, expected) {
            (Ok(kind), Ok(want)) => assert_eq!(kind, Some(*want), "{header}"),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{header}: {e}"),
            (got, want) => panic!("{header}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn correspondance_lines() {
    let ok = |extra: &[(&str, &str)]| {
        // Values given first win: `line` takes the first match of a column.
        let mut values = extra.to_vec();
        values.extend_from_slice(&[
            ("Type de BAL", "PER"),
            ("Adresse BAL", "jean.dupont@hopital.mssante.fr"),
            ("Identification nationale PP", "810001045367"),
            ("Nom d'exercice", "DUPONT"),
        ]);
        line(CORRESPONDANCE, &values)
    };
    type Expected = Result<(&'static str, &'static str), &'static str>;
    let cases: Vec<(String, Expected)> = vec![
        (ok(&[]), Ok(("jean.dupont@hopital.mssante.fr", "PER"))),
        (
            format!("{}|", ok(&[])),
            Ok(("jean.dupont@hopital.mssante.fr", "PER")),
        ),
        (
            format!("{}\r", ok(&[])).trim_end_matches('\r').to_owned(),
            Ok(("jean.dupont@hopital.mssante.fr", "PER")),
        ),
        (
            ok(&[("Type de BAL", "org"), ("Identification nationale PP", "")]),
            Ok(("jean.dupont@hopital.mssante.fr", "ORG")),
        ),
        (
            ok(&[("Type de BAL", "CITIZEN")]),
            Err("Type de BAL \"CITIZEN\" is not PER, ORG, APP or CAB"),
        ),
        (ok(&[("Type de BAL", "")]), Err("Type de BAL is empty")),
        (ok(&[("Adresse BAL", "")]), Err("Adresse BAL is empty")),
        (
            ok(&[("Adresse BAL", "no-at-sign.mssante.fr")]),
            Err("bad Adresse BAL"),
        ),
        (
            ok(&[("Identification nationale PP", "810001045368")]),
            Err("bad Identification nationale PP"),
        ),
        (
            ok(&[("Identification nationale PP", "9123")]),
            Err("bad Identification nationale PP"),
        ),
        (
            format!("{}|x", ok(&[])),
            Err("expected 31 fields, found 32"),
        ),
        (
            "PER|a@b.mssante.fr".to_owned(),
            Err("expected 31 fields, found 2"),
        ),
    ];
    for (text, expected) in cases {
        let mut p = parser(CORRESPONDANCE);
        let got = p.feed(text.as_bytes()).unwrap();
        match (got, expected) {
            (Some(Row::Mailbox(m)), Ok((address, kind))) => {
                assert_eq!(
                    (m.address.as_str(), m.kind.as_str()),
                    (address, kind),
                    "{text}"
                );
                assert_eq!(m.last_name.as_deref(), Some("DUPONT"));
                assert_eq!(m.first_name, None);
            }
            (None, Err(reason)) => {
                let kept = &p.counts().malformed_lines;
                assert_eq!(kept.len(), 1, "{text}");
                assert_eq!(kept[0].line, 2);
                assert!(
                    kept[0].reason.contains(reason),
                    "{text}: {}",
                    kept[0].reason
                );
            }
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn personne_activite_lines() {
    let header = PERSONNE.trim_end();
    let width = header.split('|').count(); // includes the trailing empty name
    let row = |id_type: &str, id: &str, id_nat: &str, name: &str| {
        let mut fields = vec![""; width];
        fields[0] = id_type;
        fields[1] = id;
        fields[2] = id_nat;
        fields[7] = name;
        fields.join("|")
    };
    let cases: Vec<(String, Result<&str, &str>)> = vec![
        (
            row("8", "10001045367", "810001045367", "DUPONT"),
            Ok("810001045367"),
        ),
        (
            row("0", "012600631", "0012600631", "MARTIN"),
            Ok("0012600631"),
        ),
        // Without the trailing `|`.
        (
            row("8", "10001045367", "810001045367", "X")
                .strip_suffix('|')
                .unwrap()
                .to_owned(),
            Ok("810001045367"),
        ),
        (
            row("8", "", "", "X"),
            Err("Identification nationale PP is empty"),
        ),
        (
            row("8", "1", "81", "X"),
            Err("bad Identification nationale PP"),
        ),
        (
            format!("{}||", row("8", "1", "810001045367", "X")),
            Err("expected 52 fields, found 55"),
        ),
    ];
    for (text, expected) in cases {
        let mut p = parser(PERSONNE);
        let got = p.feed(text.as_bytes()).unwrap();
        match (got, expected) {
            (Some(Row::Activity(a)), Ok(id)) => assert_eq!(a.professional.id_nat_ps, id),
            (None, Err(reason)) => {
                let kept = &p.counts().malformed_lines;
                assert!(
                    kept[0].reason.contains(reason),
                    "{text}: {}",
                    kept[0].reason
                );
            }
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn latin1_stops_and_counts_are_exact() {
    let mut p = parser(CORRESPONDANCE);
    let good = line(
        CORRESPONDANCE,
        &[("Type de BAL", "ORG"), ("Adresse BAL", "a@b.mssante.fr")],
    );
    assert!(p.feed(good.as_bytes()).unwrap().is_some());
    assert_eq!(p.feed(b"").unwrap(), None);
    assert_eq!(p.feed(b"junk").unwrap(), None);
    assert_eq!(p.feed(b"\x00\xff").unwrap(), None);
    let latin1 = good
        .into_bytes()
        .into_iter()
        .chain(b"H\xf4pital".iter().copied())
        .collect::<Vec<_>>();
    let err = p.feed(&latin1).unwrap_err();
    assert!(matches!(err, Error::Latin1 { line: 6 }), "{err}");
    let c = p.counts();
    assert_eq!(
        (c.lines, c.blank_lines, c.accepted, c.malformed),
        (3, 1, 1, 2)
    );
    assert_eq!(c.malformed_lines[1].line, 5);
    assert!(c.malformed_lines[1].reason.contains("not valid UTF-8"));
}

#[test]
fn keeps_only_the_first_malformed_lines() {
    let mut p = parser(CORRESPONDANCE);
    for _ in 0..250 {
        p.feed(b"bad").unwrap();
    }
    let c = p.counts();
    assert_eq!(c.malformed, 250);
    assert_eq!(c.malformed_lines.len(), super::parser::MAX_MALFORMED_KEPT);
    assert_eq!(c.malformed_lines.last().map(|m| m.line), Some(101));
}
