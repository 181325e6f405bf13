//! Table tests of the parser: valid documents, refused documents, skipped entries.

use super::*;
use crate::error::Error;
use mssd_certs::DistinguishedName;

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">
<DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>
<ListeDomaines>
"#;
const TAIL: &str = "</ListeDomaines>\n</ListeBlancheMSSante>\n";
const DN1: &str = "CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR";

fn doc(domains: &str) -> String {
    format!("{HEAD}{domains}{TAIL}")
}

fn domaine(name: &str, dn: &str) -> String {
    format!(
        "<Domaine><Nom>{name}</Nom><DNCertificatOperateur>{dn}</DNCertificatOperateur></Domaine>\n"
    )
}

fn dn(s: &str) -> DistinguishedName {
    DistinguishedName::parse(s).unwrap()
}

#[test]
fn the_ans_sample_parses() {
    let sample = include_bytes!("../../../shared/samples/liste-blanche-excerpt.xml");
    let list = parse(sample).unwrap();
    assert_eq!(list.domain_count(), 1);
    assert_eq!(list.entry_count(), 2);
    assert_eq!(
        list.generated_at().unwrap(),
        time::macros::datetime!(2025-03-13 14:54:10 UTC)
    );
    assert!(list.is_listed("15-20.mssante.fr"));
    assert!(list.dn_allowed("15-20.mssante.fr", &dn(DN1)));
    let entry = list.entry("15-20.mssante.fr").unwrap();
    assert_eq!(entry.operators().len(), 2);
    let first = &entry.operators()[0];
    assert_eq!(
        first.description.as_deref(),
        Some("Domaine de messagerie MSSanté géré par le GRADeS SESAN pour le 15-20")
    );
    assert_eq!(first.support_contact.as_deref(), Some("[phone], [email]"));
    assert_eq!(
        first.updated_at,
        Some(time::macros::datetime!(2025-01-27 15:49:34 UTC))
    );
    assert_eq!(list.parse_report().skipped, 0);
}

