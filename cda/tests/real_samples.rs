//! The real ANS CDA samples (`../shared/real-data/cda/`, byte-identical to what the ANS
//! publishes) wrapped in XDM zips: every header field as the files say.

use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};
use mssd_cda::{Action, Body, InstanceId, MssHeaders, XdmLimits, read_message};
use mssd_core::InsOid;

fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../shared/real-data/cda/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_one(name: &str) -> mssd_cda::Document {
    let cda = sample(name);
    let zip = xdm_zip(
        &[XdmDocument {
            cda: &cda,
            ..Default::default()
        }],
        &["pfi@hopital.test.mssante.fr"],
    );
    let message = message_with_xdm("a@x.fr", "b@y.fr", "XDM/1.0/DDM+test", "", &zip);
    let mut package = read_message(&message, &XdmLimits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .unwrap_or_else(|| panic!("{name}: no XDM found"));
    assert_eq!(
        package.submission.intended_recipients,
        ["pfi@hopital.test.mssante.fr"]
    );
    assert_eq!(package.documents.len(), 1);
    package.documents.remove(0)
}

struct Expected {
    file: &'static str,
    id: &'static str,
    set_id: Option<&'static str>,
    version: u32,
    code: &'static str,
    templates: &'static [&'static str],
    ins: (&'static str, &'static str),
    local_id: Option<(&'static str, &'static str)>,
    author: &'static str,
    replaces: Option<&'static str>,
    /// N1: the embedded PDF size; None: structured (N3).
    n1_pdf: Option<usize>,
}

const FR: &str = "2.16.840.1.113883.2.8.2.1";
const CISIS: &str = "1.2.250.1.213.1.1.1.1";
const N1: &str = "1.3.6.1.4.1.19376.1.2.20";
const TEST_INS: (&str, &str) = ("1.2.250.1.213.1.4.10", "279035121518989");
const IPP: Option<(&str, &str)> = Some(("1.2.3.4.567.8.9.10", "1234567890121"));

