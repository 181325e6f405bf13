//! End-to-end: health documents through the real binary. A professional submits XDM
//! messages built from the real ANS samples; the headers are set, the route copies (or
//! redirects) to the integration platform's APP mailbox, `mssd documents list` shows the
//! index, a replacement and a deletion update it; malformed archives, wrong headers and
//! MASQUE_PS documents are handled per policy; indicators and metrics count them.

use mssd_cda::Action;
use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};
use mssd_e2e::submission_world::{A, OWNER, PASSWORD, World, app, martin, secretariat, world_with};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const CITIZEN_INS: &str = "279035121518989";
const V1_ID: &str = "1.2.250.1.71.4.2.2.120456789.71024000081";
const V2_ID: &str = "1.2.250.1.71.4.2.2.120456789.71024000082";

fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../shared/real-data/cda/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn durand() -> String {
    format!("dr.durand@{A}")
}

fn citizen() -> String {
    format!("{CITIZEN_INS}@patient.{A}")
}

fn config(policies: &str) -> String {
    format!(
        r#"[cda]
accepted_ins_oids = ["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10"]
{policies}

[[cda.routes]]
mailboxes = "{secretariat}"
action = "redirect"
to = "{app}"

[[cda.routes]]
mailboxes = "*@{A}"
codes = ["18748-4", "11502-2"]
action = "copy"
to = "{app}"
"#,
        secretariat = secretariat(),
        app = app(),
    )
}

fn start(policies: &str) -> World {
    let world = world_with(BIN, &config(policies));
    let add = |args: &[&str], stdin: Option<&str>| {
        let out = world.op.cli(args, stdin);
        assert!(out.status.success(), "{args:?}: {}", out.stderr);
    };
    add(
        &[
            "mailbox",
            "add",
            &durand(),
            "--kind",
            "PER",
            "--owner",
            OWNER,
            "--password-stdin",
        ],
        Some("durand password 2026\n"),
    );
    add(&["mailbox", "add", &citizen(), "--kind", "CITIZEN"], None);
    world
}

/// Submits, as dr.martin, an XDM message with `docs` to `to`; returns the final reply.
fn submit(world: &World, to: &[&str], docs: &[XdmDocument], extra_headers: &str) -> String {
    let zip = xdm_zip(docs, to);
    let message = message_with_xdm(
        &martin(),
        to[0],
        "XDM/1.0/DDM+CR d'examens de radiologie PAT-TROIS DOMINIQUE 07/08/2010",
        extra_headers,
        &zip,
    );
    let mut client = world.logged_in(&martin(), PASSWORD);
    client.send_message(&martin(), to, &message)
}

fn doc(cda: &[u8], action: Option<Action>) -> XdmDocument<'_> {
    XdmDocument {
        cda,
        action,
        ..Default::default()
    }
}

fn list(world: &World, mailbox: &str, all: bool) -> Vec<String> {
    let mut args = vec!["documents", "list", mailbox];
    if all {
        args.push("--all");
    }
    let out = world.op.cli(&args, None);
    assert!(out.status.success(), "{args:?}: {}", out.stderr);
    out.stdout.lines().map(str::to_string).collect()
}

fn header(message: &str, name: &str) -> Option<String> {
    message
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
}

