//! Hostile and broken packages: each gives a precise typed error, quickly, with no panic and
//! no large allocation.

use mssd_cda::builder::{XdmDocument, metadata_xml, xdm_zip, zip_files};
use mssd_cda::{CdaError, XdmLimits, package};

const CDA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.3.4" extension="D1"/><code code="11502-2" codeSystem="2.16.840.1.113883.6.1"/><setId root="1.2.3.5"/><versionNumber value="1"/>
<recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/></patientRole></recordTarget>
<component><structuredBody><component><section><title>Résultats</title><text>TSH 1,2 mUI/L</text></section></component></structuredBody></component></ClinicalDocument>
"#;

fn read(zip: &[u8]) -> Result<mssd_cda::Package, CdaError> {
    package::read(zip, &XdmLimits::default())
}

fn package_with(cda: &[u8]) -> Vec<u8> {
    xdm_zip(
        &[XdmDocument {
            cda,
            ..Default::default()
        }],
        &[],
    )
}

#[test]
fn a_good_package_reads() {
    let package = read(&package_with(CDA.as_bytes())).unwrap();
    assert_eq!(package.codes(), ["11502-2"]);
    let mssd_cda::Body::Structured { sections } = &package.documents[0].cda.body else {
        panic!("N3 expected")
    };
    assert_eq!(sections[0].title.as_deref(), Some("Résultats"));
    assert_eq!(sections[0].text, "TSH 1,2 mUI/L");
    assert!(!package.documents[0].cda.traits.complete());
}

#[test]
fn broken_xml() {
    let err = read(&package_with(&CDA.as_bytes()[..200])).unwrap_err();
    assert!(
        matches!(&err, CdaError::Xml { file, .. } if file == "DOC0001.XML"),
        "{err}"
    );
    let err = read(&package_with(
        b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1\"/></Clinical>",
    ))
    .unwrap_err();
    assert_eq!(err.kind(), "xml", "{err}");
    // Broken in the body, far from the header: found by the streaming pass.
    let body_broken = CDA.replace("</section>", "</sektion>");
    assert_eq!(
        read(&package_with(body_broken.as_bytes()))
            .unwrap_err()
            .kind(),
        "xml"
    );
    let truncated = &CDA[..CDA.len() - 30];
    assert_eq!(
        read(&package_with(truncated.as_bytes()))
            .unwrap_err()
            .kind(),
        "xml"
    );
    let entity = CDA.replace("TSH 1,2", "TSH &unknown; 1,2");
    let err = read(&package_with(entity.as_bytes())).unwrap_err();
    assert!(
        err.to_string().contains("undeclared entity &unknown;"),
        "{err}"
    );
    let escaped = CDA.replace("TSH 1,2", "TSH &lt; 1,2 &#233;");
    let package = read(&package_with(escaped.as_bytes())).unwrap();
    let mssd_cda::Body::Structured { sections } = &package.documents[0].cda.body else {
        panic!()
    };
    assert_eq!(sections[0].text, "TSH < 1,2 é mUI/L");
    let err = read(&package_with(b"<Other/>")).unwrap_err();
    assert!(
        matches!(&err, CdaError::NotCda { reason, .. } if reason.contains("Other")),
        "{err}"
    );
    let err = read(&package_with(b"\xff\xfe<")).unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[test]
fn dtd_and_entities_are_refused() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol2;</title></ClinicalDocument>"#;
    let err = read(&package_with(laughs.as_bytes())).unwrap_err();
    assert_eq!(
        err,
        CdaError::Xml {
            file: "DOC0001.XML".into(),
            reason: "a DTD or entity declaration is not allowed".into()
        }
    );
    let external = r#"<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><ClinicalDocument xmlns="urn:hl7-org:v3"/>"#;
    assert_eq!(
        read(&package_with(external.as_bytes())).unwrap_err().kind(),
        "xml"
    );
    // The same in METADATA.XML.
    let metadata = format!(
        "<!DOCTYPE m [<!ENTITY a \"b\">]>{}",
        metadata_xml(
            &[XdmDocument {
                cda: CDA.as_bytes(),
                ..Default::default()
            }],
            &[]
        )
        .replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", "")
    );
    let zip = zip_files(&[
        ("IHE_XDM/SUBSET01/METADATA.XML", metadata.as_bytes()),
        ("IHE_XDM/SUBSET01/DOC0001.XML", CDA.as_bytes()),
    ]);
    let err = read(&zip).unwrap_err();
    assert!(
        matches!(&err, CdaError::Xml { file, .. } if file == "METADATA.XML"),
        "{err}"
    );
}

