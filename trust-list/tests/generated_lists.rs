//! Large generated lists: thousands of entries, domains repeated with several DNs, IDN names,
//! DNs spelled differently by certificates.

mod common;

use common::{Entry, generated_entries, list_xml, normalised, operator_dn, operator_dn_respelled};
use mssd_certs::DistinguishedName;
use mssd_trust_list::parse;

const DOMAINS: usize = 4000;

#[test]
fn thousands_of_entries_with_repeated_domains_and_idn_names() {
    let entries = generated_entries("gen", DOMAINS);
    // 4000 domains with 1, 2 or 3 DNs each.
    assert_eq!(
        entries.len(),
        (0..DOMAINS).map(|i| i % 3 + 1).sum::<usize>()
    );
    let xml = list_xml("2025-06-01T08:00:00Z", &entries);
    let list = parse(xml.as_bytes()).unwrap();

    assert_eq!(list.domain_count(), DOMAINS);
    assert_eq!(list.entry_count(), entries.len());
    assert_eq!(list.parse_report().skipped, 0);
    assert_eq!(list.parse_report().duplicates, 0);

    for i in 0..DOMAINS {
        let domain = normalised("gen", i);
        assert!(list.is_listed(&domain), "{domain}");
        let entry = list.entry(&domain).unwrap();
        assert_eq!(entry.operators().len(), i % 3 + 1, "{domain}");
        for j in 0..3 {
            let respelled = DistinguishedName::parse(&operator_dn_respelled(i, j)).unwrap();
            assert_eq!(
                list.dn_allowed(&domain, &respelled),
                j < i % 3 + 1,
                "{domain}, DN {j}"
            );
        }
        // Another domain's DN is never allowed here.
        let other = DistinguishedName::parse(&operator_dn((i + 1) % DOMAINS, 0)).unwrap();
        assert!(!list.dn_allowed(&domain, &other), "{domain}");
    }
}

#[test]
fn idn_names_are_stored_as_a_labels() {
    let entries = generated_entries("idn", 20);
    let list = parse(list_xml("2025-06-01T08:00:00Z", &entries).as_bytes()).unwrap();
    // Domain 3 is `Hôpital-Ü-3.idn.mssante.fr`.
    let a_label = normalised("idn", 3);
    assert!(a_label.starts_with("xn--"), "{a_label}");
    assert_eq!(a_label, a_label.to_ascii_lowercase());
    let entry = list.entry(&a_label).unwrap();
    assert_eq!(entry.name_as_written(), "Hôpital-Ü-3.idn.mssante.fr");
    assert!(list.is_listed("hôpital-ü-3.idn.mssante.fr"));
    assert!(list.domain_names().iter().all(|d| d.is_ascii()));
}

#[test]
fn a_dn_listed_for_several_domains_finds_them_all() {
    let shared = "CN=mta.operateur-regional.fr,OU=1750048886,O=GRADeS,ST=Paris (75),C=FR";
    let mut entries: Vec<Entry> = (0..50)
        .map(|i| Entry::new(format!("client-{i}.mssante.fr"), shared))
        .collect();
    entries.push(Entry::new("autre.mssante.fr", "CN=autre,C=FR"));
    let list = parse(list_xml("2025-06-01T08:00:00Z", &entries).as_bytes()).unwrap();
    let dn = DistinguishedName::parse(
        "C=FR,ST=Paris (75),O=GRADeS,OU=1750048886,CN=MTA.operateur-regional.fr",
    )
    .unwrap();
    let domains = list.domains_for_dn(&dn);
    assert_eq!(domains.len(), 50);
    assert!(domains.windows(2).all(|w| w[0] < w[1]), "sorted");
    assert!(!domains.contains(&"autre.mssante.fr".to_owned()));
}