#[test]
fn documents_are_indexed_routed_replaced_and_withdrawn() {
    let world = start("");
    let (v1, v2) = (
        sample("CR_Radio_CDAN1_v1.XML"),
        sample("CR_Radio_CDAN1_v2.XML"),
    );

    // First transmission: headers set, copied to the APP mailbox, indexed in both.
    let reply = submit(&world, &[&durand()], &[doc(&v1, None)], "");
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    let inbox = world.inbox(&durand());
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        header(&inbox[0], "X-MSS-CODECDA").as_deref(),
        Some("18748-4")
    );
    assert_eq!(header(&inbox[0], "X-MSS-INS").as_deref(), Some("O"));
    assert_eq!(world.inbox(&app()).len(), 1, "the copy route");
    let routed = world.audit_details("cda.routed");
    assert_eq!(routed.len(), 1, "{routed:?}");
    assert_eq!(routed[0]["action"], "copy");
    assert_eq!(routed[0]["to"], app());
    let current = list(&world, &durand(), false);
    assert_eq!(current.len(), 1, "{current:?}");
    assert!(
        current[0].starts_with(&format!("current {V1_ID} - v1 18748-4 ")),
        "{current:?}"
    );
    assert_eq!(list(&world, &app(), false), current);

    // Replacement (action C, RPLC naming v1): v2 current, v1 superseded.
    let reply = submit(&world, &[&durand()], &[doc(&v2, Some(Action::Replace))], "");
    assert!(reply.starts_with("250"), "{reply}");
    let current = list(&world, &durand(), false);
    assert_eq!(current.len(), 1);
    assert!(
        current[0].starts_with(&format!("current {V2_ID} - v2 18748-4 ")),
        "{current:?}"
    );
    let all = list(&world, &durand(), true);
    assert!(
        all[0].starts_with(&format!("superseded {V1_ID} ")),
        "{all:?}"
    );

    // JSON: the fields, the UID of the message, the INS redacted.
    let out = world
        .op
        .cli(&["documents", "list", &durand(), "--json"], None);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let row = &rows[0];
    assert_eq!(row["id"], V2_ID);
    assert_eq!(row["version"], 2);
    assert_eq!(row["status"], "current");
    assert_eq!(row["code"], "18748-4");
    assert_eq!(row["message_uid"], 2);
    assert_eq!(row["patient"][0], "1.2.250.1.213.1.4.10^27903*");
    assert!(!out.stdout.contains(CITIZEN_INS), "{}", out.stdout);

    // show: redacted, then revealed (audited).
    let out = world.op.cli(&["documents", "show", &durand(), V2_ID], None);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("replaces      ") && out.stdout.contains(V1_ID),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(CITIZEN_INS));
    let out = world
        .op
        .cli(&["documents", "show", &durand(), V2_ID, "--reveal"], None);
    assert!(out.stdout.contains(CITIZEN_INS), "{}", out.stdout);
    assert_eq!(world.audit_details("documents.reveal").len(), 1);
    let out = world
        .op
        .cli(&["documents", "show", &durand(), "9.9.9"], None);
    assert!(!out.status.success());
    assert!(out.stderr.contains("documents list"), "{}", out.stderr);

    // Deletion (action D naming v2): nothing current any more; the request is kept.
    let reply = submit(&world, &[&durand()], &[doc(&v2, Some(Action::Delete))], "");
    assert!(reply.starts_with("250"), "{reply}");
    assert!(list(&world, &durand(), false).is_empty());
    let all = list(&world, &durand(), true);
    assert!(
        all[1].starts_with(&format!("withdrawn {V2_ID} ")),
        "{all:?}"
    );
    // The original messages are never altered.
    assert_eq!(world.inbox(&durand())[0], inbox[0]);

    // The V2 whose parent is not V1's id: indexed as current with a note.
    let micro = (
        sample("BIO-CR-BIO_2024.01_Microbiologie_V1.xml"),
        sample("BIO-CR-BIO_2024.01_Microbiologie_V2.xml"),
    );
    assert!(submit(&world, &[&durand()], &[doc(&micro.0, None)], "").starts_with("250"));
    assert!(
        submit(
            &world,
            &[&durand()],
            &[doc(&micro.1, Some(Action::Replace))],
            ""
        )
        .starts_with("250")
    );
    let out = world
        .op
        .cli(&["documents", "list", &durand(), "--json"], None);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "1.2.250.1.213.1.1.1.55.2024.8.1",
            "1.2.250.1.213.1.1.1.55.2024.8.2"
        ]
    );
    assert_eq!(
        rows[1]["note"],
        "replaces a document this mailbox never received"
    );

    // Redirect: the secretariat's XDM goes to the APP mailbox only.
    let before = world.inbox(&app()).len();
    assert!(submit(&world, &[&secretariat()], &[doc(&v1, None)], "").starts_with("250"));
    assert!(world.inbox(&secretariat()).is_empty());
    assert_eq!(world.inbox(&app()).len(), before + 1);

    // Wrong claimed headers: accepted (warn), audited, left as the client wrote them.
    let reply = submit(
        &world,
        &[&durand()],
        &[doc(&v1, None)],
        "X-MSS-CODECDA: 11502-2\r\nX-MSS-INS: N\r\n",
    );
    assert!(reply.starts_with("250"), "{reply}");
    let mismatch = world.audit_details("cda.header_mismatch");
    assert_eq!(mismatch.len(), 1);
    assert_eq!(
        mismatch[0]["headers"],
        serde_json::json!(["X-MSS-CODECDA", "X-MSS-INS"])
    );
    assert_eq!(mismatch[0]["documents"]["X-MSS-CODECDA"], "18748-4");

    // A malformed archive: accepted, audited.
    let garbage = message_with_xdm(
        &martin(),
        &durand(),
        "XDM/1.0/DDM+x",
        "",
        b"not a zip at all",
    );
    let mut client = world.logged_in(&martin(), PASSWORD);
    assert!(
        client
            .send_message(&martin(), &[&durand()], &garbage)
            .starts_with("250")
    );
    let malformed = world.audit_details("cda.malformed");
    assert_eq!(malformed.len(), 1);
    assert_eq!(malformed[0]["problem"], "zip");

    // Indicators: dr.martin sent, dr.durand received, documents with a qualified INS.
    let month = time::OffsetDateTime::now_utc();
    let month = format!("{:04}-{:02}", month.year(), u8::from(month.month()));
    let out = world
        .op
        .cli(&["report", "indicators", "--month", &month, "--csv"], None);
    assert!(out.status.success(), "{}", out.stderr);
    let line = |scope: &str, who: &str| {
        out.stdout
            .lines()
            .find(|l| l.contains(&format!(",{scope},")) && l.contains(who))
            .unwrap_or_else(|| panic!("no {scope} {who} in\n{}", out.stdout))
            .to_string()
    };
    // month,scope,structure,mailbox,sent,received,xdm,documents,qualified,percent
    let martin_line = line("mailbox", &martin());
    let fields: Vec<&str> = martin_line.split(',').collect();
    assert_eq!(
        &fields[4..],
        ["8", "0", "7", "7", "7", "100.0"],
        "{martin_line}"
    );
    let durand_line = line("mailbox", &durand());
    let fields: Vec<&str> = durand_line.split(',').collect();
    assert_eq!(&fields[4..6], ["0", "7"], "{durand_line}");
    assert!(line("structure", A).contains(&format!(",{A},,")));
    let out = world
        .op
        .cli(&["report", "indicators", "--month", "2026-13"], None);
    assert!(
        !out.status.success() && out.stderr.contains("YYYY-MM"),
        "{}",
        out.stderr
    );

    // Metrics.
    let (_, metrics) = mssd_e2e::http_get(world.server.addr("http"), "/metrics");
    assert!(
        metrics.contains("mssd_cda_xdm_messages_total 7\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("mssd_cda_documents_by_code_total{code=\"18748-4\"} 5\n"),
        "{metrics}"
    );
    assert!(metrics.contains("mssd_cda_malformed_total 1\n"));
}