#[test]
fn missing_metadata() {
    let zip = zip_files(&[
        ("README.TXT", b"x"),
        ("IHE_XDM/SUBSET01/DOC0001.XML", CDA.as_bytes()),
    ]);
    assert_eq!(read(&zip).unwrap_err(), CdaError::MissingMetadata);
    let err = read(&zip_files(&[("IHE_XDM/SUBSET01/METADATA.XML", b"<a/>")])).unwrap_err();
    assert!(
        matches!(&err, CdaError::Metadata(m) if m.contains("SubmitObjectsRequest")),
        "{err}"
    );
}

#[test]
fn a_listed_file_missing_or_altered() {
    let doc = XdmDocument {
        cda: CDA.as_bytes(),
        ..Default::default()
    };
    let metadata = metadata_xml(&[doc.clone(), doc], &[]);
    let zip = zip_files(&[
        ("IHE_XDM/SUBSET01/METADATA.XML", metadata.as_bytes()),
        ("IHE_XDM/SUBSET01/DOC0001.XML", CDA.as_bytes()),
    ]);
    assert_eq!(
        read(&zip).unwrap_err(),
        CdaError::MissingDocument {
            uri: "DOC0002.XML".into()
        }
    );

    let metadata = metadata_xml(
        &[XdmDocument {
            cda: CDA.as_bytes(),
            ..Default::default()
        }],
        &[],
    );
    let altered = CDA.replace("D1", "D2");
    let zip = zip_files(&[
        ("IHE_XDM/SUBSET01/METADATA.XML", metadata.as_bytes()),
        ("IHE_XDM/SUBSET01/DOC0001.XML", altered.as_bytes()),
    ]);
    let err = read(&zip).unwrap_err();
    assert!(
        matches!(&err, CdaError::HashMismatch { uri, .. } if uri == "DOC0001.XML"),
        "{err}"
    );

    let longer = format!("{CDA} ");
    let zip = zip_files(&[
        ("IHE_XDM/SUBSET01/METADATA.XML", metadata.as_bytes()),
        ("IHE_XDM/SUBSET01/DOC0001.XML", longer.as_bytes()),
    ]);
    let err = read(&zip).unwrap_err();
    assert_eq!(
        err,
        CdaError::SizeMismatch {
            uri: "DOC0001.XML".into(),
            declared: CDA.len() as u64,
            actual: CDA.len() as u64 + 1
        }
    );

    let bad_hash = metadata.replacen(
        r#"<rim:Slot name="hash"><rim:ValueList><rim:Value>"#,
        r#"<rim:Slot name="hash"><rim:ValueList><rim:Value>zz"#,
        1,
    );
    let zip = zip_files(&[
        ("IHE_XDM/SUBSET01/METADATA.XML", bad_hash.as_bytes()),
        ("IHE_XDM/SUBSET01/DOC0001.XML", CDA.as_bytes()),
    ]);
    assert!(
        matches!(read(&zip).unwrap_err(), CdaError::Metadata(m) if m.contains("not a hexadecimal SHA-1"))
    );
}

#[test]
fn nested_zips_are_never_opened() {
    let inner = package_with(CDA.as_bytes());
    let zip = zip_files(&[("IHE_XDM/SUBSET01/inner.zip", &inner)]);
    assert_eq!(
        read(&zip).unwrap_err(),
        CdaError::NestedArchive {
            name: "IHE_XDM/SUBSET01/inner.zip".into()
        }
    );
    // A zip under an innocent name is found by its magic number.
    let metadata = metadata_xml(
        &[XdmDocument {
            cda: &inner,
            ..Default::default()
        }],
        &[],
    );
    let zip = zip_files(&[
        ("IHE_XDM/SUBSET01/METADATA.XML", metadata.as_bytes()),
        ("IHE_XDM/SUBSET01/DOC0001.XML", &inner),
    ]);
    assert_eq!(
        read(&zip).unwrap_err(),
        CdaError::NestedArchive {
            name: "IHE_XDM/SUBSET01/DOC0001.XML".into()
        }
    );
}

#[test]
fn traversal_and_absolute_names() {
    for (name, reason) in [
        ("../x", "parent directory component (..)"),
        ("IHE_XDM/../../x", "parent directory component (..)"),
        ("/etc/passwd", "absolute path"),
        ("C:/x", "drive letter"),
        ("IHE_XDM\\x", "backslash"),
    ] {
        let zip = zip_files(&[(name, b"x")]);
        assert_eq!(
            read(&zip).unwrap_err(),
            CdaError::UnsafeName {
                name: name.into(),
                reason
            },
            "{name}"
        );
    }
}

