//! Loading PEM and DER files, and the errors that name the file.

use mssd_certs::{Error, LeafSpec, TestCa, load_certs, load_crls, load_private_key};
use time::{Duration, OffsetDateTime};

#[test]
fn pem_and_der_files_load() {
    let dir = tempfile::tempdir().unwrap();
    let root = TestCa::root("TEST ROOT").unwrap();
    let leaf = root
        .issue(&LeafSpec {
            client_auth: true,
            ..LeafSpec::new(&[("CN", "leaf"), ("C", "FR")])
        })
        .unwrap();
    let t = OffsetDateTime::now_utc();
    let crl = root.crl(&[&leaf.serial], t, t + Duration::days(1)).unwrap();

    let chain = dir.path().join("chain.pem");
    std::fs::write(
        &chain,
        format!("explanatory text\n{}{}", leaf.cert_pem, root.cert_pem()),
    )
    .unwrap();
    assert_eq!(
        load_certs(&chain).unwrap(),
        vec![leaf.cert_der.clone(), root.cert_der().clone()]
    );

    let der = dir.path().join("leaf.der");
    std::fs::write(&der, leaf.cert_der.as_ref()).unwrap();
    assert_eq!(load_certs(&der).unwrap(), vec![leaf.cert_der.clone()]);

    let key = dir.path().join("leaf.key");
    std::fs::write(&key, &leaf.key_pem).unwrap();
    assert_eq!(load_private_key(&key).unwrap(), leaf.private_key());

    let crl_pem = dir.path().join("crl.pem");
    std::fs::write(&crl_pem, &crl.pem).unwrap();
    assert_eq!(load_crls(&crl_pem).unwrap(), vec![crl.der.clone()]);
    let crl_der = dir.path().join("crl.der");
    std::fs::write(&crl_der, crl.der.as_ref()).unwrap();
    assert_eq!(load_crls(&crl_der).unwrap(), vec![crl.der.clone()]);
}

#[test]
fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap();

    assert!(matches!(load_certs(&missing), Err(Error::Io { path, .. }) if path == missing));
    assert!(matches!(load_certs(&empty), Err(Error::NoCertificateInPem { path }) if path == empty));
    assert!(matches!(load_certs(&broken), Err(Error::Pem { path, .. }) if path == broken));
    assert!(matches!(load_private_key(&empty), Err(Error::NoPrivateKey { path }) if path == empty));
    assert!(matches!(load_crls(&empty), Err(Error::NoCrlInFile { path }) if path == empty));
    let message = load_certs(&missing).unwrap_err().to_string();
    assert!(message.contains("missing.pem"), "{message}");
}
