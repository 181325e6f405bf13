//! Attribute types of distinguished names: RFC 4514 keywords, their aliases and OIDs.

/// (canonical short name, dotted OID, accepted aliases). The short name is what `Display` and
/// `canonical()` print; aliases and dotted OIDs all map to it.
const ATTRIBUTE_TYPES: &[(&str, &str, &[&str])] = &[
    ("CN", "2.5.4.3", &["COMMONNAME"]),
    ("SN", "2.5.4.4", &["SURNAME"]),
    ("SERIALNUMBER", "2.5.4.5", &[]),
    ("C", "2.5.4.6", &["COUNTRYNAME"]),
    ("L", "2.5.4.7", &["LOCALITYNAME"]),
    ("ST", "2.5.4.8", &["S", "STATEORPROVINCENAME"]),
    ("STREET", "2.5.4.9", &["STREETADDRESS"]),
    ("O", "2.5.4.10", &["ORGANIZATIONNAME"]),
    ("OU", "2.5.4.11", &["ORGANIZATIONALUNITNAME"]),
    ("TITLE", "2.5.4.12", &["T"]),
    ("POSTALCODE", "2.5.4.17", &[]),
    ("GN", "2.5.4.42", &["GIVENNAME", "G"]),
    ("ORGANIZATIONIDENTIFIER", "2.5.4.97", &[]),
    ("UID", "0.9.2342.19200300.100.1.1", &["USERID"]),
    ("DC", "0.9.2342.19200300.100.1.25", &["DOMAINCOMPONENT"]),
    ("E", "1.2.840.113549.1.9.1", &["EMAILADDRESS", "EMAIL"]),
];

/// One attribute of a DN: its canonical type (`CN`, `OU`… or a dotted OID) and its value as
/// written (unescaped, not normalised).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub kind: String,
    pub value: String,
}

/// Maps a type as written in text (`cn`, `commonName`, `2.5.4.3`, `OID.2.5.4.3`) to its
/// canonical name; `None` for an unknown keyword. Unknown dotted OIDs are kept dotted.
pub(crate) fn canonical_type(raw: &str) -> Option<String> {
    let raw = strip_oid_prefix(raw);
    if is_dotted_oid(raw) {
        return Some(canonical_type_of_oid(raw));
    }
    ATTRIBUTE_TYPES
        .iter()
        .find(|(short, _, aliases)| {
            short.eq_ignore_ascii_case(raw) || aliases.iter().any(|a| a.eq_ignore_ascii_case(raw))
        })
        .map(|(short, _, _)| (*short).to_string())
}

/// Canonical name of a dotted OID: its short name when known, else the OID itself.
pub(crate) fn canonical_type_of_oid(dotted: &str) -> String {
    ATTRIBUTE_TYPES
        .iter()
        .find(|(_, oid, _)| *oid == dotted)
        .map_or_else(|| dotted.to_string(), |(short, _, _)| (*short).to_string())
}

/// Dotted OID of a canonical type name (or of a dotted OID, returned as is).
pub(crate) fn oid_of_type(canonical: &str) -> Option<String> {
    if is_dotted_oid(canonical) {
        return Some(canonical.to_string());
    }
    ATTRIBUTE_TYPES
        .iter()
        .find(|(short, _, _)| *short == canonical)
        .map(|(_, oid, _)| (*oid).to_string())
}

fn strip_oid_prefix(raw: &str) -> &str {
    match raw.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("OID.") => &raw[4..],
        _ => raw,
    }
}

pub(crate) fn is_dotted_oid(s: &str) -> bool {
    let mut arcs = 0;
    for arc in s.split('.') {
        if arc.is_empty() || !arc.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        arcs += 1;
    }
    arcs >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_type_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("CN", Some("CN")),
            ("cn", Some("CN")),
            ("commonName", Some("CN")),
            ("2.5.4.3", Some("CN")),
            ("OID.2.5.4.3", Some("CN")),
            ("oid.2.5.4.11", Some("OU")),
            ("emailAddress", Some("E")),
            ("EMAIL", Some("E")),
            ("1.2.840.113549.1.9.1", Some("E")),
            ("givenName", Some("GN")),
            ("surname", Some("SN")),
            ("S", Some("ST")),
            ("stateOrProvinceName", Some("ST")),
            ("userid", Some("UID")),
            ("dc", Some("DC")),
            ("serialNumber", Some("SERIALNUMBER")),
            ("1.2.250.1.71.4.2.2", Some("1.2.250.1.71.4.2.2")),
            ("FOO", None),
            ("", None),
            ("2.", None),
            ("2..5", None),
            ("7", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(canonical_type(raw).as_deref(), *expected, "type {raw:?}");
        }
    }

    #[test]
    fn oid_of_type_round_trips() {
        for (short, oid, _) in ATTRIBUTE_TYPES {
            assert_eq!(oid_of_type(short).as_deref(), Some(*oid));
            assert_eq!(canonical_type_of_oid(oid), *short);
        }
        assert_eq!(oid_of_type("1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(oid_of_type("NOPE"), None);
    }
}
