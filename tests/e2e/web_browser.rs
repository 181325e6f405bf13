//! End-to-end in a real browser: Debian's chromium, driven through chromedriver by Python
//! selenium (`tests/web/browser.py`), against the real binary: a professional's lab report
//! arrives over SMTP; the citizen signs in with the TEST provider, reads it, opens the PDF
//! and an N3 document, sees hostile HTML inert, replies, signs out; at desktop size and at
//! 390 × 844, with axe-core on every page. Screenshots land in target/web-screenshots.

use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};
use mssd_e2e::submission_world::{A, PASSWORD, World, martin, world_with};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const PATIENT: &str = "279035121518989";

fn send(world: &World, message: &[u8]) {
    let to = format!("{PATIENT}@patient.{A}");
    let mut client = world.logged_in(&martin(), PASSWORD);
    let reply = client.send_message(&martin(), &[&to], message);
    assert!(reply.starts_with("250"), "{reply}");
}

fn document_message(cda_file: &str, subject: &str) -> Vec<u8> {
    let to = format!("{PATIENT}@patient.{A}");
    let path = format!(
        "{}/../../shared/real-data/cda/{cda_file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let cda = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let zip = xdm_zip(
        &[XdmDocument {
            cda: &cda,
            ..Default::default()
        }],
        &[&to],
    );
    message_with_xdm(&martin(), &to, subject, "", &zip)
}

#[test]
fn a_citizen_reads_documents_and_replies_in_chromium() {
    let world = world_with(
        BIN,
        &format!(
            "[citizen]\ndomain = \"patient.{A}\"\n\n[citizen.oidc]\ntest_provider = true\n\n[cda]\naccepted_ins_oids = [\"1.2.250.1.213.1.4.10\"]\n"
        ),
    );
    let out = world.op.cli(&["citizen", "add", PATIENT], None);
    assert!(out.status.success(), "{}", out.stderr);
    send(
        &world,
        &document_message("BIO-CR-BIO_2024.01_TSH_1.xml", "Dosage de TSH"),
    );
    send(
        &world,
        &document_message("DOC_NON_STRUCTURE_CDA-R2-N1.xml", "Résultats de biologie"),
    );
    let hostile = format!(
        "From: <{}>\r\nTo: <{PATIENT}@patient.{A}>\r\nSubject: Message HTML\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Bonjour</p><script>alert('x')</script><a href=\"javascript:alert(1)\">clic</a><img src=\"https://tracker.example/p.gif\" alt=\"\"><img src=x onerror=\"alert(2)\"><p style=\"color:red\">fin</p>\r\n",
        martin()
    );
    send(&world, hostile.as_bytes());
    let before = world.inbox(&martin()).len();

    let target = format!("{}/../target", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(format!(
            "{}/../tests/web/browser.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(format!("https://{}", world.server.addr("https")))
        .arg(PATIENT)
        .arg(format!("{target}/web-screenshots"))
        .arg(format!("{target}/web-test-node"))
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("pages checked: 2"), "{stdout}");
    // Both replies (desktop, then phone) reached the professional through submission.
    let inbox = mssd_e2e::store::wait_for_messages(&world.op.data_dir(), &martin(), before + 2);
    let replies: Vec<String> = inbox[before..]
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect();
    assert!(
        replies.iter().any(|r| r.contains("(ordinateur)")),
        "{replies:?}"
    );
    assert!(
        replies
            .iter()
            .any(|r| r.contains("(t=C3=A9l=C3=A9phone)") || r.contains("(téléphone)")),
        "{replies:?}"
    );
}
