//! idNat_PS (OID 1.2.250.1.71.4.2.1) and idNat_Struct (OID 1.2.250.1.71.4.2.2): national
//! identifiers of professionals and structures as carried in certificates, directory
//! files and Pro Santé Connect tokens: a one-digit prefix naming the kind, then the value.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::identifier_text::{expect_digits, expect_only_digits, identifier_text};
use crate::identifiers::{Adeli, Finess, Rpps, Siren, Siret};
use crate::redact::redact_for_error;
use crate::serde_string::serde_as_string;

/// Ranks of RPPS-rang are digits; their length varies in the wild, so we only bound it.
const MAX_RANK_DIGITS: usize = 10;

/// Identifier of a health professional: `8` + RPPS, or `0` + ADELI.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdNatPs {
    Rpps(Rpps),
    Adeli(Adeli),
}

impl IdNatPs {
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidIdNatPs {
            input: redact_for_error(s),
            reason,
        };
        let mut chars = s.chars();
        let prefix = chars.next();
        let value = chars.as_str();
        match prefix {
            Some(Rpps::ID_NAT_PREFIX) => Rpps::parse(value)
                .map(IdNatPs::Rpps)
                .map_err(|e| invalid(e.into_reason())),
            Some(Adeli::ID_NAT_PREFIX) => Adeli::parse(value)
                .map(IdNatPs::Adeli)
                .map_err(|e| invalid(e.into_reason())),
            Some(other) => Err(invalid(format!(
                "unknown prefix {other:?}: expected 8 (RPPS) or 0 (ADELI)"
            ))),
            None => Err(invalid("idNat_PS is empty".to_owned())),
        }
    }

    /// The full idNat_PS, prefix included (e.g. "810001045367").
    pub fn as_str(&self) -> &str {
        match self {
            IdNatPs::Rpps(rpps) => rpps.id_nat(),
            IdNatPs::Adeli(adeli) => adeli.id_nat(),
        }
    }
}

impl fmt::Display for IdNatPs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IdNatPs {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        IdNatPs::parse(s)
    }
}

serde_as_string!(IdNatPs, "an idNat_PS (8+RPPS or 0+ADELI)", IdNatPs::as_str);

/// An RPPS followed by a rank, the identifier of a professional's own practice
/// (idNat_Struct prefix `4`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RppsRang {
    id_nat: String,
}

impl RppsRang {
    /// idNat_Struct prefix of an RPPS-rang.
    pub const ID_NAT_PREFIX: char = '4';

    /// Parses 11 RPPS digits (Luhn-checked) followed by 1 to 10 rank digits.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidIdNatStruct {
            input: redact_for_error(s),
            reason,
        };
        expect_only_digits(s, "RPPS-rang").map_err(invalid)?;
        let (rpps, rank) = s.split_at(s.len().min(11));
        if rank.is_empty() || rank.len() > MAX_RANK_DIGITS {
            return Err(invalid(format!(
                "RPPS-rang must be an 11-digit RPPS followed by 1 to {MAX_RANK_DIGITS} rank \
                 digits, got {} digits",
                s.len()
            )));
        }
        expect_digits(rpps, 11, "RPPS").map_err(invalid)?;
        Rpps::parse(rpps).map_err(|e| invalid(format!("RPPS part: {}", e.into_reason())))?;
        Ok(RppsRang {
            id_nat: format!("{}{s}", Self::ID_NAT_PREFIX),
        })
    }

    /// The RPPS of the professional.
    pub fn rpps(&self) -> &str {
        &self.as_str()[..11]
    }

    /// The rank of the practice.
    pub fn rank(&self) -> &str {
        &self.as_str()[11..]
    }
}
identifier_text!(RppsRang, "an RPPS-rang (RPPS + rank digits)");

/// Identifier of a structure, by prefix: `0` practice ADELI, `1` FINESS, `2` SIREN,
/// `3` SIRET, `4` RPPS-rang.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdNatStruct {
    Adeli(Adeli),
    Finess(Finess),
    Siren(Siren),
    Siret(Siret),
    RppsRang(RppsRang),
}

impl IdNatStruct {
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidIdNatStruct {
            input: redact_for_error(s),
            reason,
        };
        let nested = |e: Error| invalid(e.into_reason());
        let mut chars = s.chars();
        let prefix = chars.next();
        let value = chars.as_str();
        match prefix {
            Some(Adeli::ID_NAT_PREFIX) => Adeli::parse(value).map(IdNatStruct::Adeli),
            Some(Finess::ID_NAT_PREFIX) => Finess::parse(value).map(IdNatStruct::Finess),
            Some(Siren::ID_NAT_PREFIX) => Siren::parse(value).map(IdNatStruct::Siren),
            Some(Siret::ID_NAT_PREFIX) => Siret::parse(value).map(IdNatStruct::Siret),
            Some(RppsRang::ID_NAT_PREFIX) => RppsRang::parse(value).map(IdNatStruct::RppsRang),
            Some(other) => {
                return Err(invalid(format!(
                    "unknown prefix {other:?}: expected 0 (ADELI), 1 (FINESS), 2 (SIREN), \
                     3 (SIRET) or 4 (RPPS-rang)"
                )));
            }
            None => return Err(invalid("idNat_Struct is empty".to_owned())),
        }
        .map_err(nested)
    }

    /// The full idNat_Struct, prefix included (e.g. "1750048886" style).
    pub fn as_str(&self) -> &str {
        match self {
            IdNatStruct::Adeli(id) => id.id_nat(),
            IdNatStruct::Finess(id) => id.id_nat(),
            IdNatStruct::Siren(id) => id.id_nat(),
            IdNatStruct::Siret(id) => id.id_nat(),
            IdNatStruct::RppsRang(id) => id.id_nat(),
        }
    }
}

