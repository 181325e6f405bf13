//! Building XDM packages in memory: the embedded default's sample documents, the tests and
//! the benchmark wrap real CDA files with this. The layout follows IHE ITI-32 (README.TXT,
//! INDEX.HTM, IHE_XDM/SUBSET01/METADATA.XML, DOCnnnn.XML) and the metadata ITI TF-3.

use std::fmt::Write as _;
use std::io::{Cursor, Write};

use base64::Engine;
use sha1::{Digest, Sha1};
use zip::write::SimpleFileOptions;

use crate::model::Action;

/// One document to put in a package.
#[derive(Debug, Clone, Default)]
pub struct XdmDocument<'a> {
    pub cda: &'a [u8],
    pub action: Option<Action>,
    /// MetaDMP/MSS codes to list among the confidentiality codes (e.g. `MASQUE_PS`).
    pub restrictions: Vec<&'a str>,
    /// CX patient id for the metadata, e.g. `279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH`.
    pub patient_id: Option<&'a str>,
}

/// The METADATA.XML for `documents` (named DOC0001.XML, …) sent to `recipients`.
pub fn metadata_xml(documents: &[XdmDocument], recipients: &[&str]) -> String {
    let mut entries = String::new();
    for (i, doc) in documents.iter().enumerate() {
        let n = i + 1;
        let mut slots = format!(
            "{}{}{}",
            slot("hash", &hex::encode(Sha1::digest(doc.cda))),
            slot("size", &doc.cda.len().to_string()),
            slot("URI", &format!("DOC{n:04}.XML")),
        );
        if let Some(action) = doc.action {
            slots.push_str(&slot(
                "action",
                match action {
                    Action::Replace => "C",
                    Action::Delete => "D",
                },
            ));
        }
        let mut classifications = format!(
            r#"<rim:Classification classificationScheme="urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f" classifiedObject="Document{n:02}" nodeRepresentation="N" id="conf{n}-n">{}</rim:Classification>"#,
            slot("codingScheme", "2.16.840.1.113883.5.25")
        );
        for (j, code) in doc.restrictions.iter().enumerate() {
            let _ = write!(
                classifications,
                r#"<rim:Classification classificationScheme="urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f" classifiedObject="Document{n:02}" nodeRepresentation="{code}" id="conf{n}-{j}">{}</rim:Classification>"#,
                slot("codingScheme", crate::METADMP_MSS_SYSTEM)
            );
        }
        let patient = doc
            .patient_id
            .map(|p| format!(r#"<rim:ExternalIdentifier identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="{}" id="pid{n}" registryObject="Document{n:02}"/>"#, p.replace('&', "&amp;")))
            .unwrap_or_default();
        let _ = write!(
            entries,
            r#"<rim:ExtrinsicObject id="Document{n:02}" mimeType="text/xml" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">{slots}{classifications}{patient}</rim:ExtrinsicObject>"#
        );
    }
    let recipients: String = recipients
        .iter()
        .map(|r| format!("<rim:Value>|^^Internet^{r}</rim:Value>"))
        .collect();
    let members: String = (1..=documents.len())
        .map(|n| format!(r#"<rim:Association associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SubmissionSet01" targetObject="Document{n:02}" id="assoc{n}"/>"#))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>{entries}<rim:RegistryPackage id="SubmissionSet01"><rim:Slot name="submissionTime"><rim:ValueList><rim:Value>20261204120000</rim:Value></rim:ValueList></rim:Slot><rim:Slot name="intendedRecipient"><rim:ValueList>{recipients}</rim:ValueList></rim:Slot></rim:RegistryPackage><rim:Classification classifiedObject="SubmissionSet01" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd" id="setclass"/>{members}</rim:RegistryObjectList></lcm:SubmitObjectsRequest>
"#
    )
}

fn slot(name: &str, value: &str) -> String {
    format!(
        r#"<rim:Slot name="{name}"><rim:ValueList><rim:Value>{value}</rim:Value></rim:ValueList></rim:Slot>"#
    )
}

/// A zip of `files` (name, bytes), deflated.
pub fn zip_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        // Writing to memory cannot fail but for a bug in the zip writer.
        writer
            .start_file(*name, options)
            .expect("zip entry in memory");
        writer.write_all(bytes).expect("zip write in memory");
    }
    writer.finish().expect("zip in memory").into_inner()
}

/// A complete `IHE_XDM.zip` for `documents`.
pub fn xdm_zip(documents: &[XdmDocument], recipients: &[&str]) -> Vec<u8> {
    let metadata = metadata_xml(documents, recipients);
    let names: Vec<String> = (1..=documents.len())
        .map(|n| format!("IHE_XDM/SUBSET01/DOC{n:04}.XML"))
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![
        (
            "README.TXT",
            b"Archive IHE XDM produite par mssd.\r\n".as_slice(),
        ),
        (
            "INDEX.HTM",
            b"<html><body>IHE_XDM/SUBSET01</body></html>".as_slice(),
        ),
        ("IHE_XDM/SUBSET01/METADATA.XML", metadata.as_bytes()),
    ];
    files.extend(
        names
            .iter()
            .map(String::as_str)
            .zip(documents.iter().map(|d| d.cda)),
    );
    zip_files(&files)
}

/// A MIME message from `from` to `to` with `zip` attached as `IHE_XDM.zip`, and `extra`
/// header lines (each ending in CRLF).
pub fn message_with_xdm(from: &str, to: &str, subject: &str, extra: &str, zip: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(zip);
    let mut body = String::with_capacity(encoded.len() + encoded.len() / 76 * 2 + 1024);
    for line in encoded.as_bytes().chunks(76) {
        body.push_str(std::str::from_utf8(line).unwrap_or_default());
        body.push_str("\r\n");
    }
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n{extra}Content-Type: multipart/mixed; boundary=\"xdm-boundary\"\r\n\r\n--xdm-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDocuments de santé joints.\r\n--xdm-boundary\r\nContent-Type: application/zip; name=\"IHE_XDM.zip\"\r\nContent-Disposition: attachment; filename=\"IHE_XDM.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}--xdm-boundary--\r\n"
    )
    .into_bytes()
}
