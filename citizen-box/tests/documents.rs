//! The INS checks on the real ANS N1 lab report, edited as the ANS codes require.

use mssd_cda::builder::{XdmDocument, xdm_zip};
use mssd_cda::{XdmLimits, package};
use mssd_citizen::{AnsCode, CitizenError, check_for_citizen, citizen_ins};
use mssd_core::{Address, Ins};

const PATIENT: &str = "279035121518989";

fn sample() -> String {
    let path = format!(
        "{}/../../shared/real-data/cda/DOC_NON_STRUCTURE_CDA-R2-N1.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check(
    cda: &str,
    restrictions: Vec<&str>,
    recipient: &str,
    oids: &[&str],
) -> Result<(), AnsCode> {
    let zip = xdm_zip(
        &[XdmDocument {
            cda: cda.as_bytes(),
            restrictions,
            ..Default::default()
        }],
        &[],
    );
    let package = package::read(&zip, &XdmLimits::default()).unwrap();
    let oids: Vec<String> = oids.iter().map(|s| s.to_string()).collect();
    check_for_citizen(&package, &Ins::parse(recipient).unwrap(), &oids).map_err(|r| {
        assert!(!r.detail.contains(PATIENT) && !r.document.contains(PATIENT));
        r.code
    })
}

const TEST_OID: &[&str] = &["1.2.250.1.213.1.4.10"];

#[test]
fn the_right_patient_and_every_refusal_code() {
    let cda = sample();
    assert_eq!(check(&cda, vec![], PATIENT, TEST_OID), Ok(()));
    // Another patient's document: 904.
    assert_eq!(
        check(&cda, vec![], "295109912611193", TEST_OID),
        Err(AnsCode::InsMismatch)
    );
    // The INS removed: 903.
    let no_ins = cda.replace(
        r#"<id extension="279035121518989" root="1.2.250.1.213.1.4.10"/>"#,
        "",
    );
    assert_ne!(no_ins, cda, "the sample's INS element was found");
    assert_eq!(
        check(&no_ins, vec![], PATIENT, TEST_OID),
        Err(AnsCode::InsAbsent)
    );
    // A trait missing (the birthplace county): 905.
    let start = cda.find("<county>").unwrap();
    let end = cda[start..].find("</county>").unwrap() + start + "</county>".len();
    let no_county = format!("{}{}", &cda[..start], &cda[end..]);
    assert_eq!(
        check(&no_county, vec![], PATIENT, TEST_OID),
        Err(AnsCode::InsIncomplete)
    );
    // The test OID where only production INS are accepted: 906.
    assert_eq!(
        check(&cda, vec![], PATIENT, &["1.2.250.1.213.1.4.8"]),
        Err(AnsCode::Other)
    );
    // Hidden from the patient: 906, whatever the INS.
    assert_eq!(
        check(&cda, vec!["INVISIBLE_PATIENT"], PATIENT, TEST_OID),
        Err(AnsCode::Other)
    );
    // MASQUE_PS is for professionals: the patient receives it.
    assert_eq!(check(&cda, vec!["MASQUE_PS"], PATIENT, TEST_OID), Ok(()));
    assert_eq!(
        (
            AnsCode::InsMismatch.code(),
            AnsCode::InsAbsent.code(),
            AnsCode::InsIncomplete.code()
        ),
        (904, 903, 905)
    );
}

#[test]
fn citizen_addresses() {
    let domain = "patient.test.mssante.fr";
    let ok = Address::parse(&format!("{PATIENT}@{domain}")).unwrap();
    assert_eq!(citizen_ins(&ok, domain).unwrap().as_str(), PATIENT);
    let corsica = Address::parse(&format!("253072B07300470@{domain}")).unwrap();
    assert_eq!(
        citizen_ins(&corsica, domain).unwrap().as_str(),
        "253072B07300470"
    );
    let bad_key = Address::parse(&format!("279035121518988@{domain}")).unwrap();
    let err = citizen_ins(&bad_key, domain).unwrap_err();
    assert!(matches!(&err, CitizenError::NotAnIns { .. }), "{err}");
    assert!(!err.to_string().contains("279035121518988"), "{err}");
    assert!(err.to_string().contains("key"), "{err}");
    let short = Address::parse(&format!("12345@{domain}")).unwrap();
    assert!(matches!(
        citizen_ins(&short, domain),
        Err(CitizenError::NotAnIns { .. })
    ));
    let elsewhere = Address::parse(&format!("{PATIENT}@hopital.test.mssante.fr")).unwrap();
    assert!(matches!(
        citizen_ins(&elsewhere, domain),
        Err(CitizenError::OtherDomain { .. })
    ));
}