impl fmt::Display for IdNatStruct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IdNatStruct {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        IdNatStruct::parse(s)
    }
}

serde_as_string!(
    IdNatStruct,
    "an idNat_Struct (0 ADELI, 1 FINESS, 2 SIREN, 3 SIRET, 4 RPPS-rang + value)",
    IdNatStruct::as_str
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_nat_ps_table() {
        let valid = [
            ("810001045367", "10001045367", true),
            ("0012600631", "012600631", false),
        ];
        for (input, value, is_rpps) in valid {
            let id = IdNatPs::parse(input).unwrap();
            assert_eq!(id.as_str(), input);
            assert_eq!(id.to_string(), input);
            match (&id, is_rpps) {
                (IdNatPs::Rpps(rpps), true) => assert_eq!(rpps.as_str(), value),
                (IdNatPs::Adeli(adeli), false) => assert_eq!(adeli.as_str(), value),
                other => panic!("{input:?}: wrong kind {other:?}"),
            }
        }
        let invalid = [
            ("", "idNat_PS is empty"),
            ("10001045367", "unknown prefix '1'"),
            ("910001045367", "unknown prefix '9'"),
            (
                "810001045368",
                "check digit 8 does not match the Luhn check digit 7",
            ),
            ("81000104536", "RPPS must be 11 digits, got 10"),
            ("001260063", "ADELI must be 9 digits, got 8"),
            ("00126006X1", "found 'X' at position 8"),
            ("é10001045367", "unknown prefix 'é'"),
        ];
        for (input, expected) in invalid {
            match IdNatPs::parse(input) {
                Err(e @ Error::InvalidIdNatPs { .. }) => {
                    assert!(e.to_string().contains(expected), "{input:?}: {e}")
                }
                other => panic!("{input:?}: expected InvalidIdNatPs, got {other:?}"),
            }
        }
    }

    #[test]
    fn id_nat_struct_table() {
        let valid = [
            ("0012600631", "Adeli"),
            ("1750048886", "Finess"),
            ("12A0000016", "Finess"),
            ("2732829320", "Siren"),
            ("373282932000074", "Siret"),
            ("335600000000001", "Siret"),
            ("4100010453671", "RppsRang"),
            ("41000104536700001", "RppsRang"),
        ];
        for (input, kind) in valid {
            let id = IdNatStruct::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(id.as_str(), input);
            assert_eq!(id.to_string(), input);
            let debug = format!("{id:?}");
            assert!(debug.starts_with(kind), "{input:?}: {debug}");
            assert_eq!(id.as_str().parse::<IdNatStruct>().unwrap(), id);
        }
        let invalid = [
            ("", "idNat_Struct is empty"),
            ("5123456789", "unknown prefix '5'"),
            ("8100010453671", "unknown prefix '8'"),
            (
                "1750048887",
                "check digit 7 does not match the Luhn check digit 6",
            ),
            ("175004888", "FINESS must be 9 characters, got 8"),
            ("2732829321", "Luhn"),
            ("37328293200007", "SIRET must be 14 digits, got 13"),
            ("410001045367", "1 to 10 rank digits, got 11 digits"),
            ("4100010453681", "RPPS part: check digit 8"),
            ("410001045367A", "found 'A' at position 12"),
            ("41000104536712345678901", "got 22 digits"),
        ];
        for (input, expected) in invalid {
            match IdNatStruct::parse(input) {
                Err(e @ Error::InvalidIdNatStruct { .. }) => {
                    assert!(e.to_string().contains(expected), "{input:?}: {e}")
                }
                other => panic!("{input:?}: expected InvalidIdNatStruct, got {other:?}"),
            }
        }
    }

    #[test]
    fn rpps_rang_parts() {
        let IdNatStruct::RppsRang(rang) = IdNatStruct::parse("41000104536700001").unwrap() else {
            panic!("not an RPPS-rang");
        };
        assert_eq!(rang.rpps(), "10001045367");
        assert_eq!(rang.rank(), "00001");
    }

    #[test]
    fn serde_uses_the_full_id_nat() {
        let ps = IdNatPs::parse("810001045367").unwrap();
        assert_eq!(serde_json::to_string(&ps).unwrap(), "\"810001045367\"");
        assert_eq!(
            serde_json::from_str::<IdNatPs>("\"810001045367\"").unwrap(),
            ps
        );
        let st = IdNatStruct::parse("1750048886").unwrap();
        assert_eq!(serde_json::to_string(&st).unwrap(), "\"1750048886\"");
        assert_eq!(
            serde_json::from_str::<IdNatStruct>("\"1750048886\"").unwrap(),
            st
        );
        assert!(serde_json::from_str::<IdNatStruct>("\"9750048886\"").is_err());
    }
}
