//! A synthetic sample document for the embedded default's first start: a level-1 CDA (an
//! embedded PDF) for the published test INS 279035121518989 under the test OID, with all six
//! identity traits. Fictitious people; not an ANS file (those stay outside the binary).

use base64::Engine;

use crate::builder::{XdmDocument, message_with_xdm, xdm_zip};

/// The sample's `ClinicalDocument/id`.
pub const SAMPLE_DOCUMENT_ID: &str = "1.2.250.1.213.1.1.9.999.1";

/// A minimal PDF, so the N1 body decodes to something that starts with `%PDF`.
const SAMPLE_PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// The sample CDA document.
pub fn sample_cda() -> String {
    let pdf = base64::engine::general_purpose::STANDARD.encode(SAMPLE_PDF);
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <templateId root="1.3.6.1.4.1.19376.1.2.20"/>
  <id root="{SAMPLE_DOCUMENT_ID}"/>
  <code code="11502-2" codeSystem="2.16.840.1.113883.6.1" displayName="CR d'examens biologiques"/>
  <title>Compte rendu d'examens biologiques (exemple mssd)</title>
  <effectiveTime value="20261201090000+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <setId root="1.2.250.1.213.1.1.9.999"/>
  <versionNumber value="1"/>
  <recordTarget>
    <patientRole>
      <id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
      <telecom value="mailto:279035121518989@patient.test.mssante.fr"/>
      <patient>
        <name>
          <family qualifier="BR">PAT-TROIS</family>
          <given>DOMINIQUE MARIE-LOUISE</given>
          <given qualifier="BR">DOMINIQUE</given>
        </name>
        <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="19790328"/>
        <birthplace><place><addr><county>51215</county></addr></place></birthplace>
      </patient>
    </patientRole>
  </recordTarget>
  <author>
    <time value="20261201090000+0100"/>
    <assignedAuthor>
      <id root="1.2.250.1.71.4.2.1" extension="801234567897"/>
      <representedOrganization><id root="1.2.250.1.71.4.2.2" extension="1999999999"/></representedOrganization>
    </assignedAuthor>
  </author>
  <custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.250.1.71.4.2.2" extension="1999999999"/></representedCustodianOrganization></assignedCustodian></custodian>
  <component>
    <nonXMLBody>
      <text mediaType="application/pdf" representation="B64">{pdf}</text>
    </nonXMLBody>
  </component>
</ClinicalDocument>
"#
    )
}

/// A message from `from` to `to` carrying the sample in an IHE_XDM.zip.
pub fn sample_message(from: &str, to: &str) -> Vec<u8> {
    let cda = sample_cda();
    let zip = xdm_zip(
        &[XdmDocument {
            cda: cda.as_bytes(),
            patient_id: Some("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"),
            ..Default::default()
        }],
        &[to],
    );
    message_with_xdm(
        from,
        to,
        "XDM/1.0/DDM+CR d'examens biologiques PAT-TROIS DOMINIQUE 28/03/1979",
        "X-MSS-CODECDA: 11502-2\r\nX-MSS-INS: O\r\n",
        &zip,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sample_reads_back() {
        let message = super::sample_message("labo@h.fr", "demo@h.fr");
        let package = crate::read_message(&message, &crate::XdmLimits::default())
            .unwrap()
            .unwrap();
        let doc = &package.documents[0];
        assert_eq!(doc.cda.id.to_string(), super::SAMPLE_DOCUMENT_ID);
        assert!(doc.cda.traits.complete());
        assert!(
            doc.cda
                .has_qualified_ins(&["1.2.250.1.213.1.4.10".to_string()])
        );
        assert_eq!(
            doc.entry.patient_id.as_ref().map(|p| p.root.as_str()),
            Some("1.2.250.1.213.1.4.10")
        );
        assert!(
            matches!(doc.cda.body, crate::Body::Unstructured { size, .. } if size == super::SAMPLE_PDF.len())
        );
    }
}
