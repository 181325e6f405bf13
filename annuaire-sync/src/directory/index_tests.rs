//! Table tests of the lookup index.

use mssd_core::{Address, MailboxKind};
use mssd_store::DirectoryMailbox;

use super::index::{Directory, QueryKind, classify};

fn m(
    address: &str,
    kind: MailboxKind,
    id_nat: Option<&str>,
    last: Option<&str>,
    first: Option<&str>,
    structure: (&str, &str),
    red: bool,
) -> DirectoryMailbox {
    DirectoryMailbox {
        address: Address::parse(address).unwrap(),
        kind,
        id_nat_ps: id_nat.map(str::to_owned),
        structure_id: Some(structure.0.to_owned()),
        structure_name: Some(structure.1.to_owned()),
        service: None,
        civility: None,
        last_name: last.map(str::to_owned),
        first_name: first.map(str::to_owned),
        profession: Some("Médecin".to_owned()),
        specialty: None,
        postal_code: None,
        city: None,
        red_listed: red,
    }
}

fn directory() -> Directory {
    let chu = ("1750712184", "CHU de Saint-Étienne");
    let cab = ("312345678901234", "Cabinet Dupré");
    Directory::from_mailboxes(&[
        m(
            "Jean.Dupont@chu.mssante.fr",
            MailboxKind::Per,
            Some("810001045367"),
            Some("DUPONT"),
            Some("Jean"),
            chu,
            false,
        ),
        m(
            "helene.dupre@cab.mssante.fr",
            MailboxKind::Per,
            Some("0012600631"),
            Some("DUPRÉ"),
            Some("Hélène"),
            cab,
            false,
        ),
        m(
            "cachee@chu.mssante.fr",
            MailboxKind::Per,
            Some("810001045375"),
            Some("DUPUIS"),
            Some("Anne"),
            chu,
            true,
        ),
        m(
            "urgences@chu.mssante.fr",
            MailboxKind::Org,
            None,
            None,
            None,
            chu,
            false,
        ),
        m(
            "jean.dupont@cab.mssante.fr",
            MailboxKind::Per,
            Some("810001045367"),
            Some("Dupont"),
            Some("Jean"),
            cab,
            false,
        ),
    ])
}

#[test]
fn lookups() {
    let d = directory();
    let cases: &[(&str, &[&str])] = &[
        (
            "jean.dupont@chu.mssante.fr",
            &["Jean.Dupont@chu.mssante.fr"],
        ),
        (
            "JEAN.DUPONT@CHU.mssante.fr",
            &["Jean.Dupont@chu.mssante.fr"],
        ),
        ("nobody@chu.mssante.fr", &[]),
        // Red-listed: never returned, whatever the query.
        ("cachee@chu.mssante.fr", &[]),
        ("810001045375", &[]),
        ("dupuis", &[]),
        // RPPS, idNat_PS, ADELI.
        (
            "10001045367",
            &["Jean.Dupont@chu.mssante.fr", "jean.dupont@cab.mssante.fr"],
        ),
        (
            "810001045367",
            &["Jean.Dupont@chu.mssante.fr", "jean.dupont@cab.mssante.fr"],
        ),
        ("012600631", &["helene.dupre@cab.mssante.fr"]),
        // Names: prefix, case and accents ignored, "last first".
        ("dupre", &["helene.dupre@cab.mssante.fr"]),
        ("Dupré Hél", &["helene.dupre@cab.mssante.fr"]),
        (
            "dupont jean",
            &["Jean.Dupont@chu.mssante.fr", "jean.dupont@cab.mssante.fr"],
        ),
        (
            "dup",
            &[
                "Jean.Dupont@chu.mssante.fr",
                "jean.dupont@cab.mssante.fr",
                "helene.dupre@cab.mssante.fr",
            ],
        ),
        // Structures: FINESS (bare and idNat_Struct), SIRET, name prefix.
        (
            "750712184",
            &["Jean.Dupont@chu.mssante.fr", "urgences@chu.mssante.fr"],
        ),
        (
            "1750712184",
            &["Jean.Dupont@chu.mssante.fr", "urgences@chu.mssante.fr"],
        ),
        (
            "12345678901234",
            &["helene.dupre@cab.mssante.fr", "jean.dupont@cab.mssante.fr"],
        ),
        (
            "chu de saint etienne",
            &["Jean.Dupont@chu.mssante.fr", "urgences@chu.mssante.fr"],
        ),
        ("", &[]),
        ("   ", &[]),
    ];
    for (query, expected) in cases {
        let got: Vec<&str> = d.lookup(query, 10).iter().map(|e| e.address()).collect();
        assert_eq!(&got, expected, "{query:?}");
    }
    assert_eq!(d.lookup("dup", 1).len(), 1);
}

#[test]
fn routing_sees_red_listed_entries() {
    let d = directory();
    let hidden = Address::parse("Cachee@chu.mssante.fr").unwrap();
    assert!(d.knows(&hidden));
    assert!(d.by_address(&hidden).unwrap().red_listed());
    assert!(!d.knows(&Address::parse("x@chu.mssante.fr").unwrap()));
    assert_eq!(d.len(), 5);
}

#[test]
fn classifies_queries() {
    let cases = [
        ("a@B.fr", QueryKind::Address("a@b.fr".to_owned())),
        (
            "12345678901",
            QueryKind::Identifier(
                vec!["12345678901".into(), "812345678901".into()],
                vec!["12345678901".into()],
            ),
        ),
        (
            "2A0012345",
            QueryKind::Identifier(
                vec!["2A0012345".into()],
                vec!["2A0012345".into(), "12A0012345".into()],
            ),
        ),
        ("Dupont", QueryKind::Text("dupont".into())),
        ("1234", QueryKind::Text("1234".into())),
    ];
    for (query, expected) in cases {
        assert_eq!(classify(query), expected, "{query}");
    }
}

#[test]
fn entry_serialises_without_absent_fields() {
    let d = directory();
    let e = d.lookup("urgences@chu.mssante.fr", 1)[0];
    let json = serde_json::to_value(e).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "address": "urgences@chu.mssante.fr", "kind": "ORG", "profession": "Médecin",
            "structure_id": "1750712184", "structure_name": "CHU de Saint-Étienne"
        })
    );
}
