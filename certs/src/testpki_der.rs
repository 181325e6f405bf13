//! The little DER rcgen cannot write for us: the certificatePolicies extension value.

use crate::dn_types::is_dotted_oid;
use crate::error::{Error, Result};

/// certificatePolicies ::= SEQUENCE OF PolicyInformation { policyIdentifier OID }.
pub(crate) fn certificate_policies(oids: &[String]) -> Result<Vec<u8>> {
    let mut infos = Vec::new();
    for oid in oids {
        infos.extend(tlv(0x30, &tlv(0x06, &encode_oid(oid)?)));
    }
    Ok(tlv(0x30, &infos))
}

/// Arcs of a dotted OID, for rcgen's `&[u64]` OIDs.
pub(crate) fn oid_arcs(oid: &str) -> Result<Vec<u64>> {
    if !is_dotted_oid(oid) {
        return Err(Error::Generate(format!("{oid:?} is not a dotted OID")));
    }
    oid.split('.')
        .map(|arc| {
            arc.parse::<u64>()
                .map_err(|_| Error::Generate(format!("OID arc {arc:?} of {oid} is too large")))
        })
        .collect()
}

fn encode_oid(oid: &str) -> Result<Vec<u8>> {
    let arcs = oid_arcs(oid)?;
    if arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
        return Err(Error::Generate(format!("{oid} is not a valid OID")));
    }
    let mut out = Vec::new();
    push_base128(&mut out, arcs[0] * 40 + arcs[1]);
    for &arc in &arcs[2..] {
        push_base128(&mut out, arc);
    }
    Ok(out)
}

fn push_base128(out: &mut Vec<u8>, mut value: u64) {
    let mut groups = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        groups.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.extend(groups.iter().rev());
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_encoding_table() {
        let cases: &[(&str, &[u8])] = &[
            ("2.5.29.32", &[0x55, 0x1d, 0x20]),
            ("1.2.840.113549", &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            ("1.2.250.1.71", &[0x2a, 0x81, 0x7a, 0x01, 0x47]),
        ];
        for (oid, der) in cases {
            assert_eq!(encode_oid(oid).unwrap(), *der, "{oid}");
        }
        for bad in ["", "1", "3.1", "1.40", "a.b", "1..2"] {
            assert!(encode_oid(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn policies_are_a_sequence_of_sequences() {
        let der = certificate_policies(&["1.2.3".to_string()]).unwrap();
        assert_eq!(der, vec![0x30, 0x06, 0x30, 0x04, 0x06, 0x02, 0x2a, 0x03]);
    }
}
