//! The flat canonical form must be exactly the certs crate's: same canonical string, same
//! errors, on the DNs the list writes and on awkward ones.

use super::*;

/// What the certs crate makes of `text`: its canonical form, or its error text.
fn certs(text: &str) -> Result<String, String> {
    DistinguishedName::parse(text)
        .map(|dn| dn.canonical())
        .map_err(|e| e.to_string())
}

/// What this module makes of `text`, and whether the fast path decided it.
fn flat(text: &str) -> (Result<String, String>, bool) {
    let fast = fast_canonical(text, &mut Scratch::default());
    let parsed = OperatorDn::parse(text)
        .map(|dn| dn.canonical().to_owned())
        .map_err(|e| e.to_string());
    (parsed, fast)
}

#[test]
fn fast_types_are_the_certs_crate_canonical_names() {
    for kind in FAST_TYPES {
        let lower = kind.to_ascii_lowercase();
        for spelled in [kind.to_owned(), lower] {
            let text = format!("{spelled}=v");
            assert_eq!(certs(&text), Ok(format!("{kind}=v")), "{text}");
            assert_eq!(flat(&text), (Ok(format!("{kind}=v")), true), "{text}");
        }
    }
}

#[test]
fn same_result_as_the_certs_crate_table() {
    // (DN text, decided by the fast path)
    let cases: &[(&str, bool)] = &[
        (
            "CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR",
            true,
        ),
        (
            "c=fr , st = PARIS  (75) , o=OPERATEUR 1,ou=1750000001, cn = SMTP-0.op1.santnet.com",
            true,
        ),
        ("CN=a+OU=b,C=FR", true),
        ("  CN = a ,\tC=FR\t", true),
        ("CN=a\tb  c,C=FR", true),
        ("CN=a\u{b}b", true),
        ("CN=a\nb,C=FR", true),
        ("\nCN=a", true),
        ("\u{a0}CN=a", true),
        ("O=Hôpital  Été,C=FR", true),
        ("O=ΟΔΟΣ ΣΑΣ,C=GR", true),
        ("O=İstanbul", true),
        ("O=a\u{a0}b", true),
        ("O=\u{2003}a\u{2003}", true),
        ("O=a=b", true),
        ("O=a#b", true),
        ("CN=a,CN=a", true),
        ("CN=b,CN=a,C=FR", true),
        ("CN=a b,CN=a", true),
        (
            "E=Support@Operateur.FR,SERIALNUMBER=12,UID=x,DC=fr,DC=sante,L=Paris,STREET=1 rue",
            true,
        ),
        // Left to the certs crate: escapes, quotes, hex values, aliases, OIDs, values the
        // canonical form escapes.
        ("O=a<b", false),
        ("O=a>b", false),
        ("O=\n#b", false),
        ("CN=a\\,b,C=FR", false),
        ("CN=a\\2Cb,C=FR", false),
        ("CN=\"a,b\",C=FR", false),
        ("CN=#0c0161", false),
        ("commonName=a,S=Paris", false),
        ("2.5.4.3=a", false),
        ("OID.2.5.4.3=a", false),
        ("1.2.250.1.71.4.2.2=x,CN=a", false),
        ("GN=x,SN=y,TITLE=z,POSTALCODE=75001", false),
        // Errors, with the certs crate's message.
        ("", false),
        ("   ", false),
        ("CN=a,", false),
        ("CN=a, ", false),
        ("CN=a+", false),
        ("CN=", false),
        ("CN= ,C=FR", false),
        ("CN=\n,C=FR", false),
        ("CN=a;C=FR", false),
        ("CN=a\"b", false),
        ("FOO=x", false),
        ("CN", false),
        ("=a", false),
        ("CN=a,,C=FR", false),
        ("CN=a\\", false),
        ("C N=a", false),
        ("CN=a,C=FR junk\\", false),
    ];
    for (text, fast) in cases {
        assert_eq!(flat(text), (certs(text), *fast), "{text:?}");
    }
}

/// Equal `OperatorDn`s exactly when the certs crate's DNs are equal, for every pair of the
/// table's valid DNs and some respellings.
#[test]
fn equality_is_the_certs_crate_equality() {
    let texts = [
        "CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR",
        "c=fr , st = PARIS  (75) , o=gip sesan,ou=1750048886, cn = SMTP-1.sesan.santnet.com",
        "CN=smtp-1.sesan.santnet.com+OU=1750048886,O=GIP SESAN,ST=Paris (75),C=FR",
        "commonName=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP SESAN,S=Paris (75),C=FR",
        "CN=smtp-1.sesan.santnet.com,OU=1750048886,O=GIP  SESAN,ST=Paris (75)",
        "CN=a\\,b,C=FR",
        "CN=\"a,b\",C=FR",
        "CN=a b,CN=a",
        "CN=a,CN=a b",
        "CN=a,CN=a",
        "CN=a",
        "O=Hôpital Été",
        "o=HÔPITAL  été",
        "O=ΟΔΟΣ",
        "O=οδος",
        "2.5.4.3=x",
        "CN=x",
    ];
    for a in texts {
        for b in texts {
            let flat = OperatorDn::parse(a).unwrap() == OperatorDn::parse(b).unwrap();
            let certs =
                DistinguishedName::parse(a).unwrap() == DistinguishedName::parse(b).unwrap();
            assert_eq!(flat, certs, "{a:?} vs {b:?}");
        }
    }
}