const EXPECTED: &[Expected] = &[
    Expected {
        file: "DOC_NON_STRUCTURE_CDA-R2-N1.xml",
        id: "1.3.6.1.4.1.19376.1.2.20.12345.1.1",
        set_id: Some("1.3.6.1.4.1.19376.1.2.20.12345.1"),
        version: 1,
        code: "11502-2",
        templates: &[FR, CISIS, N1],
        ins: TEST_INS,
        local_id: IPP,
        author: "1.2.250.1.71.4.2.1^801234534765",
        replaces: None,
        n1_pdf: Some(326_650),
    },
    Expected {
        file: "BIO-CR-BIO_2024.01_TSH_1.xml",
        id: "",
        set_id: Some("1.2.250.1.213.1.1.1.55.2024.9"),
        version: 1,
        code: "11502-2",
        templates: &[
            FR,
            CISIS,
            "1.3.6.1.4.1.19376.1.3.3",
            "1.2.250.1.213.1.1.1.55",
        ],
        ins: TEST_INS,
        local_id: IPP,
        author: "1.2.250.1.71.4.2.1^801234534765",
        replaces: None,
        n1_pdf: None,
    },
    Expected {
        file: "BIO-CR-BIO_2024.01_Microbiologie_V1.xml",
        id: "1.2.250.1.213.1.1.1.55.2024.8.1",
        set_id: Some("1.2.250.1.213.1.1.1.55.2024.8"),
        version: 1,
        code: "11502-2",
        templates: &[
            FR,
            CISIS,
            "1.3.6.1.4.1.19376.1.3.3",
            "1.2.250.1.213.1.1.1.55^2024.01",
        ],
        ins: TEST_INS,
        local_id: IPP,
        author: "1.2.250.1.71.4.2.1^801234534765",
        replaces: None,
        n1_pdf: None,
    },
    Expected {
        file: "BIO-CR-BIO_2024.01_Microbiologie_V2.xml",
        id: "1.2.250.1.213.1.1.1.55.2024.8.2",
        set_id: Some("1.2.250.1.213.1.1.1.55.2024.8"),
        version: 2,
        code: "11502-2",
        templates: &[
            FR,
            CISIS,
            "1.3.6.1.4.1.19376.1.3.3",
            "1.2.250.1.213.1.1.1.55^2024.01",
        ],
        ins: TEST_INS,
        local_id: IPP,
        author: "1.2.250.1.71.4.2.1^801234534765",
        replaces: Some("1.2.250.1.213.1.1.1.55.12345.13"),
        n1_pdf: None,
    },
    Expected {
        file: "LDL-SES_2022.01.xml",
        id: "",
        set_id: Some("1.2.250.1.213.1.1.1.29.2022.1"),
        version: 1,
        code: "11490-0",
        templates: &[FR, CISIS, "1.2.250.1.213.1.1.1.29^2022.01"],
        ins: TEST_INS,
        local_id: IPP,
        author: "1.2.250.1.71.4.2.1^801234567897",
        replaces: None,
        n1_pdf: None,
    },
    Expected {
        file: "IMG_CR_IMG_2024.01.xml",
        id: "",
        set_id: Some("1.2.250.1.213.1.1.1.45.2024.1"),
        version: 2,
        code: "18748-4",
        templates: &[
            FR,
            CISIS,
            "1.2.840.10008.9.1",
            "1.2.840.10008.9.20",
            "1.2.840.10008.9.21",
            "1.2.250.1.213.1.1.1.45^2024.01",
        ],
        ins: TEST_INS,
        local_id: IPP,
        author: "1.2.250.1.71.4.2.1^801234560801",
        replaces: Some("90E1C8EC-F951-4B26-A305-A34848818DD6"),
        n1_pdf: None,
    },
    Expected {
        file: "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml",
        id: "",
        set_id: Some("1.2.250.1.213.1.1.1.45.2024.2"),
        version: 2,
        code: "18748-4",
        templates: &[FR, CISIS, N1],
        ins: TEST_INS,
        local_id: IPP,
        author: "1.2.250.1.71.4.2.1^801234560801",
        replaces: Some("90E1C8EC-F951-4B26-A305-A34848818DD6"),
        n1_pdf: Some(61_736),
    },
    Expected {
        file: "CSE-CS8_2024.01.xml",
        id: "",
        set_id: Some("1.2.250.1.213.1.1.1.5.1.2024.1"),
        version: 1,
        code: "CERT_DECL",
        templates: &[
            FR,
            CISIS,
            "1.3.6.1.4.1.19376.1.7.3.1.1.13.1",
            "1.2.250.1.213.1.1.1.5",
            "1.2.250.1.213.1.1.1.5.1^2024.01",
        ],
        ins: ("1.2.250.1.213.1.4.8", "223042545611404"),
        local_id: Some(("1.2.3.4.5.6.7.8.9.10", "594857603")),
        author: "1.2.250.1.71.4.2.1^801234567897",
        replaces: Some("1.2.250.1.213.1.1.1.5.1.1"),
        n1_pdf: None,
    },
    Expected {
        file: "CR_Radio_CDAN1_v1.XML",
        id: "1.2.250.1.71.4.2.2.120456789.71024000081",
        set_id: None,
        version: 1,
        code: "18748-4",
        templates: &[FR, CISIS, N1],
        ins: TEST_INS,
        local_id: None,
        author: "1.2.250.1.71.4.2.1^801234564895",
        replaces: None,
        n1_pdf: Some(179_764),
    },
    Expected {
        file: "CR_Radio_CDAN1_v2.XML",
        id: "1.2.250.1.71.4.2.2.120456789.71024000082",
        set_id: None,
        version: 2,
        code: "18748-4",
        templates: &[FR, CISIS, N1],
        ins: TEST_INS,
        local_id: None,
        author: "1.2.250.1.71.4.2.1^801234564895",
        replaces: Some("1.2.250.1.71.4.2.2.120456789.71024000081"),
        n1_pdf: Some(179_764),
    },
];

#[test]
fn every_header_field_as_the_files_say() {
    for e in EXPECTED {
        let doc = read_one(e.file);
        let cda = &doc.cda;
        if !e.id.is_empty() {
            assert_eq!(cda.id.to_string(), e.id, "{}: id", e.file);
        }
        assert_eq!(
            cda.set_id.as_ref().map(ToString::to_string).as_deref(),
            e.set_id,
            "{}: setId",
            e.file
        );
        assert_eq!(cda.version, Some(e.version), "{}: version", e.file);
        assert_eq!(cda.code.code, e.code, "{}: code", e.file);
        let templates: Vec<String> = cda.template_ids.iter().map(ToString::to_string).collect();
        assert_eq!(templates, e.templates, "{}: templateIds", e.file);
        let ins: Vec<_> = cda.ins_ids().collect();
        assert_eq!(ins.len(), 1, "{}: one INS", e.file);
        assert_eq!(
            (ins[0].root.as_str(), ins[0].extension.as_str()),
            e.ins,
            "{}: INS",
            e.file
        );
        assert_eq!(ins[0].ins, InsOid::from_oid(e.ins.0));
        let local: Vec<_> = cda.patient_ids.iter().filter(|p| p.ins.is_none()).collect();
        assert_eq!(
            local
                .first()
                .map(|p| (p.root.as_str(), p.extension.as_str())),
            e.local_id,
            "{}: local id",
            e.file
        );
        assert!(cda.traits.complete(), "{}: traits {:?}", e.file, cda.traits);
        assert_eq!(
            cda.authors
                .first()
                .and_then(|a| a.id.as_ref())
                .map(ToString::to_string)
                .as_deref(),
            Some(e.author),
            "{}: author",
            e.file
        );
        assert_eq!(
            cda.replaces.as_ref().map(ToString::to_string).as_deref(),
            e.replaces,
            "{}: RPLC",
            e.file
        );
        match (&cda.body, e.n1_pdf) {
            (Body::Unstructured { media_type, size }, Some(pdf)) => {
                assert_eq!(media_type, "application/pdf", "{}", e.file);
                assert_eq!(*size, pdf, "{}: embedded PDF size", e.file);
            }
            (Body::Structured { sections }, None) => {
                assert!(!sections.is_empty(), "{}: N3 sections", e.file);
                assert!(sections.iter().any(|s| s.title.is_some()), "{}", e.file);
            }
            (body, expected) => panic!("{}: body {body:?}, expected N1 PDF {expected:?}", e.file),
        }
        assert_eq!(cda.confidentiality.as_deref(), Some("N"), "{}", e.file);
        assert!(doc.restrictions.is_empty());
    }
}

