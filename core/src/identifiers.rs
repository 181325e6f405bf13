//! National identifiers of professionals and structures: RPPS, ADELI, FINESS, SIREN,
//! SIRET. Inputs are taken as they are: callers trim surrounding spaces.

use crate::error::{Error, Result};
use crate::identifier_text::{expect_digits, expect_only_digits, identifier_text};
use crate::luhn::{luhn_check_digit, luhn_valid};
use crate::redact::redact_for_error;

/// "check digit 8 does not match the Luhn digit 7".
fn luhn_mismatch(digits: &str) -> String {
    let payload = digits
        .get(..digits.len().saturating_sub(1))
        .unwrap_or_default();
    let given = digits.get(payload.len()..).unwrap_or_default();
    match luhn_check_digit(payload) {
        Some(expected) => {
            format!("check digit {given} does not match the Luhn check digit {expected}")
        }
        None => "Luhn check failed".to_owned(),
    }
}

/// RPPS number of a health professional: 11 digits, the last a Luhn check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rpps {
    id_nat: String,
}

impl Rpps {
    /// idNat_PS prefix of an RPPS.
    pub const ID_NAT_PREFIX: char = '8';

    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidRpps {
            input: redact_for_error(s),
            reason,
        };
        expect_digits(s, 11, "RPPS").map_err(invalid)?;
        if !luhn_valid(s) {
            return Err(invalid(luhn_mismatch(s)));
        }
        Ok(Rpps {
            id_nat: format!("{}{s}", Self::ID_NAT_PREFIX),
        })
    }
}
identifier_text!(Rpps, "an RPPS number (11 digits)");

/// ADELI number (professional, or practice for idNat_Struct): 9 digits, no known check.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Adeli {
    id_nat: String,
}

impl Adeli {
    /// idNat prefix of an ADELI number, in idNat_PS and idNat_Struct alike.
    pub const ID_NAT_PREFIX: char = '0';

    pub fn parse(s: &str) -> Result<Self> {
        expect_digits(s, 9, "ADELI").map_err(|reason| Error::InvalidAdeli {
            input: redact_for_error(s),
            reason,
        })?;
        Ok(Adeli {
            id_nat: format!("{}{s}", Self::ID_NAT_PREFIX),
        })
    }
}
identifier_text!(Adeli, "an ADELI number (9 digits)");

/// FINESS number of a health establishment: 9 characters, a department code (two digits,
/// or `2A`/`2B` for Corsica) then 7 digits, the last a Luhn check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Finess {
    id_nat: String,
}

impl Finess {
    /// idNat_Struct prefix of a FINESS number.
    pub const ID_NAT_PREFIX: char = '1';

    /// Parses a FINESS number; `2a`/`2b` are accepted and stored upper-case.
    ///
    /// Corsica (confidence B, no primary text found): how `2A`/`2B` enter the Luhn
    /// computation is not published. We accept the number when the Luhn check holds on
    /// either reading: the department read as `20` (Corsica's single number before
    /// 1976), or the letter left out (Luhn over the 8 remaining digits). Refusing a real
    /// establishment would cut it off; a mistyped Corsican number is still caught by the
    /// directory and whitelist lookups that follow. Replace by the ANS rule when found.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidFiness {
            input: redact_for_error(s),
            reason,
        };
        let count = s.chars().count();
        if count != 9 {
            return Err(invalid(format!("FINESS must be 9 characters, got {count}")));
        }
        if let Some((index, c)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(invalid(format!(
                "FINESS must contain only digits (and 2A/2B), found {c:?} at position {}",
                index + 1
            )));
        }
        let upper = s.to_ascii_uppercase();
        let (department, rest) = upper.split_at(2);
        expect_only_digits(rest, "FINESS after the department code").map_err(invalid)?;
        let check_holds = match department {
            "2A" | "2B" => luhn_valid(&format!("20{rest}")) || luhn_valid(&format!("2{rest}")),
            _ => {
                expect_only_digits(department, "FINESS department code (or 2A/2B)")
                    .map_err(invalid)?;
                if !luhn_valid(&upper) {
                    return Err(invalid(luhn_mismatch(&upper)));
                }
                true
            }
        };
        if !check_holds {
            return Err(invalid(format!(
                "check digit of Corsican FINESS {department} fails the Luhn check on both \
                 readings (department as 20, or letter left out)"
            )));
        }
        Ok(Finess {
            id_nat: format!("{}{upper}", Self::ID_NAT_PREFIX),
        })
    }
}
identifier_text!(Finess, "a FINESS number (9 characters)");

