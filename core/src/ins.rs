//! The matricule INS (identifiant national de santé): the NIR or NIA of a person and its
//! key. It is health data: `Debug` and `Display` print a redacted form, and errors never
//! carry more than its first 5 characters.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::redact::redact_value;
use crate::serde_string::serde_as_string;

const NIR_LEN: usize = 13;
const INS_LEN: usize = NIR_LEN + 2;
/// Positions (0-based) of the department code, where Corsica's `2A`/`2B` may appear.
const DEPARTMENT: std::ops::Range<usize> = 5..7;

/// A matricule INS: 13-character NIR (or NIA) followed by its 2-digit key.
///
/// Accepted first characters (the NIR "sex" digit):
/// - `1`, `2`: NIR of a person registered at birth or by INSEE (men, women);
/// - `3`, `4`: numbers given to foreign-born persons while their registration is pending
///   (still issued and found in health records);
/// - `7`, `8`: temporary numbers (NIA, OID 1.2.250.1.213.1.4.9).
///
/// Other characters are digits, except `2A`/`2B` (Corsica, either case, stored
/// upper-case) in the department position. Month and commune codes are not checked:
/// INSEE uses codes such as months 20 or 30-42 for incomplete civil status. The key is
/// `97 − (NIR mod 97)` with `2A` read as `19` and `2B` as `18`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ins {
    value: String,
}

impl Ins {
    pub fn parse(s: &str) -> Result<Ins> {
        let invalid = |reason: String| Error::InvalidIns {
            redacted_input: redact_value(s),
            reason,
        };
        let count = s.chars().count();
        if count != INS_LEN {
            return Err(invalid(format!(
                "INS must be {INS_LEN} characters (NIR 13 + key 2), got {count}"
            )));
        }
        if let Some((index, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(invalid(not_allowed(c, index)));
        }
        let value = s.to_ascii_uppercase();
        let (nir, key_text) = value.split_at(NIR_LEN);
        let numeric_nir = numeric_nir(nir).map_err(invalid)?;
        if let Some((index, c)) = key_text
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(invalid(format!(
                "INS key must be 2 digits, found {c:?} at position {}",
                NIR_LEN + index + 1
            )));
        }
        let computed_key = 97 - numeric_nir % 97;
        if key_text.parse::<u64>().ok() != Some(computed_key) {
            return Err(invalid(format!(
                "INS key {key_text} does not match computed {computed_key:02}"
            )));
        }
        Ok(Ins { value })
    }

    /// The clear value. Only for the audit trail, storage and citizen addresses.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The NIR part (13 characters), clear.
    pub fn nir(&self) -> &str {
        &self.value[..NIR_LEN]
    }

    /// The key (2 digits).
    pub fn key(&self) -> &str {
        &self.value[NIR_LEN..]
    }

    /// True for a temporary number (NIA, first digit 7 or 8).
    pub fn is_temporary(&self) -> bool {
        self.value.starts_with(['7', '8'])
    }

    /// A form safe for logs: the first 4 characters, `*` for the 9 hidden ones, and the
    /// key, e.g. `2951*********93`.
    pub fn redacted(&self) -> String {
        format!(
            "{}{}{}",
            &self.value[..4],
            "*".repeat(NIR_LEN - 4),
            self.key()
        )
    }
}

/// Checks the 13 ASCII characters of a NIR and returns its numeric value for the key.
fn numeric_nir(nir: &str) -> std::result::Result<u64, String> {
    match nir.chars().next() {
        Some('1' | '2' | '3' | '4' | '7' | '8') => {}
        Some(c) => {
            return Err(format!(
                "INS must start with 1, 2 (NIR), 3, 4 (pending registration) or 7, 8 (NIA), \
                 got {c:?}"
            ));
        }
        None => return Err("INS is empty".to_owned()),
    }
    // Corsica: the department 2A counts as 19 and 2B as 18; same length, same positions.
    let digits = match &nir[DEPARTMENT] {
        "2A" => format!("{}19{}", &nir[..DEPARTMENT.start], &nir[DEPARTMENT.end..]),
        "2B" => format!("{}18{}", &nir[..DEPARTMENT.start], &nir[DEPARTMENT.end..]),
        _ => nir.to_owned(),
    };
    if let Some((index, c)) = digits
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(not_allowed(c, index));
    }
    digits
        .parse()
        .map_err(|_| "INS NIR part is not a number".to_owned())
}

fn not_allowed(c: char, index: usize) -> String {
    format!(
        "INS contains {c:?} at position {}: only digits are allowed, and 2A/2B only as the \
         department (positions 6-7)",
        index + 1
    )
}

impl fmt::Debug for Ins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Ins").field(&self.redacted()).finish()
    }
}

/// Prints the redacted form, so that `tracing` cannot log an INS in clear by accident;
/// use [`Ins::as_str`] where the clear value is required.
impl fmt::Display for Ins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl FromStr for Ins {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ins::parse(s)
    }
}

// Serialised in clear: serde is for storage and configuration, not for logs.
serde_as_string!(Ins, "a matricule INS (15 characters)", Ins::as_str);

/// The OIDs naming the kind of an INS in CDA documents and HL7 messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InsOid {
    /// INS-NIR, the qualified identity.
    Nir,
    /// INS-NIA, a temporary number.
    Nia,
    /// INS-NIR of the test environment.
    NirTest,
    /// INS-NIR of the demonstration environment.
    NirDemo,
}

