use super::*;

const WHITELIST_DN: &str =
    "CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR";

fn dn(s: &str) -> DistinguishedName {
    DistinguishedName::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

#[test]
fn equal_dns_table() {
    let cases: &[(&str, &str)] = &[
        // spacing around separators and inside values
        (
            WHITELIST_DN,
            "CN = smtp-1.sesan.santnet.com , OU=1750048886, O=GIP  SESAN,ST=Paris (75) ,C=FR",
        ),
        (
            WHITELIST_DN,
            "  CN=smtp-1.sesan.santnet.com,OU=1750048886,O=\tGIP SESAN ,ST=Paris (75),C=FR  ",
        ),
        // RDN order: certificates encode C first
        (
            WHITELIST_DN,
            "C=FR,ST=Paris (75),O=GIP SESAN,OU=1750048886,CN=smtp-1.sesan.santnet.com",
        ),
        // type case, aliases and OIDs
        (
            WHITELIST_DN,
            "cn=smtp-1.sesan.santnet.com,ou=1750048886,o=GIP SESAN,st=Paris (75),c=FR",
        ),
        (
            WHITELIST_DN,
            "commonName=smtp-1.sesan.santnet.com,2.5.4.11=1750048886,organizationName=GIP SESAN,S=Paris (75),OID.2.5.4.6=FR",
        ),
        // value case (caseIgnoreMatch)
        (
            WHITELIST_DN,
            "CN=SMTP-1.SESAN.SANTNET.COM,OU=1750048886,O=gip sesan,ST=PARIS (75),C=fr",
        ),
        // escapes and quotes of the same characters
        ("CN=Dupont\\, Jean,O=A\\+B", "CN=\"Dupont, Jean\",O=\"A+B\""),
        ("CN=Dupont\\2C Jean", "CN=Dupont\\, Jean"),
        ("CN=Caf\\C3\\A9", "CN=Café"),
        ("CN=caf\\c3\\a9", "CN=CAFÉ"),
        ("CN=a\\\\b", "CN=\"a\\\\b\""),
        ("CN=say \\\"hi\\\"", "CN=\"say \\\"hi\\\"\""),
        ("CN=#0c03616263", "CN=abc"),
        ("E=a@b.fr", "emailAddress=A@B.FR"),
        // multi-valued RDN vs separate RDNs: the multiset is what counts
        ("CN=a+UID=42,C=FR", "C=FR,UID=42,CN=a"),
        ("CN=a + UID=42", "UID=42+CN=a"),
        // repeated OU in any order
        (
            "OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE",
            "O=ASIP-SANTE,OU=0002 187512751,OU=IGC-SANTE TEST",
        ),
    ];
    for (a, b) in cases {
        let (x, y) = (dn(a), dn(b));
        assert_eq!(x, y, "{a:?} should equal {b:?}");
        assert_eq!(x.canonical(), y.canonical(), "canonical of {a:?} vs {b:?}");
        assert_eq!(hash_of(&x), hash_of(&y), "hash of {a:?} vs {b:?}");
    }
}

#[test]
fn different_dns_table() {
    let cases: &[(&str, &str)] = &[
        (
            WHITELIST_DN,
            "CN=smtp-2.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR",
        ),
        (
            WHITELIST_DN,
            "CN=smtp-1.sesan.santnet.com,OU=1750048887,O=GIP SESAN,ST=Paris (75),C=FR",
        ),
        // one attribute missing or added
        (
            WHITELIST_DN,
            "CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,C=FR",
        ),
        (
            WHITELIST_DN,
            "CN=smtp-1.sesan.santnet.com,OU=1750048886,OU=x,O=GIP SESAN,ST=Paris (75),C=FR",
        ),
        // same value under another type
        ("CN=a", "OU=a"),
        // inner space is kept (collapsed, not removed)
        ("O=GIP SESAN", "O=GIPSESAN"),
        // a repeated attribute is not the same as a single one
        ("OU=a,OU=a", "OU=a"),
        ("CN=Dupont\\, Jean", "CN=Dupont,CN=Jean"),
    ];
    for (a, b) in cases {
        assert_ne!(dn(a), dn(b), "{a:?} should differ from {b:?}");
        assert_ne!(dn(a).canonical(), dn(b).canonical());
    }
}

#[test]
fn parsed_values_table() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            WHITELIST_DN,
            &[
                ("CN", "smtp-1.sesan.santnet.com"),
                ("OU", "1750048886"),
                ("O", "GIP SESAN"),
                ("ST", "Paris (75)"),
                ("C", "FR"),
            ],
        ),
        ("CN = a , O = b ", &[("CN", "a"), ("O", "b")]),
        ("CN=\\ lead and trail\\ ", &[("CN", " lead and trail ")]),
        ("CN=x\\=y\\#z", &[("CN", "x=y#z")]),
        ("CN=x=y", &[("CN", "x=y")]),
        ("CN=\\#hash", &[("CN", "#hash")]),
        ("CN=\"  quoted , + ; \"", &[("CN", "  quoted , + ; ")]),
        ("CN=8109999999997/DUPONT", &[("CN", "8109999999997/DUPONT")]),
        ("1.2.250.1.71.4.2.2=abc", &[("1.2.250.1.71.4.2.2", "abc")]),
    ];
    for (input, expected) in cases {
        let parsed = dn(input);
        let got: Vec<(&str, &str)> = parsed
            .attributes()
            .map(|a| (a.kind.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(&got, expected, "attributes of {input:?}");
    }
}

#[test]
fn malformed_dns_table() {
    let cases: &[(&str, &str)] = &[
        ("", "empty distinguished name"),
        ("   ", "empty distinguished name"),
        ("CN", "\"CN\" has no '=' and value"),
        ("=x", "missing attribute type before '='"),
        ("CN=a,,O=b", "empty RDN at byte 5"),
        ("CN=a,", "trailing ','"),
        ("CN=a, ", "trailing ','"),
        ("CN=a,O=b\\", "trailing backslash"),
        ("CN=a\\", "trailing backslash"),
        ("CN=a\\qb", "invalid escape"),
        ("CN=a\\4", "two hex digits"),
        ("CN=a\\4g", "two hex digits"),
        ("CN=\\ff", "not valid UTF-8"),
        ("CN=", "empty value for CN"),
        ("CN=  ,O=b", "empty value for CN"),
        ("CN=\"\"", "empty value for CN"),
        ("CN=\"abc", "unterminated quoted value"),
        ("CN=\"abc\"x", "unexpected text after a quoted value"),
        ("CN=ab\"c", "unescaped '\"'"),
        ("CN=a;O=b", "unescaped ';'"),
        ("FOO=bar", "unknown attribute type \"FOO\""),
        ("C N=bar", "invalid attribute type \"C N\""),
        ("CN=a+", "empty RDN"),
        ("CN=#0c0361", "'#' value must be the DER"),
        ("CN=#0c036", "even, non-zero number of hex digits"),
        ("CN=#", "even, non-zero number of hex digits"),
        ("CN=#0403616263", "'#' value must be the DER"),
        ("CN=#0c03zz", "invalid character in a '#' hex value"),
    ];
    for (input, expected) in cases {
        match DistinguishedName::parse(input) {
            Err(Error::BadDn {
                input: got_input,
                reason,
            }) => {
                assert_eq!(&got_input, input);
                assert!(
                    reason.contains(expected),
                    "{input:?}: reason {reason:?} should contain {expected:?}"
                );
            }
            other => panic!("{input:?} should be rejected, got {other:?}"),
        }
    }
}

#[test]
fn display_keeps_given_order_and_round_trips() {
    let cases: &[(&str, &str)] = &[
        (WHITELIST_DN, WHITELIST_DN),
        ("c=FR, o = GIP SESAN", "C=FR,O=GIP SESAN"),
        ("CN=\"Dupont, Jean\"+UID=42", "CN=Dupont\\, Jean+UID=42"),
        ("CN=\\ x\\ ", "CN=\\ x\\ "),
        ("CN=\\#x\\;y", "CN=\\#x\\;y"),
        ("emailAddress=a@b.fr", "E=a@b.fr"),
    ];
    for (input, shown) in cases {
        let parsed = dn(input);
        assert_eq!(parsed.to_string(), *shown, "display of {input:?}");
        assert_eq!(dn(shown), parsed, "re-parse of {shown:?}");
    }
}

#[test]
fn canonical_is_sorted_and_normalised() {
    let d = dn("CN=Mail.Example.FR , OU=1990000002,O=Test  Org,C=FR");
    assert_eq!(
        d.canonical(),
        "C=fr,CN=mail.example.fr,O=test org,OU=1990000002"
    );
}

#[test]
fn values_lookup_by_any_type_spelling() {
    let d = dn("CN=a,OU=1,OU=2,O=x");
    assert_eq!(d.values("ou"), vec!["1", "2"]);
    assert_eq!(d.values("2.5.4.11"), vec!["1", "2"]);
    assert_eq!(d.first("commonName"), Some("a"));
    assert_eq!(d.first("GN"), None);
    assert!(d.values("nonsense").is_empty());
}

fn hash_of(d: &DistinguishedName) -> u64 {
    use std::collections::hash_map::DefaultHasher;
    let mut h = DefaultHasher::new();
    d.hash(&mut h);
    h.finish()
}