/// A valid document: (name, document, expected (domain, DN) pairs).
type ValidCase = (&'static str, String, Vec<(&'static str, &'static str)>);

#[test]
fn valid_documents_table() {
    let cases: Vec<ValidCase> = vec![
        ("one entry", doc(&domaine("a.mssante.fr", DN1)), vec![("a.mssante.fr", DN1)]),
        (
            "IDN name to A-label, upper case folded",
            doc(&domaine("Hôpital-Ü.MSSante.fr", "CN=x,C=FR")),
            vec![("xn--hpital--t0a2f.mssante.fr", "CN=x,C=FR")],
        ),
        (
            "entities and CDATA in values",
            doc(
                "<Domaine><Nom><![CDATA[b.fr]]></Nom>\
                 <DNCertificatOperateur>CN=a,O=R&amp;D &#x43;o,C=FR</DNCertificatOperateur></Domaine>",
            ),
            vec![("b.fr", "CN=a,O=R&D Co,C=FR")],
        ),
        (
            "prefixed namespace, comments, unknown elements ignored",
            "<?xml version=\"1.0\"?><!-- c --><lb:ListeBlancheMSSante xmlns:lb=\"https://listeblanche.mssante.fr/schema\">\
             <lb:Extra><lb:Domaine><lb:Nom>ignored.fr</lb:Nom></lb:Domaine></lb:Extra>\
             <lb:DateDeGeneration>2025-03-13T14:54:10+01:00</lb:DateDeGeneration>\
             <lb:ListeDomaines><lb:Domaine><lb:Nom> c.fr </lb:Nom><lb:Futur>x</lb:Futur>\
             <other:Nom xmlns:other=\"urn:x\">d.fr</other:Nom>\
             <lb:DNCertificatOperateur> CN=c , C=FR </lb:DNCertificatOperateur></lb:Domaine>\
             </lb:ListeDomaines></lb:ListeBlancheMSSante>"
                .to_owned(),
            vec![("c.fr", "CN=c,C=FR")],
        ),
        (
            "BOM, CRLF line ends",
            format!("\u{feff}{}", doc(&domaine("e.fr", "CN=e,C=FR")).replace('\n', "\r\n")),
            vec![("e.fr", "CN=e,C=FR")],
        ),
        (
            "same domain with two DNs, and a duplicate pair",
            doc(&[
                domaine("f.fr", "CN=1,C=FR"),
                domaine("F.fr", "CN=2,C=FR"),
                domaine("f.fr.", "cn=1, c=fr"),
            ]
            .concat()),
            vec![("f.fr", "CN=1,C=FR"), ("f.fr", "CN=2,C=FR")],
        ),
        (
            "empty list parses (refused later as empty)",
            doc(""),
            vec![],
        ),
        (
            "self-closing empty ListeDomaines",
            format!(
                "<ListeBlancheMSSante xmlns=\"{}\"><DateDeGeneration>2025-01-01T00:00:00Z</DateDeGeneration><ListeDomaines/></ListeBlancheMSSante>",
                crate::NAMESPACE
            ),
            vec![],
        ),
    ];
    for (name, document, expected) in cases {
        let list = parse(document.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut got: Vec<(String, String)> = list
            .entries()
            .flat_map(|e| {
                e.operators()
                    .iter()
                    .map(|o| (e.domain().to_owned(), o.dn.canonical().to_owned()))
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = expected
            .iter()
            .map(|(d, n)| (d.to_string(), dn(n).canonical()))
            .collect();
        want.sort();
        assert_eq!(got, want, "{name}");
        assert_eq!(list.entry_count(), want.len(), "{name}");
        assert_eq!(list.parse_report().skipped, 0, "{name}");
    }
}

#[test]
fn duplicates_are_counted_not_skipped() {
    let document = doc(&[domaine("f.fr", "CN=1,C=FR"), domaine("f.fr", "C=FR,CN=1")].concat());
    let report = parse(document.as_bytes()).unwrap().parse_report().clone();
    assert_eq!(
        (
            report.elements,
            report.entries,
            report.duplicates,
            report.skipped
        ),
        (2, 1, 1, 0)
    );
}

/// Documents refused whole: (name, document, expected error kind check, text expected).
#[test]
fn refused_documents_table() {
    let good = doc(&domaine("a.fr", DN1));
    let cut_in_tag = good[..good.find("</Nom>").unwrap() + 3].to_owned();
    let cut_after_domain = good[..good.find("</ListeDomaines>").unwrap()].to_owned();
    let cut_no_root_end = good[..good.find("</ListeBlancheMSSante>").unwrap()].to_owned();
    let no_date = good.replace(
        "<DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration>",
        "",
    );
    let bad_date = good.replace("2025-03-13T14:54:10Z", "13/03/2025 14:54");
    let two_dates = good.replace(
        "<ListeDomaines>",
        "<DateDeGeneration>2025-03-14T00:00:00Z</DateDeGeneration><ListeDomaines>",
    );
    let wrong_ns = good.replace(crate::NAMESPACE, "urn:other");
    let no_ns = good.replace(" xmlns=\"https://listeblanche.mssante.fr/schema\"", "");
    let mismatched = good.replace("</Nom>", "</Name>");
    let entity = good.replace("a.fr", "a.fr&nbsp;");
    let mut latin1 = good.clone().into_bytes();
    let at = good.find("a.fr").unwrap();
    latin1[at] = 0xe9;

    type Check = fn(&Error) -> bool;
    let cases: Vec<(&str, Vec<u8>, Check, &str)> = vec![
        (
            "empty input",
            vec![],
            |e| matches!(e, Error::NotXml { .. }),
            "no root element",
        ),
        (
            "whitespace only",
            b"  \n ".to_vec(),
            |e| matches!(e, Error::NotXml { .. }),
            "no root element",
        ),
        (
            "plain text",
            b"404 Not Found".to_vec(),
            |e| matches!(e, Error::NotXml { .. }),
            "text outside the root",
        ),
        (
            "JSON",
            b"{\"error\": 1}".to_vec(),
            |e| matches!(e, Error::NotXml { .. }),
            "line 1",
        ),
        (
            "HTML page",
            b"<html><body>maintenance</body></html>".to_vec(),
            |e| matches!(e, Error::WrongRoot { .. }),
            "<html> in no namespace",
        ),
        (
            "not UTF-8",
            latin1,
            |e| matches!(e, Error::NotXml { .. }),
            "not UTF-8",
        ),
        (
            "cut inside a tag",
            cut_in_tag.into_bytes(),
            |e| matches!(e, Error::Truncated { .. }),
            "<Nom>",
        ),
        (
            "cut after a Domaine",
            cut_after_domain.into_bytes(),
            |e| matches!(e, Error::Truncated { .. }),
            "<ListeDomaines> is still open",
        ),
        (
            "no closing root tag",
            cut_no_root_end.into_bytes(),
            |e| matches!(e, Error::Truncated { .. }),
            "<ListeBlancheMSSante>",
        ),
        (
            "no DateDeGeneration",
            no_date.into_bytes(),
            |e| matches!(e, Error::MissingGenerationDate),
            "no <DateDeGeneration>",
        ),
        (
            "bad DateDeGeneration",
            bad_date.into_bytes(),
            |e| {
                matches!(
                    e,
                    Error::BadDate {
                        element: "DateDeGeneration",
                        ..
                    }
                )
            },
            "line 3",
        ),
        (
            "two DateDeGeneration",
            two_dates.into_bytes(),
            |e| matches!(e, Error::Malformed { .. }),
            "appears twice",
        ),
        (
            "wrong namespace",
            wrong_ns.into_bytes(),
            |e| matches!(e, Error::WrongRoot { .. }),
            "namespace urn:other",
        ),
        (
            "no namespace",
            no_ns.into_bytes(),
            |e| matches!(e, Error::WrongRoot { .. }),
            "in no namespace",
        ),
        (
            "mismatched end tag",
            mismatched.into_bytes(),
            |e| matches!(e, Error::Malformed { .. }),
            "line 5",
        ),
        (
            "undefined entity",
            entity.into_bytes(),
            |e| matches!(e, Error::Malformed { .. }),
            "&nbsp;",
        ),
        (
            "second root",
            format!("{good}<ListeBlancheMSSante/>").into_bytes(),
            |e| matches!(e, Error::Malformed { .. }),
            "second root",
        ),
    ];
    for (name, input, check, text) in cases {
        match parse(&input) {
            Ok(list) => panic!("{name}: accepted with {} domains", list.domain_count()),
            Err(e) => {
                assert!(check(&e), "{name}: wrong error kind {e:?}");
                assert!(e.to_string().contains(text), "{name}: {e} lacks {text:?}");
            }
        }
    }
}

/// Bad entries are skipped with their position and reason; good ones are kept.
#[test]
fn skipped_entries_table() {
    let cases: Vec<(&str, String, &str)> = vec![
        ("no Nom", "<Domaine><DNCertificatOperateur>CN=x,C=FR</DNCertificatOperateur></Domaine>".into(), "no <Nom>"),
        ("empty Nom", "<Domaine><Nom> </Nom><DNCertificatOperateur>CN=x,C=FR</DNCertificatOperateur></Domaine>".into(), "no <Nom>"),
        ("bad name", domaine("bad_name.fr", "CN=x,C=FR"), "is not a domain name"),
        ("address literal", domaine("[1.2.3.4]", "CN=x,C=FR"), "is not a domain name"),
        ("no DN", "<Domaine><Nom>x.fr</Nom></Domaine>".into(), "no <DNCertificatOperateur>"),
        ("bad DN", domaine("x.fr", "not a DN"), "bad <DNCertificatOperateur>"),
        ("unknown DN attribute", domaine("x.fr", "FOO=bar,C=FR"), "bad <DNCertificatOperateur>"),
        (
            "bad DateMAJ",
            "<Domaine><Nom>x.fr</Nom><DNCertificatOperateur>CN=x,C=FR</DNCertificatOperateur><DateMAJ>hier</DateMAJ></Domaine>".into(),
            "<DateMAJ> \"hier\"",
        ),
        (
            "two Nom",
            "<Domaine><Nom>x.fr</Nom><Nom>y.fr</Nom><DNCertificatOperateur>CN=x,C=FR</DNCertificatOperateur></Domaine>".into(),
            "<Nom> appears twice",
        ),
        (
            "two DNs in one entry",
            "<Domaine><Nom>x.fr</Nom><DNCertificatOperateur>CN=x,C=FR</DNCertificatOperateur><DNCertificatOperateur>CN=y,C=FR</DNCertificatOperateur></Domaine>".into(),
            "<DNCertificatOperateur> appears twice",
        ),
        (
            "element inside Nom",
            "<Domaine><Nom>x.fr<b>!</b></Nom><DNCertificatOperateur>CN=x,C=FR</DNCertificatOperateur></Domaine>".into(),
            "unexpected element <b> inside <Nom>",
        ),
    ];
    for (name, bad, reason) in cases {
        let document = doc(&format!(
            "{}{bad}\n{}",
            domaine("good.fr", "CN=g,C=FR"),
            domaine("good2.fr", "CN=g,C=FR")
        ));
        let list = parse(document.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(list.domain_names(), ["good.fr", "good2.fr"], "{name}");
        let report = list.parse_report();
        assert_eq!((report.elements, report.skipped), (3, 1), "{name}");
        let skipped = &report.skipped_details[0];
        assert!(
            skipped.reason.contains(reason),
            "{name}: {:?}",
            skipped.reason
        );
        // HEAD has 4 lines, the good entry 1: the bad one starts on line 6.
        assert_eq!(skipped.position.line, 6, "{name}");
        assert_eq!(skipped.position.column, 1, "{name}");
    }
}

#[test]
fn skipped_details_are_bounded() {
    let bad: String = (0..250)
        .map(|i| domaine(&format!("bad_{i}.fr"), "CN=x,C=FR"))
        .collect();
    let document = doc(&format!("{bad}{}", domaine("ok.fr", "CN=x,C=FR")));
    let list = parse(document.as_bytes()).unwrap();
    assert_eq!(list.parse_report().skipped, 250);
    assert_eq!(
        list.parse_report().skipped_details.len(),
        ParseReport::MAX_SKIPPED_DETAILS
    );
    assert_eq!(list.domain_names(), ["ok.fr"]);
}

#[test]
fn lookups_normalise_other_spellings_and_fail_closed() {
    let list = parse(
        doc(&[
            domaine("hôpital.fr", "CN=h,O=Hop,C=FR"),
            domaine("b.fr", "CN=b,C=FR"),
        ]
        .concat())
        .as_bytes(),
    )
    .unwrap();
    let cases = [
        ("xn--hpital-ixa.fr", true),
        ("hôpital.fr", true),
        ("HÔPITAL.FR", true),
        ("b.fr", true),
        ("B.FR.", true),
        ("c.fr", false),
        ("", false),
        ("b.fr.evil.fr", false),
        ("fr", false),
    ];
    for (domain, listed) in cases {
        assert_eq!(list.is_listed(domain), listed, "domain {domain:?}");
    }
    let h = dn("o=hop ,  cn=H, c=FR");
    assert!(list.dn_allowed("xn--hpital-ixa.fr", &h));
    assert!(
        !list.dn_allowed("b.fr", &h),
        "a DN is allowed for its own domain only"
    );
    assert!(!list.dn_allowed("c.fr", &h));
    assert_eq!(list.domains_for_dn(&h), ["xn--hpital-ixa.fr"]);
    assert!(list.domains_for_dn(&dn("CN=nobody,C=FR")).is_empty());
    assert!(!TrustList::empty().is_listed("b.fr"));
}

/// Namespace scopes: each start tag opens one, closed after its end tag; an element is ours
/// only when its name resolves to the liste blanche namespace there.
#[test]
fn namespace_scopes_table() {
    let ns = crate::NAMESPACE;
    let entry = |open: &str, close: &str, prefix: &str, name: &str| {
        format!(
            "{open}<{prefix}Nom>{name}</{prefix}Nom><{prefix}DNCertificatOperateur>CN={name},C=FR\
             </{prefix}DNCertificatOperateur>{close}"
        )
    };
    let ok = domaine("ok.fr", "CN=ok,C=FR");
    // (case, body after a valid entry, domains listed or None when refused as malformed)
    let cases: Vec<(&str, String, Option<Vec<&str>>)> = vec![
        (
            "default namespace undeclared",
            entry("<Domaine xmlns=\"\">", "</Domaine>", "", "a.fr"),
            Some(vec!["ok.fr"]),
        ),
        (
            "a prefix does not outlive its empty element",
            format!(
                "<x:Marque xmlns:x=\"{ns}\"/>{}",
                entry("<x:Domaine>", "</x:Domaine>", "x:", "b.fr")
            ),
            Some(vec!["ok.fr"]),
        ),
        (
            "a prefix does not outlive its element",
            format!(
                "{}{}",
                entry(
                    &format!("<p:Domaine xmlns:p=\"{ns}\">"),
                    "</p:Domaine>",
                    "p:",
                    "c.fr"
                ),
                entry("<p:Domaine>", "</p:Domaine>", "p:", "d.fr")
            ),
            Some(vec!["c.fr", "ok.fr"]),
        ),
        (
            "a foreign prefix inside an entry is ignored",
            entry(
                "<Domaine xmlns:p=\"urn:other\"><p:Nom>x.fr</p:Nom>",
                "</Domaine>",
                "",
                "e.fr",
            ),
            Some(vec!["e.fr", "ok.fr"]),
        ),
        (
            "the namespace declared again on an entry",
            entry(
                &format!("<Domaine xmlns=\"{ns}\">"),
                "</Domaine>",
                "",
                "f.fr",
            ),
            Some(vec!["f.fr", "ok.fr"]),
        ),
        (
            "xml prefix bound elsewhere",
            entry(
                "<Domaine xmlns:xml=\"urn:wrong\">",
                "</Domaine>",
                "",
                "g.fr",
            ),
            None,
        ),
        (
            "xmlns prefix declared",
            entry("<Domaine xmlns:xmlns=\"urn:x\">", "</Domaine>", "", "h.fr"),
            None,
        ),
    ];
    for (name, body, expected) in cases {
        let result = parse(doc(&format!("{ok}{body}")).as_bytes());
        match expected {
            Some(domains) => {
                let list = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(list.domain_names(), domains, "{name}");
            }
            None => assert!(
                matches!(result, Err(Error::Malformed { .. })),
                "{name}: {result:?}"
            ),
        }
    }
}

/// Reusing the list in force changes nothing in the result: same entries, same DN index,
/// same report, whether entries repeat it, respell it, change or break.
#[test]
fn reusing_the_list_in_force_gives_the_same_list() {
    let old = doc(&[
        domaine("a.fr", "CN=a,C=FR"),
        domaine("Hôpital.fr", "CN=h,O=Hôp,C=FR"),
        domaine("b.fr", "CN=b1,C=FR"),
        domaine("b.fr", "CN=b2,C=FR"),
        domaine("gone.fr", "CN=g,C=FR"),
    ]
    .concat());
    let new = doc(&[
        domaine("a.fr", "CN=a,C=FR"),
        domaine("A.FR", "cn=A, c=fr"),
        domaine("Hôpital.fr", "CN=h,O=Hôp,C=FR"),
        domaine("xn--hpital-ixa.fr", "CN=h2,C=FR"),
        domaine("b.fr", "CN=b2,C=FR"),
        domaine("b.fr", "CN=b3 ,C=FR"),
        domaine("new.fr", "CN=a,C=FR"),
        domaine("bad.fr", "CN=a;C=FR"),
        domaine("-bad.fr", "CN=a,C=FR"),
    ]
    .concat());
    let in_force = parse(old.as_bytes()).unwrap();
    let sha = hex::encode(Sha256::digest(new.as_bytes()));
    let fresh = parse_with_digest(new.as_bytes(), sha.clone(), None).unwrap();
    let reusing = parse_with_digest(new.as_bytes(), sha, Some(&in_force)).unwrap();
    let describe = |list: &TrustList| {
        let mut entries: Vec<String> = list.entries().map(|e| format!("{e:?}")).collect();
        entries.sort();
        (
            entries,
            list.domains_by_dn.clone(),
            list.parse_report().clone(),
        )
    };
    assert_eq!(describe(&reusing), describe(&fresh));
    assert_eq!(fresh.domain_count(), 4);
    assert_eq!(fresh.parse_report().skipped, 2);
}