/// SIREN number of a legal unit: 9 digits, the last a Luhn check digit.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siren {
    id_nat: String,
}

impl Siren {
    /// idNat_Struct prefix of a SIREN number.
    pub const ID_NAT_PREFIX: char = '2';

    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidSiren {
            input: redact_for_error(s),
            reason,
        };
        expect_digits(s, 9, "SIREN").map_err(invalid)?;
        if !luhn_valid(s) {
            return Err(invalid(luhn_mismatch(s)));
        }
        Ok(Siren {
            id_nat: format!("{}{s}", Self::ID_NAT_PREFIX),
        })
    }
}
identifier_text!(Siren, "a SIREN number (9 digits)");

/// SIRET number of an establishment: SIREN (9 digits) + NIC (5 digits), Luhn-checked.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siret {
    id_nat: String,
}

impl Siret {
    /// idNat_Struct prefix of a SIRET number.
    pub const ID_NAT_PREFIX: char = '3';

    /// La Poste groups all its establishments under one SIREN; their SIRETs are checked
    /// by "sum of the 14 digits is a multiple of 5" instead of Luhn (INSEE rule).
    const LA_POSTE_SIREN: &str = "356000000";

    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidSiret {
            input: redact_for_error(s),
            reason,
        };
        expect_digits(s, 14, "SIRET").map_err(invalid)?;
        if s.starts_with(Self::LA_POSTE_SIREN) {
            // The La Poste head office (35600000000048) also passes Luhn; accept both.
            let digit_sum: u32 = s.bytes().map(|b| u32::from(b - b'0')).sum();
            if !digit_sum.is_multiple_of(5) && !luhn_valid(s) {
                return Err(invalid(format!(
                    "La Poste SIRET digits sum to {digit_sum}, which is not a multiple of 5"
                )));
            }
        } else if !luhn_valid(s) {
            return Err(invalid(luhn_mismatch(s)));
        }
        Ok(Siret {
            id_nat: format!("{}{s}", Self::ID_NAT_PREFIX),
        })
    }

    /// The SIREN part (first 9 digits).
    pub fn siren_digits(&self) -> &str {
        &self.as_str()[..9]
    }
}
identifier_text!(Siret, "a SIRET number (14 digits)");

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts each case: `Ok(())` means valid and round-trips, `Err(text)` means the
    /// error message contains `text`.
    fn check_table<T: std::fmt::Display + std::fmt::Debug>(
        parse: fn(&str) -> Result<T>,
        cases: &[(&str, std::result::Result<(), &str>)],
    ) {
        for (input, expected) in cases {
            match (parse(input), expected) {
                (Ok(value), Ok(())) => {
                    assert_eq!(value.to_string(), input.to_ascii_uppercase(), "{input:?}")
                }
                (Err(e), Err(text)) => {
                    let message = e.to_string();
                    assert!(message.contains(text), "{input:?}: {message}");
                }
                (got, _) => panic!("{input:?}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn rpps_table() {
        check_table(
            Rpps::parse,
            &[
                ("10001045367", Ok(())), // real RPPS from the directory extraction
                ("11111111115", Ok(())),
                ("79927398713", Ok(())),
                (
                    "10001045368",
                    Err("check digit 8 does not match the Luhn check digit 7"),
                ),
                (
                    "11111111111",
                    Err("check digit 1 does not match the Luhn check digit 5"),
                ),
                (
                    "1000104536",
                    Err("RPPS must be 11 digits, got 10 characters"),
                ),
                (
                    "100010453670",
                    Err("RPPS must be 11 digits, got 12 characters"),
                ),
                ("", Err("got 0 characters")),
                ("1000104536A", Err("found 'A' at position 11")),
                (" 0001045367", Err("found ' ' at position 1")),
                ("810001045367", Err("got 12 characters")),
            ],
        );
    }

    #[test]
    fn adeli_table() {
        check_table(
            Adeli::parse,
            &[
                ("012600631", Ok(())), // real ADELI from the directory extraction
                ("123456789", Ok(())),
                ("12345678", Err("ADELI must be 9 digits, got 8 characters")),
                ("1234567890", Err("got 10 characters")),
                ("12345678X", Err("found 'X' at position 9")),
                ("2A0000016", Err("found 'A' at position 2")),
            ],
        );
    }

    #[test]
    fn finess_table() {
        check_table(
            Finess::parse,
            &[
                ("750048886", Ok(())), // from a whitelist DN: OU=1750048886
                ("010000016", Ok(())),
                ("690000013", Ok(())),
                // Corsica, department read as 20: Luhn("200000016") holds.
                ("2A0000016", Ok(())),
                ("2B0000016", Ok(())),
                ("2a0000016", Ok(())),
                // Corsica, letter left out: Luhn("20000014") holds.
                ("2A0000014", Ok(())),
                ("2A0000015", Err("fails the Luhn check on both readings")),
                (
                    "750048887",
                    Err("check digit 7 does not match the Luhn check digit 6"),
                ),
                ("75004888", Err("FINESS must be 9 characters, got 8")),
                ("7500488860", Err("got 10")),
                (
                    "2C0000016",
                    Err("department code (or 2A/2B) must contain only digits"),
                ),
                ("3A0000016", Err("department code")),
                ("A20000016", Err("department code")),
                ("2A000001X", Err("found 'X' at position 7")),
                ("7500é8886", Err("found 'é' at position 5")),
                ("7é0048886", Err("found 'é' at position 2")),
            ],
        );
    }

    #[test]
    fn siren_table() {
        check_table(
            Siren::parse,
            &[
                ("732829320", Ok(())),
                ("356000000", Ok(())), // La Poste
                ("123456782", Ok(())),
                (
                    "732829321",
                    Err("check digit 1 does not match the Luhn check digit 0"),
                ),
                ("73282932", Err("SIREN must be 9 digits, got 8 characters")),
                ("73282932O", Err("found 'O' at position 9")),
            ],
        );
    }

    #[test]
    fn siret_table() {
        check_table(
            Siret::parse,
            &[
                ("73282932000074", Ok(())),
                ("12345678200010", Ok(())),
                ("35600000000048", Ok(())), // La Poste head office, Luhn-valid
                ("35600000000001", Ok(())), // digit sum 15: La Poste rule
                (
                    "35600000049135",
                    Err("digits sum to 36, which is not a multiple of 5"),
                ),
                (
                    "73282932000075",
                    Err("check digit 5 does not match the Luhn check digit 4"),
                ),
                (
                    "7328293200007",
                    Err("SIRET must be 14 digits, got 13 characters"),
                ),
                ("732829320 0074", Err("found ' ' at position 10")),
            ],
        );
        assert_eq!(
            Siret::parse("73282932000074").unwrap().siren_digits(),
            "732829320"
        );
    }

    #[test]
    fn serde_uses_the_bare_value() {
        let rpps = Rpps::parse("10001045367").unwrap();
        assert_eq!(serde_json::to_string(&rpps).unwrap(), "\"10001045367\"");
        assert_eq!(
            serde_json::from_str::<Rpps>("\"10001045367\"").unwrap(),
            rpps
        );
        assert!(serde_json::from_str::<Rpps>("\"10001045368\"").is_err());
        assert_eq!(format!("{rpps:?}"), "Rpps(\"10001045367\")");
        assert_eq!("2a0000016".parse::<Finess>().unwrap().as_str(), "2A0000016");
    }
}