#[test]
fn refusal_policies_and_masque_ps() {
    let world = start("header_mismatch = \"refuse\"\nmalformed = \"refuse\"");
    let v1 = sample("CR_Radio_CDAN1_v1.XML");

    let reply = submit(&world, &[&durand()], &[doc(&v1, None)], "X-MSS-INS: N\r\n");
    assert_eq!(
        reply,
        "554 5.6.0 X-MSS-INS does not match the documents (they give O)"
    );
    let garbage = message_with_xdm(
        &martin(),
        &durand(),
        "XDM/1.0/DDM+x",
        "",
        b"PK\x03\x04 truncated",
    );
    let mut client = world.logged_in(&martin(), PASSWORD);
    let reply = client.send_message(&martin(), &[&durand()], &garbage);
    assert!(
        reply.starts_with(
            "554 5.6.0 Health documents refused: IHE_XDM.zip is not a readable zip archive"
        ),
        "{reply}"
    );
    assert!(world.inbox(&durand()).is_empty());
    assert_eq!(world.audit_details("cda.malformed")[0]["problem"], "zip");

    // MASQUE_PS: never to a professional, nor routed.
    let masked = XdmDocument {
        cda: &v1,
        restrictions: vec!["MASQUE_PS"],
        ..Default::default()
    };
    let reply = submit(&world, &[&durand()], std::slice::from_ref(&masked), "");
    assert_eq!(
        reply,
        "550 5.7.1 A document restricted MASQUE_PS is never delivered to a health professional"
    );
    // With the patient among the recipients: the patient receives it, the professional is
    // refused through a DSN to the sender.
    let reply = submit(&world, &[&citizen(), &durand()], &[masked], "");
    assert!(reply.starts_with("250"), "{reply}");
    assert_eq!(world.inbox(&citizen()).len(), 1);
    assert!(world.inbox(&durand()).is_empty());
    assert!(world.inbox(&app()).is_empty(), "never routed");
    let dsn = world.inbox(&martin());
    assert_eq!(dsn.len(), 1, "{dsn:?}");
    assert!(
        dsn[0].contains("Action: failed") && dsn[0].contains("Status: 5.7.1"),
        "{}",
        dsn[0]
    );
    assert!(
        dsn[0].contains(&format!("Final-Recipient: rfc822; {}", durand())),
        "{}",
        dsn[0]
    );
    let refused = world.audit_details("cda.refused");
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[1]["recipients"], serde_json::json!([durand()]));
}

/// A message large enough to be spooled to disk while it arrives, whose XDM comes after
/// 400 KB of text: the chunk scan sees the attachment, the message is examined whole, its
/// document indexed and its header fields set, and it is stored byte for byte.
#[test]
fn a_spooled_message_still_has_its_documents_examined() {
    let world = start("");
    let v1 = sample("CR_Radio_CDAN1_v1.XML");
    let zip = xdm_zip(&[doc(&v1, None)], &[&durand()]);
    let message = message_with_xdm(&martin(), &durand(), "Compte rendu", "", &zip);
    let text: String = (0..8000)
        .map(|i| format!("ligne {i} du compte rendu, texte libre sans piece jointe\r\n"))
        .collect();
    let message = String::from_utf8(message).unwrap().replace(
        "Documents de santé joints.\r\n",
        &format!("Documents de santé joints.\r\n{text}"),
    );
    assert!(message.len() > 400_000);
    let mut client = world.logged_in(&martin(), PASSWORD);
    let reply = client.send_message(&martin(), &[&durand()], message.as_bytes());
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    let inbox = world.inbox(&durand());
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        header(&inbox[0], "X-MSS-CODECDA").as_deref(),
        Some("18748-4")
    );
    assert!(inbox[0].contains(&text), "the text part is stored whole");
    let current = list(&world, &durand(), false);
    assert_eq!(current.len(), 1, "{current:?}");
    assert!(
        current[0].starts_with(&format!("current {V1_ID} - v1 18748-4 ")),
        "{current:?}"
    );
}