#[test]
fn ins_traits_of_the_test_patient() {
    let doc = read_one("BIO-CR-BIO_2024.01_Microbiologie_V2.xml");
    let t = &doc.cda.traits;
    assert_eq!(t.birth_family_name.as_deref(), Some("PAT-TROIS"));
    assert_eq!(t.first_birth_given_name.as_deref(), Some("DOMINIQUE"));
    assert_eq!(t.given_names.as_deref(), Some("DOMINIQUE MARIE-LOUISE"));
    assert_eq!(t.birth_time.as_deref(), Some("19790328"));
    assert_eq!(t.birthplace_county.as_deref(), Some("51215"));
    assert_eq!(t.sex.as_deref(), Some("F"));
    assert_eq!(
        doc.cda.title.as_deref(),
        Some("Compte rendu d'examens biologiques")
    );
    assert_eq!(
        doc.cda.effective_time.as_deref(),
        Some("20240104160527+0100")
    );
    // Debug never shows the INS or the traits.
    let debug = format!("{doc:?}");
    assert!(!debug.contains("279035121518989"), "{debug}");
    assert!(!debug.contains("PAT-TROIS"), "{debug}");
}

#[test]
fn cs8_birthplace_and_production_ins() {
    let doc = read_one("CSE-CS8_2024.01.xml");
    assert_eq!(doc.cda.traits.birthplace_county.as_deref(), Some("75056"));
    assert_eq!(doc.cda.traits.birth_time.as_deref(), Some("20230425"));
    let production = [
        "1.2.250.1.213.1.4.8".to_string(),
        "1.2.250.1.213.1.4.9".to_string(),
    ];
    assert!(doc.cda.has_qualified_ins(&production));
    let test_doc = read_one("LDL-SES_2022.01.xml");
    assert!(
        !test_doc.cda.has_qualified_ins(&production),
        "test OID .10 is not accepted by default"
    );
}

#[test]
fn several_documents_give_the_headers_in_order() {
    let (a, b) = (
        sample("CR_Radio_CDAN1_v1.XML"),
        sample("LDL-SES_2022.01.xml"),
    );
    let docs = [
        XdmDocument {
            cda: &a,
            ..Default::default()
        },
        XdmDocument {
            cda: &b,
            action: Some(Action::Replace),
            restrictions: vec!["INVISIBLE_PATIENT", "MASQUE_PS"],
            ..Default::default()
        },
    ];
    let message = message_with_xdm("a@x.fr", "b@y.fr", "Compte rendu", "", &xdm_zip(&docs, &[]));
    let package = read_message(&message, &XdmLimits::default())
        .unwrap()
        .unwrap();
    assert_eq!(package.codes(), ["18748-4", "11490-0"]);
    assert_eq!(package.documents[1].entry.action, Some(Action::Replace));
    assert_eq!(
        package.documents[1].restrictions.codes,
        ["MASQUE_PS", "INVISIBLE_PATIENT"]
    );
    assert!(
        package.documents[1]
            .restrictions
            .masked_from_professionals()
    );
    let with_test = [
        "1.2.250.1.213.1.4.8",
        "1.2.250.1.213.1.4.9",
        "1.2.250.1.213.1.4.10",
        "1.2.250.1.213.1.4.11",
    ]
    .map(String::from);
    let headers = MssHeaders::of(&package, &with_test).unwrap();
    assert_eq!(headers.code_cda, "18748-4,11490-0");
    assert_eq!(headers.ins, "O");
    let production = ["1.2.250.1.213.1.4.8".to_string()];
    assert_eq!(MssHeaders::of(&package, &production).unwrap().ins, "N");
    assert_eq!(
        headers.disagreements(Some("18748-4, 11490-0"), Some("o")),
        Vec::<&str>::new()
    );
    assert_eq!(
        headers.disagreements(Some("11502-2"), Some("N")),
        ["X-MSS-CODECDA", "X-MSS-INS"]
    );
}

