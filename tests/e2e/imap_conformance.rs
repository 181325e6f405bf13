//! End-to-end with Python's `imaplib` against the real `mssd`: what RFC 3501 requires of an
//! `IMAP4rev1` server and independent clients rely on — keywords listed in FLAGS (and a new
//! FLAGS when one appears), `\Recent` for the first session only, the LSUB parent of a
//! subscribed child, SEARCH FROM on the address as parsed, and BINARY advertised.

use mssd_e2e::python::run_python;
use mssd_e2e::submission::stored_id;
use mssd_e2e::submission_world::{ORG_PASSWORD, PASSWORD, World, martin, secretariat, world};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

const SCRIPT: &str = r#"
import imaplib, json, ssl, sys
root, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=root)
ctx.check_hostname = False
out = {}
def session():
    m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
    m.starttls(ssl_context=ctx)
    m.login(user, password)
    return m
first = session()
out["capabilities"] = list(first.capabilities)
typ, data = first.select("INBOX")
out["first_recent"] = first.response("RECENT")[1]
out["first_flags"] = first.response("FLAGS")[1]
typ, data = first.fetch("1:*", "(UID FLAGS)")
out["first_fetch"] = [d.decode() for d in data]
out["search_recent"] = first.search(None, "RECENT")[1][0].decode()
out["search_new"] = first.search(None, "NEW")[1][0].decode()
out["search_old"] = first.search(None, "OLD")[1][0].decode()
# A keyword new to the folder: FLAGS is sent again with it, before the FETCH.
typ, data = first.store("1", "+FLAGS", "($Urgent)")
out["store_flags"] = first.response("FLAGS")[1]
out["store_permanent"] = [d.decode() for d in (first.response("OK")[1] or []) if d]
second = session()
second.select("INBOX")
out["second_recent"] = second.response("RECENT")[1]
out["second_flags"] = second.response("FLAGS")[1]
out["second_search_recent"] = second.search(None, "RECENT")[1][0].decode()
out["second_fetch"] = [d.decode() for d in second.fetch("1:*", "(FLAGS)")[1]]
out["status_recent"] = second.status("INBOX", "(RECENT)")[1][0].decode()
# SEARCH FROM on the address as parsed (the message's From: has comments inside).
out["search_from"] = second.search(None, "FROM", "user-from@domain.org")[1][0].decode()
# LSUB: only a/b/c is subscribed.
second.create("a/b/c")
second.subscribe("a/b/c")
out["lsub_parent"] = [d.decode() for d in second.lsub("\"\"", "a/%")[1] if d]
out["lsub_child"] = [d.decode() for d in second.lsub("\"\"", "a/b/%")[1] if d]
first.logout()
second.logout()
print(json.dumps(out, default=lambda b: b.decode() if isinstance(b, bytes) else str(b)))
"#;

fn deliver(world: &World, messages: &[String]) {
    let mut smtp = world.logged_in(&secretariat(), ORG_PASSWORD);
    for message in messages {
        stored_id(&smtp.send_message(&secretariat(), &[&martin()], message.as_bytes()));
    }
}

#[test]
fn python_imaplib_sees_keywords_recent_lsub_parents_and_parsed_addresses() {
    let world = world(BIN);
    let grant = world.op.cli(
        &[
            "mailbox",
            "grant",
            &martin(),
            "--to",
            &secretariat(),
            "--rights",
            "send",
        ],
        None,
    );
    assert!(grant.status.success(), "{}", grant.stderr);
    let plain = format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: one\r\n\r\none\r\n",
        secretariat(),
        martin()
    );
    deliver(&world, &[plain.clone(), plain]);
    // A keyword already set on a message before anyone selects: FLAGS must list it.
    let append = format!(
        r#"
import imaplib, ssl
ctx = ssl.create_default_context(cafile="{root}")
ctx.check_hostname = False
m = imaplib.IMAP4("127.0.0.1", {port}, timeout=30)
m.starttls(ssl_context=ctx)
m.login("{user}", "{password}")
m.append("INBOX", "($Label1)", None, b"From: Dr X <user-from (comment)@ (comment) domain.org>\r\nSubject: three\r\n\r\nthree\r\n")
m.logout()
"#,
        root = world.op.pki("root.pem").display(),
        port = world.server.addr("imap").port(),
        user = martin(),
        password = PASSWORD,
    );
    run_python(&append, &[]);

    let root = world.op.pki("root.pem");
    let port = world.server.addr("imap").port().to_string();
    let user = martin();
    let printed = run_python(SCRIPT, &[root.to_str().unwrap(), &port, &user, PASSWORD]);
    let out: Value = serde_json::from_str(&printed).unwrap();
    let text = |key: &str| out[key].to_string();

    assert!(
        text("capabilities").contains("BINARY"),
        "{}",
        text("capabilities")
    );
    // The first session to select gets the three messages as \Recent, the second none.
    assert_eq!(out["first_recent"], serde_json::json!(["3"]));
    assert!(
        text("first_fetch").contains("\\\\Recent"),
        "{}",
        text("first_fetch")
    );
    assert_eq!(out["search_recent"], "1 2 3");
    assert_eq!(out["search_new"], "1 2 3");
    assert_eq!(out["search_old"], "");
    assert_eq!(out["second_recent"], serde_json::json!(["0"]));
    assert_eq!(out["second_search_recent"], "");
    assert!(
        !text("second_fetch").contains("Recent"),
        "{}",
        text("second_fetch")
    );
    assert!(
        text("status_recent").contains("(RECENT 0)"),
        "{}",
        text("status_recent")
    );
    // Keywords in FLAGS: the one set before selecting, and the new one announced on STORE.
    assert!(
        text("first_flags").contains("$Label1"),
        "{}",
        text("first_flags")
    );
    assert!(
        text("store_flags").contains("$Urgent"),
        "{}",
        text("store_flags")
    );
    assert!(
        text("store_permanent").contains("$Urgent"),
        "{}",
        text("store_permanent")
    );
    assert!(
        text("second_flags").contains("$Urgent"),
        "{}",
        text("second_flags")
    );
    // SEARCH FROM matches the parsed address.
    assert_eq!(out["search_from"], "3");
    // LSUB: the parent at the pattern's level, \Noselect.
    let parent = text("lsub_parent");
    assert!(
        parent.contains("\\\\Noselect") && parent.ends_with("a/b\"]"),
        "{parent}"
    );
    let child = text("lsub_child");
    assert!(
        child.contains("a/b/c") && !child.contains("Noselect"),
        "{child}"
    );
}