/// Sets the uncompressed size of the only entry, in its local and central headers.
fn patch_uncompressed_size(zip: &mut [u8], size: u32) {
    let local = 0;
    assert_eq!(&zip[local..local + 4], b"PK\x03\x04");
    zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
    let central = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
}

#[test]
fn zip_bombs() {
    let zeros = vec![0u8; 16 * 1024 * 1024];
    // Honest headers: 16 MiB in a few KiB is refused on the ratio before expanding.
    let bomb = zip_files(&[("IHE_XDM/SUBSET01/DOC0001.XML", &zeros)]);
    assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
    let err = read(&bomb).unwrap_err();
    assert_eq!(
        err,
        CdaError::RatioTooHigh {
            name: "IHE_XDM/SUBSET01/DOC0001.XML".into(),
            limit: 100
        }
    );
    // Declaring 4 GiB: refused from the directory.
    let mut declares = bomb.clone();
    patch_uncompressed_size(&mut declares, u32::MAX - 1);
    assert_eq!(read(&declares).unwrap_err().kind(), "entry_too_large");
    // Lying: declares 1,000 bytes but expands to 16 MiB; reading stops at 1,001.
    let mut lying = bomb;
    patch_uncompressed_size(&mut lying, 1000);
    let err = read(&lying).unwrap_err();
    // (the zip library notices too, at the same point: either way nothing past 1,001 bytes)
    assert!(
        matches!(&err, CdaError::Zip(m) if m.contains("declared")),
        "{err}"
    );
    // Many honest entries adding up past the total.
    let limits = XdmLimits {
        max_total_size: 1024 * 1024,
        ..XdmLimits::default()
    };
    let chunk: Vec<u8> = (0..600 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let zip = zip_files(&[("a", &chunk), ("b", &chunk)]);
    assert_eq!(
        package::read(&zip, &limits).unwrap_err(),
        CdaError::TotalTooLarge { limit: 1024 * 1024 }
    );
}

#[test]
fn a_hundred_thousand_entries() {
    let names: Vec<String> = (0..100_000).map(|i| format!("f{i}")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"".as_slice())).collect();
    let zip = zip_files(&files);
    assert_eq!(
        read(&zip).unwrap_err(),
        CdaError::TooManyEntries {
            found: 100_000,
            limit: 100
        }
    );
}

#[test]
fn not_a_zip() {
    assert_eq!(read(b"hello").unwrap_err().kind(), "zip");
    assert_eq!(read(b"").unwrap_err().kind(), "zip");
    let mut truncated = package_with(CDA.as_bytes());
    truncated.truncate(truncated.len() / 2);
    assert_eq!(read(&truncated).unwrap_err().kind(), "zip");
}

#[test]
fn two_patients_in_one_archive() {
    let other = CDA.replace("279035121518989", "295109912611193");
    let zip = xdm_zip(
        &[
            XdmDocument {
                cda: CDA.as_bytes(),
                ..Default::default()
            },
            XdmDocument {
                cda: other.as_bytes(),
                ..Default::default()
            },
        ],
        &[],
    );
    assert_eq!(read(&zip).unwrap_err(), CdaError::SeveralPatients);
}

#[test]
fn bad_action_and_replacement_structure() {
    let metadata = metadata_xml(
        &[XdmDocument {
            cda: CDA.as_bytes(),
            action: Some(mssd_cda::Action::Delete),
            ..Default::default()
        }],
        &[],
    )
    .replace(">D<", ">X<");
    let zip = zip_files(&[
        ("IHE_XDM/SUBSET01/METADATA.XML", metadata.as_bytes()),
        ("IHE_XDM/SUBSET01/DOC0001.XML", CDA.as_bytes()),
    ]);
    assert!(matches!(read(&zip).unwrap_err(), CdaError::Metadata(m) if m.contains("action \"X\"")));
    let xfrm = CDA.replace("<component>", r#"<relatedDocument typeCode="XFRM"><parentDocument><id root="9.9"/></parentDocument></relatedDocument><component>"#);
    let err = read(&package_with(xfrm.as_bytes())).unwrap_err();
    assert!(
        matches!(&err, CdaError::NotCda { reason, .. } if reason.contains("only RPLC")),
        "{err}"
    );
    let bad_pdf = CDA.replace("<structuredBody>", r#"<nonXMLBody><text mediaType="application/pdf" representation="B64">SGVsbG8=</text></nonXMLBody><structuredBody_>"#).replace("</structuredBody>", "</structuredBody_>");
    let err = read(&package_with(bad_pdf.as_bytes())).unwrap_err();
    assert!(
        matches!(&err, CdaError::Body { reason, .. } if reason.contains("%PDF")),
        "{err}"
    );
}