#[test]
fn a_zip_attachment_counts_only_with_the_xdm_subject() {
    let cda = sample("CR_Radio_CDAN1_v1.XML");
    let zip = xdm_zip(
        &[XdmDocument {
            cda: &cda,
            ..Default::default()
        }],
        &[],
    );
    let renamed = |subject: &str| {
        String::from_utf8(message_with_xdm("a@x.fr", "b@y.fr", subject, "", &zip))
            .unwrap()
            .replace("IHE_XDM.zip", "documents.zip")
            .into_bytes()
    };
    let limits = XdmLimits::default();
    assert!(
        read_message(
            &renamed("XDM/1.0/DDM+CR d'examens de radiologie PAT-TROIS DOMINIQUE 07/08/2010"),
            &limits
        )
        .unwrap()
        .is_some()
    );
    assert!(
        read_message(&renamed("Résultats"), &limits)
            .unwrap()
            .is_none()
    );
    let lower = String::from_utf8(message_with_xdm("a@x.fr", "b@y.fr", "x", "", &zip))
        .unwrap()
        .replace("IHE_XDM.zip", "ihe_xdm.ZIP");
    assert!(read_message(lower.as_bytes(), &limits).unwrap().is_some());
    let plain = b"From: a@x.fr\r\nSubject: hello\r\n\r\nno documents\r\n";
    assert!(read_message(plain, &limits).unwrap().is_none());
    // The first look: "xdm" or "zip" on a header line, not inside base64 lines.
    use mssd_cda::attachment::may_carry_xdm;
    assert!(!may_carry_xdm(plain));
    assert!(!may_carry_xdm(
        b"Subject: x\r\n\r\nQUJDzIpERUZHxdmSElK\r\nTFNO\r\n"
    ));
    assert!(may_carry_xdm(b"Content-Type: application/ZIP\r\n"));
    assert!(may_carry_xdm(b"Subject: XDM/1.0/DDM+CR\r\n\r\n"));
    assert!(!may_carry_xdm(
        b"Subject: =?utf-8?q?R=C3=A9sultats?=\r\n\r\n"
    ));
    // A name hidden in an encoded word: parsed, and found.
    let hidden = String::from_utf8(message_with_xdm("a@x.fr", "b@y.fr", "x", "", &zip))
        .unwrap()
        .replace(
            "Content-Type: application/zip; name=\"IHE_XDM.zip\"",
            "Content-Type: application/octet-stream",
        )
        .replace(
            "filename=\"IHE_XDM.zip\"",
            "filename=\"=?utf-8?B?SUhFX1hETS56aXA=?=\"",
        );
    assert!(may_carry_xdm(hidden.as_bytes()));
    assert!(read_message(hidden.as_bytes(), &limits).unwrap().is_some());
    assert!(may_carry_xdm(&message_with_xdm(
        "a@x.fr", "b@y.fr", "x", "", &zip
    )));
}

#[test]
fn instance_ids_print_and_parse_as_root_caret_extension() {
    let id = InstanceId::new("1.2.3", Some("X1"));
    assert_eq!(id.to_string(), "1.2.3^X1");
    assert_eq!(InstanceId::parse("1.2.3^X1"), Some(id));
    assert_eq!(
        InstanceId::parse("1.2.3"),
        Some(InstanceId::new("1.2.3", None))
    );
    assert_eq!(InstanceId::parse(""), None);
}

/// For display: one document of a package with its bytes as they were zipped, in the same
/// pass; an id the package does not carry gives nothing.
#[test]
fn one_document_and_its_bytes_in_one_pass() {
    let (a, b) = (
        sample("CR_Radio_CDAN1_v1.XML"),
        sample("LDL-SES_2022.01.xml"),
    );
    let docs = [&a, &b].map(|cda| XdmDocument {
        cda,
        ..Default::default()
    });
    let zip = xdm_zip(&docs, &[]);
    let limits = XdmLimits::default();
    let package = mssd_cda::package::read(&zip, &limits).unwrap();
    let second = package.documents[1].cda.id.to_string();
    let (document, bytes) = mssd_cda::package::read_document(&zip, &limits, &second)
        .unwrap()
        .expect("the second document");
    assert_eq!(document.cda.id.to_string(), second);
    assert_eq!(bytes, b);
    assert!(
        mssd_cda::package::read_document(&zip, &limits, "1.2.3^nowhere")
            .unwrap()
            .is_none()
    );
}
