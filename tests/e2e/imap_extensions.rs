//! End-to-end with Python's standard `imaplib` (raw commands where it has no helper) against
//! the real `mssd`: LIST-EXTENDED with LIST-STATUS, MULTIAPPEND (atomic, also on quota),
//! ESORT, SEARCHRES, and IMAP4rev2 once enabled.

use mssd_e2e::submission_world::{A, PASSWORD, martin, world};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

/// Runs [`HELPERS`] + `script` as dr.martin on a new server.
fn as_martin(script: &str) -> Value {
    world(BIN).imaplib(&format!("{HELPERS}{script}"), &[&martin(), PASSWORD])
}

/// Raw commands and their untagged answers, and MULTIAPPEND written by hand (imaplib sends
/// one literal per command).
const HELPERS: &str = r#"
imaplib.Commands.update({"LIST": ("AUTH", "SELECTED"), "ENABLE": ("AUTH", "SELECTED")})
def raw(m, name, *args):
    try:
        typ, dat = m._simple_command(name, *args)
    except imaplib.IMAP4.error as e:
        return ["BAD", [str(e)]]
    lines = []
    for kind in ("LIST", "STATUS", "ESEARCH", "SEARCH", "ENABLED"):
        for d in m.untagged_responses.pop(kind, []):
            if isinstance(d, tuple):
                d = d[0] + d[1]
            lines.append(kind + " " + (d.decode() if isinstance(d, bytes) else str(d)))
    return [typ, lines]
def multiappend(m, mailbox, messages):
    tag = m._new_tag().decode()
    head = "%s APPEND %s" % (tag, mailbox)
    for i, body in enumerate(messages):
        m.send(("%s (\\Seen) {%d}\r\n" % (head, len(body))).encode())
        line = m.readline()
        if not line.startswith(b"+"):
            return line.decode().strip()
        m.send(body)
        head = ""
    m.send(b"\r\n")
    while True:
        line = m.readline().decode().strip()
        if line.startswith(tag + " "):
            return line[len(tag) + 1:]
def message(subject, size=0):
    return ("From: <a@x.test>\r\nSubject: %s\r\n\r\n%s\r\n" % (subject, "x" * size)).encode()
"#;

const LIST_SCRIPT: &str = r#"
m = connect(sys.argv[3], sys.argv[4])
caps = m.capability()[1][0].decode().split()
out = {"caps": [c for c in caps if c in ("LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE")]}
for name in ("Projets", "Projets/2026", "Projets/2026/T4"):
    m.create(name)