/// Random texts from pieces that exercise every rule of the fast path and of the certs parser.
#[test]
fn same_result_as_the_certs_crate_on_random_texts() {
    const PIECES: &[&str] = &[
        "CN",
        "cn",
        "Ou",
        "O",
        "st",
        "C",
        "e",
        "uid",
        "commonName",
        "S",
        "2.5.4.3",
        "FOO",
        "=",
        "=",
        "=",
        " ",
        "  ",
        "\t",
        "\n",
        ",",
        ",",
        "+",
        "a",
        "B",
        "z9",
        "x y",
        "-",
        ".",
        "(75)",
        "é",
        "Σ",
        "ς",
        "İ",
        "\u{a0}",
        "\u{2003}",
        "\u{b}",
        "\\",
        "\\,",
        "\\2C",
        "\"",
        "#",
        ";",
        "<",
        ">",
    ];
    // Plain value pieces: letters, digits, every kind of whitespace, Unicode case traps.
    const VALUES: &[&str] = &[
        "a", "B", "z9", "x y", "-", ".", "(75)", "=", "é", "Σ", "ς", "İ", " ", "  ", "\t", "\n",
        "\u{a0}", "\u{2003}", "\u{b}", "\u{c}", "\r", "\u{1c}", "\u{85}", "\u{212a}", "Ⅻ", "\0",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |bound: usize| {
        // xorshift64*: deterministic, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % bound
    };
    let mut decided_fast = 0;
    const TEXTS: usize = 50_000;
    for _ in 0..TEXTS {
        let mut text = String::new();
        // Half shaped like DNs (type=value separated), half free-form.
        if next(2) == 0 {
            for rdn in 0..1 + next(4) {
                if rdn > 0 {
                    text.push_str([",", ", ", "+", " ,\t"][next(4)]);
                }
                text.push_str(["CN", "o", "OU", "st", "C", "E", "S", "2.5.4.3"][next(8)]);
                text.push_str(["=", " = ", "=\t"][next(3)]);
                for _ in 0..1 + next(3) {
                    // Mostly plain value pieces, sometimes one the fast path leaves alone.
                    let piece = match next(5) {
                        0 => PIECES[next(PIECES.len())],
                        _ => VALUES[next(VALUES.len())],
                    };
                    text.push_str(piece);
                }
            }
        } else {
            for _ in 0..1 + next(12) {
                text.push_str(PIECES[next(PIECES.len())]);
            }
        }
        let (got, fast) = flat(&text);
        assert_eq!(got, certs(&text), "{text:?}");
        decided_fast += usize::from(fast);
    }
    assert!(
        decided_fast > TEXTS / 10,
        "only {decided_fast} texts took the fast path"
    );
}

#[test]
fn equality_display_and_keys() {
    let written = "CN=smtp.op.fr,O=Op,C=FR";
    let a = OperatorDn::parse(written).unwrap();
    let b = OperatorDn::parse("c=fr, o=OP ,cn=SMTP.op.fr").unwrap();
    let other = OperatorDn::parse("CN=smtp2.op.fr,O=Op,C=FR").unwrap();
    assert_eq!(a, b);
    assert_ne!(a, other);
    assert_eq!(a.to_string(), written, "displayed as the list wrote it");
    assert_eq!(a.as_written(), written);
    assert_eq!(a.canonical(), "C=fr,CN=smtp.op.fr,O=op");
    let peer = DistinguishedName::parse("C=FR,O=OP,CN=smtp.OP.fr").unwrap();
    let key = DnKey::new(&peer);
    assert_eq!(key.as_str(), a.canonical());
    assert!(a.matches(&key) && b.matches(&key) && !other.matches(&key));
    assert_eq!(a.to_distinguished_name().unwrap(), peer);
    assert_eq!(canonical_hash(a.canonical()), canonical_hash(b.canonical()));
    let err = OperatorDn::parse("CN=a;C=FR").unwrap_err();
    assert_eq!(
        err.to_string(),
        DistinguishedName::parse("CN=a;C=FR")
            .unwrap_err()
            .to_string()
    );
}