impl InsOid {
    /// Every INS OID, in declaration order.
    pub const ALL: [InsOid; 4] = [InsOid::Nir, InsOid::Nia, InsOid::NirTest, InsOid::NirDemo];

    /// Recognises one of the four INS OIDs (exact dotted form).
    pub fn from_oid(oid: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.oid() == oid)
    }

    /// The dotted OID.
    pub fn oid(&self) -> &'static str {
        match self {
            InsOid::Nir => "1.2.250.1.213.1.4.8",
            InsOid::Nia => "1.2.250.1.213.1.4.9",
            InsOid::NirTest => "1.2.250.1.213.1.4.10",
            InsOid::NirDemo => "1.2.250.1.213.1.4.11",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ins_values() {
        // (input, stored value, redacted); keys checked against 97 - (NIR mod 97).
        let cases = [
            ("295109912611193", "295109912611193", "2951*********93"),
            ("253072B07300470", "253072B07300470", "2530*********70"),
            ("253072A07300443", "253072A07300443", "2530*********43"),
            ("253072a07300443", "253072A07300443", "2530*********43"),
            ("279035121518989", "279035121518989", "2790*********89"),
            ("185077512345608", "185077512345608", "1850*********08"),
            ("785079912345630", "785079912345630", "7850*********30"),
            ("385079912345636", "385079912345636", "3850*********36"),
        ];
        for (input, stored, redacted) in cases {
            let ins = Ins::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(ins.as_str(), stored);
            assert_eq!(ins.nir(), &stored[..13]);
            assert_eq!(ins.key(), &stored[13..]);
            assert_eq!(ins.redacted(), redacted);
            assert_eq!(ins.to_string(), redacted);
            assert_eq!(format!("{ins:?}"), format!("Ins({redacted:?})"));
            assert_eq!(input.parse::<Ins>().unwrap(), ins);
        }
        assert!(Ins::parse("785079912345630").unwrap().is_temporary());
        assert!(!Ins::parse("295109912611193").unwrap().is_temporary());
    }

    #[test]
    fn invalid_ins_values() {
        let cases = [
            ("295109912611112", "INS key 12 does not match computed 93"),
            ("295109912611194", "INS key 94 does not match computed 93"),
            ("253072B07300443", "INS key 43 does not match computed 70"), // 2B read as 2A
            ("253072A07300470", "INS key 70 does not match computed 43"),
            (
                "29510991261119",
                "must be 15 characters (NIR 13 + key 2), got 14",
            ),
            ("2951099126111930", "got 16"),
            ("", "got 0"),
            ("595109912611193", "must start with 1, 2 (NIR), 3, 4"),
            ("095109912611193", "got '0'"),
            ("A95109912611193", "got 'A'"),
            (
                "2951099126111X3",
                "INS key must be 2 digits, found 'X' at position 14",
            ),
            ("29510991261A193", "contains 'A' at position 12"),
            ("2530729A0730047", "contains 'A' at position 8"),
            ("253073A07300443", "contains 'A' at position 7"),
            ("253072C07300443", "contains 'C' at position 7"),
            ("2951099126111é3", "contains 'é' at position 14"),
            ("29510 991261119", "contains ' ' at position 6"),
        ];
        for (input, expected) in cases {
            match Ins::parse(input) {
                Err(e @ Error::InvalidIns { .. }) => {
                    let message = e.to_string();
                    assert!(message.contains(expected), "{input:?}: {message}");
                    // Never more than the first 5 characters of the input.
                    if input.chars().count() > 5 {
                        assert!(!message.contains(&input[..6]), "{input:?} leaks: {message}");
                    }
                }
                other => panic!("{input:?}: expected InvalidIns, got {other:?}"),
            }
        }
    }

    #[test]
    fn error_keeps_at_most_five_characters() {
        let err = Ins::parse("295109912611112").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid INS \"29510*\": INS key 12 does not match computed 93"
        );
    }

    #[test]
    fn serde_keeps_the_clear_value() {
        let ins = Ins::parse("253072B07300470").unwrap();
        let json = serde_json::to_string(&ins).unwrap();
        assert_eq!(json, "\"253072B07300470\"");
        assert_eq!(serde_json::from_str::<Ins>(&json).unwrap(), ins);
        let err = serde_json::from_str::<Ins>("\"253072B07300471\"").unwrap_err();
        assert!(!err.to_string().contains("253072B0730047"), "{err}");
    }

    #[test]
    fn ins_oid_table() {
        let cases = [
            ("1.2.250.1.213.1.4.8", Some(InsOid::Nir)),
            ("1.2.250.1.213.1.4.9", Some(InsOid::Nia)),
            ("1.2.250.1.213.1.4.10", Some(InsOid::NirTest)),
            ("1.2.250.1.213.1.4.11", Some(InsOid::NirDemo)),
            ("1.2.250.1.213.1.4.1", None),
            ("1.2.250.1.213.1.4.12", None),
            ("1.2.250.1.213.1.4.8 ", None),
            ("1.2.250.1.71.4.2.1", None),
            ("", None),
        ];
        for (oid, expected) in cases {
            assert_eq!(InsOid::from_oid(oid), expected, "{oid:?}");
            if let Some(kind) = expected {
                assert_eq!(kind.oid(), oid);
            }
        }
    }
}