m.subscribe("INBOX")
m.subscribe("Projets/2026/T4")
m.subscribe("Disparu")
m.append("Projets/2026", None, None, message("un"))
m.append("Projets/2026", "(\\Seen)", None, message("deux"))
out["status"] = raw(m, "LIST", '""', "Projets/%", "RETURN", "(STATUS (MESSAGES UNSEEN))")
out["subscribed"] = raw(m, "LIST", "(SUBSCRIBED)", '""', "*")
out["recursive"] = raw(m, "LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', "%")
out["patterns"] = raw(m, "LIST", '""', "(INBOX Sent)", "RETURN", "(SUBSCRIBED CHILDREN)")
out["both"] = raw(m, "LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', "(Projets Projets/*)")
out["special"] = raw(m, "LIST", "(SPECIAL-USE)", '""', "*", "RETURN", "(SPECIAL-USE)")
out["bad"] = raw(m, "LIST", "(RECURSIVEMATCH)", '""', "*")[0]
out["unknown"] = raw(m, "LIST", '""', "*", "RETURN", "(FOO)")[0]
out["basic"] = raw(m, "LIST", '""', "Projets")
m.logout()
print(json.dumps(out), flush=True)
"#;

/// The answer to a LIST of subscribed names: the five folders every mailbox starts with
/// (subscribed at creation), `middle`, then the subscribed name that does not exist.
fn subscribed_with(middle: &str) -> Value {
    let mut lines: Vec<String> = ["INBOX", "Sent", "Drafts", "Trash", "Archive"]
        .iter()
        .map(|name| {
            let special = match *name {
                "INBOX" => String::new(),
                other => format!(" \\{other}"),
            };
            format!("LIST (\\HasNoChildren \\Subscribed{special}) \"/\" {name}")
        })
        .collect();
    lines.push(middle.to_owned());
    lines.push("LIST (\\NonExistent \\Subscribed) \"/\" Disparu".to_owned());
    json!(["OK", lines])
}

#[test]
fn python_imaplib_lists_with_extended_options_and_status() {
    let out = as_martin(LIST_SCRIPT);
    assert_eq!(
        out["caps"],
        json!(["SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS"])
    );
    let expected = [
        (
            "status",
            json!([
                "OK",
                [
                    "LIST (\\HasChildren) \"/\" Projets/2026",
                    "STATUS Projets/2026 (MESSAGES 2 UNSEEN 1)"
                ]
            ]),
        ),
        (
            "subscribed",
            subscribed_with("LIST (\\HasNoChildren \\Subscribed) \"/\" Projets/2026/T4"),
        ),
        (
            "recursive",
            subscribed_with("LIST (\\HasChildren) \"/\" Projets (\"CHILDINFO\" (\"SUBSCRIBED\"))"),
        ),
        (
            "patterns",
            json!([
                "OK",
                [
                    "LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX",
                    "LIST (\\HasNoChildren \\Subscribed \\Sent) \"/\" Sent"
                ]
            ]),
        ),
        (
            "both",
            json!([
                "OK",
                ["LIST (\\HasNoChildren \\Subscribed) \"/\" Projets/2026/T4"]
            ]),
        ),
        (
            "basic",
            json!(["OK", ["LIST (\\HasChildren) \"/\" Projets"]]),
        ),
    ];
    for (key, value) in expected {
        assert_eq!(out[key], value, "{key}: {out}");
    }
    let special = out["special"][1].as_array().unwrap();
    assert_eq!(special.len(), 4, "Sent, Drafts, Trash, Archive: {out}");
    assert!(
        special
            .iter()
            .all(|l| ["\\Sent", "\\Drafts", "\\Trash", "\\Archive"]
                .iter()
                .any(|u| l.as_str().unwrap().contains(u))),
        "{out}"
    );
    assert_eq!(out["bad"], "BAD", "{out}");
    assert_eq!(out["unknown"], "BAD", "{out}");
}

const MULTIAPPEND_SCRIPT: &str = r#"
m = connect(sys.argv[3], sys.argv[4])
out = {"caps": "MULTIAPPEND" in m.capability()[1][0].decode().split()}
m.select("INBOX")
out["three"] = multiappend(m, "INBOX", [message("un"), message("deux"), message("trois")])
out["exists"] = m.select("INBOX")[1][0].decode()
out["fetch"] = [d[1].decode().split("\r\n")[0] for d in m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1] if isinstance(d, tuple)]
# Each message fits the 64 KiB quota alone, not the three together: nothing is stored.
out["over_quota"] = multiappend(m, "INBOX", [message("a", 30000), message("b", 30000), message("c", 30000)])
out["after_quota"] = m.select("INBOX")[1][0].decode()
out["missing"] = multiappend(m, "Absent", [message("a"), message("b")])
# The first message refused by the parser (a quoted flag), LITERAL+ so nothing waits: one BAD,
# and the messages after it are not stored anywhere (not in INBOX either).
tag = m._new_tag().decode()
m.send(("%s APPEND Drafts (\\Seen \"x\") {6+}\r\nx: 1\r\n (\\Seen) {6+}\r\nx: 2\r\n"
        " {6+}\r\nx: 3\r\n\r\n" % tag).encode())
tag2 = m._new_tag().decode()
m.send(("%s NOOP\r\n" % tag2).encode())
answers = []
while True:
    line = m.readline().decode().strip()
    if line.startswith(tag + " ") or line.startswith(tag2 + " "):
        answers.append(line.split(" ", 2)[:2])
    if line.startswith(tag2 + " "):
        break
out["refused_first"] = answers
out["after_refused"] = [m.status("Drafts", "(MESSAGES)")[1][0].decode(), m.select("INBOX")[1][0].decode()]
out["noop"] = m.noop()[0]
m.logout()
print(json.dumps(out), flush=True)
"#;

#[test]
fn python_multiappend_is_atomic_even_on_quota() {
    let world = world(BIN);
    let small = format!("petit@{A}");
    world.add_org_mailbox(&small, Some("64K"));
    let out = world.imaplib(
        &format!("{HELPERS}{MULTIAPPEND_SCRIPT}"),
        &[&small, PASSWORD],
    );
    assert_eq!(out["caps"], true, "{out}");
    let three = out["three"].as_str().unwrap();
    assert!(three.starts_with("OK [APPENDUID "), "{out}");
    assert!(three.contains(" 1:3]"), "one UID set for the three: {out}");
    assert_eq!(out["exists"], "3", "{out}");
    assert_eq!(
        out["fetch"],
        json!(["Subject: un", "Subject: deux", "Subject: trois"])
    );
    assert!(
        out["over_quota"]
            .as_str()
            .unwrap()
            .starts_with("NO [OVERQUOTA]"),
        "{out}"
    );
    assert_eq!(
        out["after_quota"], "3",
        "nothing of the refused batch: {out}"
    );
    assert!(
        out["missing"]
            .as_str()
            .unwrap()
            .starts_with("NO [TRYCREATE]"),
        "{out}"
    );
    assert_eq!(out["noop"], "OK", "the session goes on: {out}");
    let refused = out["refused_first"].as_array().unwrap();
    assert_eq!(
        refused.len(),
        2,
        "one answer for the APPEND, one for NOOP: {out}"
    );
    assert_eq!(refused[0][1], "BAD", "{out}");
    assert_eq!(refused[1][1], "OK", "{out}");
    assert_eq!(
        out["after_refused"],
        json!(["Drafts (MESSAGES 0)", "3"]),
        "{out}"
    );
}

const ESORT_SEARCHRES_SCRIPT: &str = r#"
m = connect(sys.argv[3], sys.argv[4])
caps = m.capability()[1][0].decode().split()
out = {"caps": [c for c in caps if c in ("ESORT", "SEARCHRES")]}
m.create("Tri")
for subject, date in [("Bravo", "02-Dec-2026 10:00:00 +0000"), ("Alpha", "03-Dec-2026 10:00:00 +0000"),
                      ("Charlie", "01-Dec-2026 10:00:00 +0000"), ("Alpha 2", "04-Dec-2026 10:00:00 +0000")]:
    m.append("Tri", None, '"%s"' % date, message(subject))
m.select("Tri")
imaplib.Commands.update({"SORT": ("SELECTED",), "SEARCH": ("SELECTED",)})
# FETCH MODSEQ turns CONDSTORE on: the selected folder's HIGHESTMODSEQ comes at once.
m.untagged_responses.pop("OK", None)
m.fetch("1", "(MODSEQ)")
out["condstore_on"] = [d.decode() for d in m.untagged_responses.pop("OK", []) if b"HIGHESTMODSEQ" in d]
out["search_modseq"] = raw(m, "SEARCH", "MODSEQ", "1")
out["esearch_modseq"] = raw(m, "SEARCH", "RETURN", "(MIN)", "MODSEQ", "1")
out["esort"] = raw(m, "SORT", "RETURN", "(MIN MAX COUNT ALL)", "(SUBJECT)", "UTF-8", "ALL")
out["esort_uid"] = raw(m, "UID", "SORT", "RETURN", "(ALL)", "(ARRIVAL)", "UTF-8", "NOT", "SUBJECT", "Bravo")
out["save"] = raw(m, "SEARCH", "RETURN", "(SAVE)", "SUBJECT", "Alpha")
out["fetch_saved"] = [d[1].decode().split("\r\n")[0] for d in m.fetch("$", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[1] if isinstance(d, tuple)]
out["search_saved"] = raw(m, "SEARCH", "NOT", "$")
out["uid_saved"] = raw(m, "UID", "SEARCH", "UID", "$")
out["store_saved"] = m.store("$", "+FLAGS", "(\\Flagged)")[0]
out["flagged"] = m.search(None, "FLAGGED")[1][0].decode()
out["save_min"] = raw(m, "SEARCH", "RETURN", "(SAVE MIN)", "ALL")
out["min_saved"] = m.search(None, "$")[1][0].decode()
out["save_none"] = raw(m, "SEARCH", "RETURN", "(SAVE)", "SUBJECT", "absent")
out["fetch_empty"] = m.fetch("$", "(FLAGS)")[0]
out["keyword"] = m.store("1", "+FLAGS", "($Forwarded)")[0]
out["save_again"] = raw(m, "SEARCH", "RETURN", "(SAVE)", "SUBJECT", "Alpha")
# 4294967295 sent by the client is a UID, not $; a folder named $ is a folder.
out["uid_max"] = raw(m, "UID", "FETCH", "4294967295", "(FLAGS)")
out["copy_to_dollar"] = raw(m, "COPY", "1", "$")
out["create_dollar"] = m.create("$")[0]
out["copy_into_dollar"] = raw(m, "UID", "COPY", "$", "$")
out["dollar_folder"] = m.status("$", "(MESSAGES)")[1][0].decode()
out["keyword_dollar"] = m.store("1", "+FLAGS", "($)")[0]
m.logout()
print(json.dumps(out), flush=True)
"#;

#[test]
fn python_esort_and_searchres() {
    let out = as_martin(ESORT_SEARCHRES_SCRIPT);
    assert_eq!(out["caps"], json!(["ESORT", "SEARCHRES"]));
    assert_eq!(out["condstore_on"].as_array().unwrap().len(), 1, "{out}");
    let search = out["search_modseq"][1][0].as_str().unwrap();
    assert!(search.starts_with("SEARCH 1 2 3 4 (MODSEQ "), "{out}");
    let esearch = out["esearch_modseq"][1][0].as_str().unwrap();
    assert!(esearch.contains(") MIN 1 MODSEQ "), "{out}");
    let tail = |key: &str| -> String {
        assert_eq!(out[key][0], "OK", "{key}: {out}");
        out[key][1]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let l = l.as_str().unwrap();
                l.split_once(") ").map_or(l, |(_, rest)| rest).to_owned()
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    // Subjects: Alpha (2) < Alpha 2 (4) < Bravo (1) < Charlie (3); MIN and MAX are the first
    // and last of the sort, ALL keeps its order.
    assert_eq!(tail("esort"), "MIN 2 MAX 3 COUNT 4 ALL 2,4,1,3");
    assert_eq!(tail("esort_uid"), "UID ALL 3,2,4");
    assert_eq!(out["save"], json!(["OK", []]), "SAVE alone answers nothing");
    assert_eq!(
        out["fetch_saved"],
        json!(["Subject: Alpha", "Subject: Alpha 2"])
    );
    assert_eq!(out["search_saved"], json!(["OK", ["SEARCH 1 3"]]));
    assert_eq!(out["uid_saved"], json!(["OK", ["SEARCH 2 4"]]));
    assert_eq!(out["store_saved"], "OK");
    assert_eq!(out["flagged"], "2 4");
    assert_eq!(out["min_saved"], "1");
    assert_eq!(out["fetch_empty"], "OK", "an empty $ is no error: {out}");
    assert_eq!(
        out["keyword"], "OK",
        "$Forwarded is a keyword, not $: {out}"
    );
    assert_eq!(out["uid_max"], json!(["OK", []]), "{out}");
    assert_eq!(
        out["copy_to_dollar"][0], "NO",
        "no folder named $ yet: {out}"
    );
    assert_eq!(out["create_dollar"], "OK");
    assert_eq!(out["copy_into_dollar"][0], "OK", "{out}");
    assert!(
        out["dollar_folder"]
            .as_str()
            .unwrap()
            .ends_with("(MESSAGES 2)"),
        "the two saved messages copied into the folder $: {out}"
    );
    assert_eq!(out["keyword_dollar"], "OK", "{out}");
}

const REV2_SCRIPT: &str = r#"
out = {}
old = connect(sys.argv[3], sys.argv[4])
old.append("INBOX", None, None, message("premier"))
m = connect(sys.argv[3], sys.argv[4])
out["caps"] = "IMAP4rev2" in m.capability()[1][0].decode().split()
out["enable"] = raw(m, "ENABLE", "IMAP4rev2")
m._encoding = "utf-8"
out["create"] = m.create('"Santé/Résultats"')[0]
out["list"] = raw(m, "LIST", '""', '"Sant*"')
out["status"] = raw(m, "STATUS", '"Santé/Résultats"', "(MESSAGES SIZE DELETED)")
m.append('"Santé/Résultats"', None, None, message("NFS"))
out["status_after"] = raw(m, "STATUS", '"Santé/Résultats"', "(MESSAGES SIZE DELETED)")
m.select("INBOX")
out["select_recent"] = "RECENT" in m.untagged_responses
out["select_list"] = [d.decode() for d in m.untagged_responses.pop("LIST", [])]
out["flags"] = m.fetch("1", "(FLAGS)")[1][0].decode()
out["search"] = raw(m, "SEARCH", "ALL")
out["uid_search"] = raw(m, "UID", "SEARCH", "ALL")
m.store("1", "+FLAGS", "(\\Deleted)")
out["deleted"] = raw(m, "STATUS", "INBOX", "(DELETED)")
typ, dat = m._simple_command("SELECT", '"Santé/Résultats"')
out["closed"] = [d.decode() for d in m.untagged_responses.pop("OK", []) if b"CLOSED" in d]
# An IMAP4rev1 session sees the same folder in modified UTF-7.
out["rev1_list"] = raw(old, "LIST", '""', '"Sant*"')
old.select("INBOX")
out["rev1_recent"] = "RECENT" in old.untagged_responses
m.logout()
old.logout()
print(json.dumps(out), flush=True)
"#;

#[test]
fn python_imap4rev2_once_enabled() {
    let out = as_martin(REV2_SCRIPT);
    assert_eq!(out["caps"], true, "{out}");
    assert_eq!(out["enable"], json!(["OK", ["ENABLED IMAP4rev2"]]), "{out}");
    assert_eq!(out["create"], "OK", "{out}");
    assert_eq!(
        out["list"],
        json!([
            "OK",
            [
                "LIST (\\HasChildren) \"/\" \"Santé\"",
                "LIST (\\HasNoChildren) \"/\" \"Santé/Résultats\""
            ]
        ]),
        "{out}"
    );
    assert_eq!(
        out["status"],
        json!([
            "OK",
            ["STATUS \"Santé/Résultats\" (MESSAGES 0 SIZE 0 DELETED 0)"]
        ]),
        "{out}"
    );
    assert_eq!(
        out["status_after"],
        json!([
            "OK",
            ["STATUS \"Santé/Résultats\" (MESSAGES 1 SIZE 36 DELETED 0)"]
        ]),
        "{out}"
    );
    assert_eq!(out["select_recent"], false, "no RECENT in IMAP4rev2: {out}");
    assert_eq!(out["select_list"], json!(["(\\HasNoChildren) \"/\" INBOX"]));
    assert!(!out["flags"].as_str().unwrap().contains("Recent"), "{out}");
    let esearch = out["search"][1][0].as_str().unwrap();
    assert!(
        esearch.starts_with("ESEARCH (TAG \"") && esearch.ends_with(") ALL 1"),
        "{out}"
    );
    let uid = out["uid_search"][1][0].as_str().unwrap();
    assert!(uid.ends_with(") UID ALL 1"), "{out}");
    assert_eq!(out["deleted"], json!(["OK", ["STATUS INBOX (DELETED 1)"]]));
    assert_eq!(out["closed"].as_array().unwrap().len(), 1, "{out}");
    assert_eq!(
        out["rev1_list"],
        json!([
            "OK",
            [
                "LIST (\\HasChildren) \"/\" Sant&AOk-",
                "LIST (\\HasNoChildren) \"/\" Sant&AOk-/R&AOk-sultats"
            ]
        ]),
        "{out}"
    );
    assert_eq!(out["rev1_recent"], true, "{out}");
}
