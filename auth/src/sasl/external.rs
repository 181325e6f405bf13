//! EXTERNAL (RFC 4422 appendix A): the response is an optional authorization identity.

use crate::error::Result;
use crate::sasl::credentials::Credentials;
use crate::sasl::text::optional_field;

/// Parses an EXTERNAL response: empty means "the identity of my certificate", otherwise
/// the authzid (UTF-8, no NUL, at most 255 octets).
pub fn parse_external(response: &[u8]) -> Result<Credentials> {
    Ok(Credentials::External {
        authzid: optional_field("EXTERNAL", "authzid", response)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// The authzid, or the error reason.
    type Expected = std::result::Result<Option<&'static str>, &'static str>;

    #[test]
    fn external_table() {
        let long = [b'a'; 256];
        let cases: &[(&[u8], Expected)] = &[
            (b"", Ok(None)),
            (
                b"dmp-app@hopital.mssante.fr",
                Ok(Some("dmp-app@hopital.mssante.fr")),
            ),
            (b"a\0b", Err("authzid contains a NUL octet")),
            (b"\xff", Err("authzid is not valid UTF-8")),
            (
                &long,
                Err("authzid is 256 octets, longer than the 255 allowed"),
            ),
        ];
        for (input, expected) in cases {
            match (parse_external(input), expected) {
                (Ok(Credentials::External { authzid }), Ok(want)) => {
                    assert_eq!(authzid.as_deref(), *want, "{input:?}")
                }
                (
                    Err(Error::SaslMalformed {
                        mechanism: "EXTERNAL",
                        reason,
                    }),
                    Err(want),
                ) => assert_eq!(reason, *want, "{input:?}"),
                (got, _) => panic!("{input:?}: unexpected {got:?}"),
            }
        }
    }
}
