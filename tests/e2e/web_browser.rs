//! End-to-end in a real browser: Debian's chromium, driven through chromedriver by Python
//! selenium (`tests/web/browser.py`), against the real binary: a professional's lab reports
//! arrive over SMTP; the citizen signs in with the TEST provider, reads them, opens the PDF
//! and an N3 document, sees hostile HTML inert, replies, signs out; at desktop size and at
//! 390 × 844, with axe-core on every page. Screenshots land in target/web-screenshots.

use mssd_e2e::submission_world::{A, martin};
use mssd_e2e::web_world::*;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

#[test]
fn a_citizen_reads_documents_and_replies_in_chromium() {
    let world = web_world(BIN, "");
    send_lab_reports(&world);
    let hostile = format!(
        "From: <{}>\r\nTo: <{PATIENT}@patient.{A}>\r\nSubject: Message HTML\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Bonjour</p><script>alert('x')</script><a href=\"javascript:alert(1)\">clic</a><img src=\"https://tracker.example/p.gif\" alt=\"\"><img src=x onerror=\"alert(2)\"><p style=\"color:red\">fin</p>\r\n",
        martin()
    );
    assert!(send_raw(&world, &citizen(PATIENT), hostile.as_bytes()).starts_with("250"));
    let before = world.inbox(&martin()).len();

    let target = format!("{}/../target", env!("CARGO_MANIFEST_DIR"));
    let stdout = run_web_script(
        "browser.py",
        &[
            format!("https://{}", world.server.addr("https")),
            PATIENT.to_string(),
            format!("{target}/web-screenshots"),
            format!("{target}/web-test-node"),
        ],
    );
    // axe ran on every page of both runs: home, provider, inbox, message, documents, PDF,
    // N3, hostile message, reply sent, signed out.
    let checked: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("pages checked: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert_eq!(checked, 20, "{stdout}");
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
    assert!(replies.iter().any(|r| r.contains("phone)")), "{replies:?}");
}
