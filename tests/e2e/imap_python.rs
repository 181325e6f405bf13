//! End-to-end: Python's standard `imaplib` (an independent IMAP client) against the real
//! `mssd` on 143 with STARTTLS — reading, flagging, searching, moving, expunging, a large
//! APPEND read back, and IDLE seeing a message the test delivers by SMTP while the script
//! waits; then COMPRESS=DEFLATE, taught to imaplib with the standard zlib.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use mssd_e2e::submission::stored_id;
use mssd_e2e::submission_world::{A, ORG_PASSWORD, PASSWORD, World, martin, secretariat, world};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

/// Reads, flags, searches, moves and expunges, then IDLEs: prints "IDLING" when the server
/// has accepted IDLE, and the JSON of everything it saw as its last line.
const SCRIPT: &str = r#"
import imaplib, json, ssl, sys
root, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=root)
ctx.check_hostname = False
out = {}
m = imaplib.IMAP4("127.0.0.1", port, timeout=30)
out["greeting_logindisabled"] = "LOGINDISABLED" in m.capabilities
m.starttls(ssl_context=ctx)
out["login"] = m.login(user, password)[0]
typ, data = m.select("INBOX")
out["select"] = [typ, data[0].decode()]
typ, data = m.fetch("1:2", "(ENVELOPE BODYSTRUCTURE BODY[1])")
out["fetch_status"] = typ
out["fetch"] = [[x.decode("latin-1") for x in item] if isinstance(item, tuple) else item.decode("latin-1") for item in data]
out["store"] = m.store("2", "+FLAGS", "(\\Flagged)")[0]
out["search_flagged"] = m.search(None, "FLAGGED")[1][0].decode()
out["search_subject"] = m.search(None, "SUBJECT", '"Second"')[1][0].decode()
typ, data = m.uid("MOVE", "1", "Archive")
out["move"] = typ
out["move_expunge"] = [d.decode() for d in m.response("EXPUNGE")[1] if d]
out["archive_status"] = m.status("Archive", "(MESSAGES)")[1][0].decode()
m.store("1", "+FLAGS", "(\\Deleted)")
typ, data = m.expunge()
out["expunge"] = [typ, [d.decode() for d in data if d]]
# A 320 KB APPEND (synchronizing literal), which the server streams to a file, read back.
big = b"From: <big@example.test>\r\nSubject: big\r\n\r\n" + (b"0123456789abcdef" * 64 + b"\r\n") * 300
typ, data = m.append("Archive", "(\\Seen)", None, big)
out["append_big"] = typ
uid = data[0].decode().split("]")[0].split()[-1]
m.select("Archive")
typ, data = m.uid("FETCH", uid, "(BODY.PEEK[])")
out["append_big_intact"] = data[0][1] == big
m.select("INBOX")
tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
out["idle_start"] = m.readline().decode().strip()
print("IDLING", flush=True)
while True:
    line = m.readline().decode().strip()
    if line.endswith("EXISTS") or not line:
        out["idle_event"] = line
        break
m.send(b"DONE\r\n")
while True:
    # Untagged updates (the RECENT that follows EXISTS) may come before the completion.
    line = m.readline().decode().strip()
    if line.startswith(tag.decode()) or not line:
        out["idle_done"] = line
        break
out["idle_tag"] = tag.decode()
m.logout()
print(json.dumps(out), flush=True)
"#;

fn text_message(subject: &str) -> String {
    format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: {subject}\r\n\r\nCorps de {subject}.\r\n",
        secretariat(),
        martin()
    )
}

fn deliver(world: &World, subjects: &[&str]) {
    let mut smtp = world.logged_in(&secretariat(), ORG_PASSWORD);
    for subject in subjects {
        let message = text_message(subject);
        stored_id(&smtp.send_message(&secretariat(), &[&martin()], message.as_bytes()));
    }
}

/// Every string inside `value`, joined by newlines.
fn strings(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(strings).collect::<Vec<_>>().join("\n"),
        other => other.to_string(),
    }
}

#[test]
fn python_imaplib_reads_files_and_idles() {
    let world = world(BIN);
    deliver(&world, &["Premier", "Second"]);
    let mut child = Command::new("python3")
        .arg("-")
        .arg(world.op.pki("root.pem"))
        .arg(world.server.addr("imap").port().to_string())
        .args([martin().as_str(), PASSWORD])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), SCRIPT.as_bytes()).unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line from python").unwrap();
    assert_eq!(first, "IDLING", "the script failed before IDLE");
    deliver(&world, &["Troisieme"]);
    let json = lines.next().expect("the JSON line").unwrap();
    assert!(
        child.wait().unwrap().success(),
        "python failed; printed {json}"
    );
    let out: Value = serde_json::from_str(&json).unwrap();

    assert_eq!(out["greeting_logindisabled"], true);
    assert_eq!(out["login"], "OK");
    assert_eq!(out["append_big"], "OK");
    assert_eq!(
        out["append_big_intact"], true,
        "the large APPEND read back differs"
    );
    assert_eq!(out["select"], serde_json::json!(["OK", "2"]));
    assert_eq!(out["fetch_status"], "OK");
    let fetched = strings(&out["fetch"]);
    for expected in [
        "\"Premier\"",
        "\"Second\"",
        "hopital-a.test.mssante.fr",
        "PLAIN",
    ] {
        assert!(
            fetched.to_uppercase().contains(&expected.to_uppercase()),
            "{expected} in {fetched}"
        );
    }
    assert!(
        fetched.contains("Corps de Premier.\r\n"),
        "BODY[1] in {fetched}"
    );
    assert!(
        fetched.contains(&format!("\"secretariat\" \"{A}\"")),
        "{fetched}"
    );
    assert_eq!(out["store"], "OK");
    assert_eq!(out["search_flagged"], "2");
    assert_eq!(out["search_subject"], "2");
    assert_eq!(out["move"], "OK");
    let archive = out["archive_status"].as_str().unwrap();
    assert!(archive.ends_with(" (MESSAGES 1)"), "{archive}");
    assert_eq!(out["move_expunge"], serde_json::json!(["1"]));
    assert_eq!(out["expunge"], serde_json::json!(["OK", ["1"]]));
    assert!(
        out["idle_start"].as_str().unwrap().starts_with('+'),
        "{out}"
    );
    assert_eq!(out["idle_event"], "* 1 EXISTS");
    let done = format!("{} OK", out["idle_tag"].as_str().unwrap());
    assert!(
        out["idle_done"].as_str().unwrap().starts_with(&done),
        "{out}"
    );
}

/// Runs the script against the world's server (see `World::imaplib`).
fn run_script(world: &World, script: &str, args: &[&str]) -> Value {
    world.imaplib(script, args)
}

/// imaplib taught COMPRESS=DEFLATE (RFC 4978) with the standard zlib, raw DEFLATE both ways:
/// the capability after login, a full FETCH read back the same compressed as in clear, the
/// bytes on the wire, and a second COMPRESS refused.
const COMPRESS_SCRIPT: &str = r#"
user, password = sys.argv[3], sys.argv[4]
imaplib.Commands["COMPRESS"] = ("AUTH", "SELECTED")

class Compressing(imaplib.IMAP4):
    z = None
    wire_in = 0
    def compress(self):
        typ, data = self._simple_command("COMPRESS", "DEFLATE")
        if typ == "OK":
            self.z = (zlib.compressobj(6, zlib.DEFLATED, -15), zlib.decompressobj(-15))
            self.zbuf = b""
        return typ, data
    def send(self, data):
        if self.z:
            data = self.z[0].compress(data) + self.z[0].flush(zlib.Z_SYNC_FLUSH)
        super().send(data)
    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise imaplib.IMAP4.abort("closed")
        self.wire_in += len(chunk)
        self.zbuf += self.z[1].decompress(chunk)
    def read(self, size):
        if not self.z:
            return super().read(size)
        while len(self.zbuf) < size:
            self.fill()
        out, self.zbuf = self.zbuf[:size], self.zbuf[size:]
        return out
    def readline(self):
        if not self.z:
            return super().readline()
        while b"\n" not in self.zbuf:
            self.fill()
        i = self.zbuf.index(b"\n") + 1
        out, self.zbuf = self.zbuf[:i], self.zbuf[i:]
        return out

m = Compressing("127.0.0.1", port, timeout=30)
m.starttls(ssl_context=ctx)
out = {"before_login": "COMPRESS=DEFLATE" in m.capabilities}
m.login(user, password)
out["after_login"] = "COMPRESS=DEFLATE" in m.capability()[1][0].decode()
m.select("INBOX")
# Without FLAGS: \\Recent goes with the first SELECT.
typ, clear = m.fetch("1:*", "(ENVELOPE BODY.PEEK[])")
out["compress"] = m.compress()[0]
m.select("INBOX")
start = m.wire_in
typ, compressed = m.fetch("1:*", "(ENVELOPE BODY.PEEK[])")
out["fetch"] = typ
out["wire_bytes"] = m.wire_in - start
out["plain_bytes"] = sum(len(p) for item in compressed for p in (item if isinstance(item, tuple) else (item,)))
out["same"] = compressed == clear
out["messages"] = len([item for item in compressed if isinstance(item, tuple)])
typ, data = m.compress()
out["again"] = typ + " " + data[0].decode()
out["noop"] = m.noop()[0]
m.logout()
print(json.dumps(out), flush=True)
"#;

#[test]
fn python_imaplib_compresses_with_deflate() {
    let world = world(BIN);
    let subjects: Vec<String> = (0..40).map(|i| format!("Compte rendu {i}")).collect();
    deliver(
        &world,
        &subjects.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let out = run_script(&world, COMPRESS_SCRIPT, &[&martin(), PASSWORD]);
    assert_eq!(out["before_login"], false, "{out}");
    assert_eq!(out["after_login"], true, "{out}");
    assert_eq!(out["compress"], "OK", "{out}");
    assert_eq!(out["fetch"], "OK", "{out}");
    assert_eq!(out["messages"], 40, "{out}");
    assert_eq!(
        out["same"], true,
        "the FETCH read compressed differs: {out}"
    );
    let (wire, plain) = (
        out["wire_bytes"].as_u64().unwrap(),
        out["plain_bytes"].as_u64().unwrap(),
    );
    eprintln!("FETCH 1:* of 40 messages: {plain} bytes, {wire} on the wire");
    assert!(
        wire * 3 < plain,
        "compression saves little: {wire} of {plain}"
    );
    assert!(
        out["again"].as_str().unwrap().contains("COMPRESSIONACTIVE"),
        "{out}"
    );
    assert_eq!(out["noop"], "OK", "{out}");
}

/// SORT (RFC 5256, SORT=DISPLAY of RFC 5957) through imaplib's own `sort`, on four messages
/// APPENDed with chosen fields and internal dates: every key, REVERSE, ties, search criteria,
/// UID SORT and an unsupported charset; then ESEARCH (RFC 4731) on the same messages.
const SORT_SCRIPT: &str = r#"
m = connect(sys.argv[3], sys.argv[4])
caps = m.capability()[1][0].decode().split()
out = {"caps": [c for c in caps if c.startswith("SORT")]}
m.create("Tri")
messages = [
    ('"Zo=?utf-8?q?=C3=A9?= Alpha" <zalpha@x.test>', "bob@y.test", "carol@z.test",
     "Re: Compte rendu", "Mon, 30 Nov 2026 10:00:00 +0000", 1000, (2026, 12, 1, 10)),
    ("beta@x.test", '"Anne" <anne@y.test>', None,
     "[mssante] Analyse", "Sun, 29 Nov 2026 10:00:00 +0000", 3000, (2026, 12, 1, 9)),
    ('"Ali" <yann@x.test>', "zed@y.test", "alice@z.test",
     "Fwd: analyse (fwd)", None, 10, (2026, 11, 28, 10)),
    ('"Bea" <alpha@x.test>', "mike@y.test", None,
     "bilan", "Tue, 01 Dec 2026 12:00:00 +0200", 6000, (2026, 11, 30, 8)),
]
for sender, to, cc, subject, date, size, arrival in messages:
    head = "From: %s\r\nTo: %s\r\n" % (sender, to)
    if cc:
        head += "Cc: %s\r\n" % cc
    if date:
        head += "Date: %s\r\n" % date
    head += "Subject: %s\r\n\r\n" % subject
    when = imaplib.Time2Internaldate(datetime(*arrival, tzinfo=timezone.utc))
    m.append("Tri", None, when, (head + "x" * size + "\r\n").encode())
m.select("Tri")
for key in ["SUBJECT", "REVERSE SUBJECT", "DATE", "ARRIVAL", "FROM", "DISPLAYFROM", "TO",
            "DISPLAYTO", "CC", "SIZE", "REVERSE SIZE", "SUBJECT DATE"]:
    typ, data = m.sort("(%s)" % key, "UTF-8", "ALL")
    out[key] = [typ, data[0].decode()]
typ, data = m.sort("(DATE)", "UTF-8", "SUBJECT", "analyse")
out["search"] = [typ, data[0].decode()]
typ, data = m.uid("SORT", "(REVERSE DATE)", "UTF-8", "ALL")
out["uid"] = [typ, data[0].decode()]
typ, data = m.sort("(DATE)", "KOI8-R", "ALL")
out["charset"] = [typ, data[0].decode()]
# ESEARCH (RFC 4731): imaplib has no helper; the untagged ESEARCH is read back.
def esearch(*args):
    typ, dat = m._simple_command(*args)
    typ, dat = m._untagged_response(typ, dat, "ESEARCH")
    return [typ, dat[0].decode() if dat and dat[0] else None]
imaplib.Commands["ESEARCH"] = ("SELECTED",)
out["esearch"] = esearch("SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "SUBJECT", "analyse")
out["esearch_uid"] = esearch("UID", "SEARCH", "RETURN", "()", "ALL")
out["esearch_none"] = esearch("SEARCH", "RETURN", "(MIN COUNT)", "SUBJECT", "nothing")
out["plain_search"] = m.search(None, "SUBJECT", "bilan")[1][0].decode()
m.logout()
print(json.dumps(out), flush=True)
"#;

#[test]
fn python_imaplib_sorts() {
    let world = world(BIN);
    let out = run_script(&world, SORT_SCRIPT, &[&martin(), PASSWORD]);
    assert_eq!(out["caps"], serde_json::json!(["SORT", "SORT=DISPLAY"]));
    // Base subjects ANALYSE (2, 3: a tie, in sequence order), BILAN (4), COMPTE RENDU (1);
    // sent dates 3 (none: its internal date) < 2 < 1 < 4 (12:00 +0200 is 10:00 UTC); local
    // parts of From alpha (4) < beta (2) < yann (3) < zalpha (1); display names ALI (3) < BEA
    // (4) < beta@x.test (2) < ZOÉ ALPHA (1); no Cc (2, 4) sorts first.
    let expected = [
        ("SUBJECT", "2 3 4 1"),
        ("REVERSE SUBJECT", "1 4 2 3"),
        ("DATE", "3 2 1 4"),
        ("ARRIVAL", "3 4 2 1"),
        ("FROM", "4 2 3 1"),
        ("DISPLAYFROM", "3 4 2 1"),
        ("TO", "2 1 4 3"),
        ("DISPLAYTO", "2 1 4 3"),
        ("CC", "2 4 3 1"),
        ("SIZE", "3 1 2 4"),
        ("REVERSE SIZE", "4 2 1 3"),
        ("SUBJECT DATE", "3 2 4 1"),
        ("search", "3 2"),
        ("uid", "4 1 2 3"),
    ];
    for (key, order) in expected {
        assert_eq!(
            out[key],
            serde_json::json!(["OK", order]),
            "SORT ({key}): {out}"
        );
    }
    // ESEARCH answers, after the (TAG "…") correlator.
    let esearch = |key: &str| {
        assert_eq!(out[key][0], "OK", "{key}: {out}");
        let line = out[key][1].as_str().unwrap_or_default().to_owned();
        assert!(line.starts_with("(TAG \""), "{key}: {line}");
        line.split_once(") ")
            .map_or(String::new(), |(_, rest)| rest.to_owned())
    };
    assert_eq!(esearch("esearch"), "MIN 2 MAX 3 COUNT 2 ALL 2:3");
    assert_eq!(esearch("esearch_uid"), "UID ALL 1:4");
    assert_eq!(esearch("esearch_none"), "COUNT 0");
    assert_eq!(
        out["plain_search"], "4",
        "a SEARCH without RETURN is answered as before"
    );
    assert_eq!(out["charset"][0], "NO", "{out}");
    assert!(
        out["charset"][1].as_str().unwrap().contains("BADCHARSET"),
        "{out}"
    );
}

/// THREAD (RFC 5256) through imaplib's own `thread`: a conversation with a missing message,
/// a reply found only by its subject, and an unrelated message; both algorithms, UID THREAD,
/// search criteria and an unknown algorithm.
const THREAD_SCRIPT: &str = r#"
m = connect(sys.argv[3], sys.argv[4])
caps = m.capability()[1][0].decode().split()
out = {"caps": [c for c in caps if c.startswith("THREAD")]}
m.create("Fils")
messages = [
    ("<a@x>", None, "Bilan sanguin", "Mon, 30 Nov 2026 10:00:00 +0000"),
    ("<c@x>", "<a@x> <b@x>", "Re: Bilan sanguin", "Mon, 30 Nov 2026 12:00:00 +0000"),
    ("<d@x>", None, "Compte rendu", "Mon, 30 Nov 2026 11:00:00 +0000"),
    ("<e@x>", "<a@x>", "Re: Bilan sanguin", "Mon, 30 Nov 2026 11:30:00 +0000"),
    ("<f@x>", None, "RE: Compte rendu", "Mon, 30 Nov 2026 13:00:00 +0000"),
]
for mid, refs, subject, date in messages:
    head = "From: <a@x.test>\r\nMessage-ID: %s\r\nSubject: %s\r\nDate: %s\r\n" % (mid, subject, date)
    if refs:
        head += "References: %s\r\n" % refs
    m.append("Fils", None, None, (head + "\r\nbody\r\n").encode())
m.select("Fils")
for algorithm in ["REFERENCES", "ORDEREDSUBJECT"]:
    typ, data = m.thread(algorithm, "UTF-8", "ALL")
    out[algorithm] = [typ, data[0].decode()]
typ, data = m.thread("REFERENCES", "UTF-8", "SUBJECT", "compte")
out["search"] = [typ, data[0].decode()]
m.store("1", "+FLAGS", "\\Deleted")
m.expunge()
typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
out["uid"] = [typ, data[0].decode()]
try:
    out["unknown"] = m.thread("X-NONE", "UTF-8", "ALL")[0]
except imaplib.IMAP4.error as e:
    out["unknown"] = "BAD " + str(e)
m.logout()
print(json.dumps(out), flush=True)
"#;

#[test]
fn python_imaplib_threads() {
    let world = world(BIN);
    let out = run_script(&world, THREAD_SCRIPT, &[&martin(), PASSWORD]);
    assert_eq!(
        out["caps"],
        serde_json::json!(["THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"])
    );
    // 2 answers 1 through the missing <b@x> (a dummy, pruned), 4 answers 1 directly: 1 has two
    // replies, 4 (11:30) before 2 (12:00). 5 has no References but replies to 3 by subject.
    let expected = [
        ("REFERENCES", "(1 (4)(2))(3 5)"),
        ("ORDEREDSUBJECT", "(1 (4)(2))(3 5)"),
        ("search", "(3 5)"),
        // Once 1 is expunged, 2 and 4 hang from a dummy <a@x>, dated by 4 (11:30), after 3
        // (11:00); as UIDs.
        ("uid", "(3 5)((4)(2))"),
    ];
    for (key, threads) in expected {
        assert_eq!(out[key], serde_json::json!(["OK", threads]), "{key}: {out}");
    }
    assert!(out["unknown"].as_str().unwrap().starts_with("BAD"), "{out}");
}

/// ACL (RFC 4314) through imaplib's own helpers: the owner of an ORG mailbox grants, lists and
/// revokes; the grantee sees its rights and cannot administer.
const ACL_SCRIPT: &str = r#"
owner, owner_pw, user, user_pw = sys.argv[3:7]
# imaplib has no helper for LISTRIGHTS.
imaplib.Commands["LISTRIGHTS"] = ("AUTH", "SELECTED")
def listrights(m, mailbox, identifier):
    typ, dat = m._simple_command("LISTRIGHTS", mailbox, identifier)
    return m._untagged_response(typ, dat, "LISTRIGHTS")
def text(response):
    typ, data = response
    return [typ, " ".join(d.decode() if isinstance(d, bytes) else str(d) for d in data)]
o = connect(owner, owner_pw)
out = {"caps": [c for c in o.capability()[1][0].decode().split() if c in ("ACL", "RIGHTS=texk")]}
out["owner_myrights"] = text(o.myrights("INBOX"))
out["grant"] = text(o.setacl("INBOX", user, "lr"))
out["getacl"] = text(o.getacl("INBOX"))
out["listrights"] = text(listrights(o, "INBOX", user))
u = connect(user, user_pw)
shared = "Shared/%s/INBOX" % owner
out["user_myrights"] = text(u.myrights('"%s"' % shared))
out["user_select"] = u.select('"%s"' % shared, readonly=True)[0]
out["user_getacl"] = text(u.getacl('"%s"' % shared))
out["user_setacl"] = text(u.setacl('"%s"' % shared, user, "lrswite"))
out["more"] = text(o.setacl("INBOX", user, "+wp"))
out["getacl_more"] = text(o.getacl("INBOX"))
out["user_myrights_more"] = text(u.myrights('"%s"' % shared))
out["refused"] = text(o.setacl("INBOX", user, "lra"))
out["revoke"] = text(o.deleteacl("INBOX", user))
out["getacl_after"] = text(o.getacl("INBOX"))
out["user_after"] = text(u.myrights('"%s"' % shared))
o.logout()
u.logout()
print(json.dumps(out), flush=True)
"#;

#[test]
fn python_imaplib_acl() {
    let world = world(BIN);
    let out = run_script(
        &world,
        ACL_SCRIPT,
        &[&secretariat(), ORG_PASSWORD, &martin(), PASSWORD],
    );
    let (owner, user) = (secretariat(), martin());
    let shared = format!("Shared/{owner}/INBOX");
    let expected = [
        ("caps", serde_json::json!(["ACL", "RIGHTS=texk"])),
        (
            "owner_myrights",
            serde_json::json!(["OK", "\"INBOX\" lrswipkxtea"]),
        ),
        ("grant", serde_json::json!(["OK", "SETACL completed"])),
        (
            "getacl",
            serde_json::json!([
                "OK",
                format!("\"INBOX\" \"{owner}\" lrswipkxtea \"{user}\" lr")
            ]),
        ),
        (
            "listrights",
            serde_json::json!(["OK", format!("\"INBOX\" \"{user}\" \"\" lr swite p")]),
        ),
        (
            "user_myrights",
            serde_json::json!(["OK", format!("\"{shared}\" lr")]),
        ),
        (
            "getacl_more",
            serde_json::json!([
                "OK",
                format!("\"INBOX\" \"{owner}\" lrswipkxtea \"{user}\" lrswitep")
            ]),
        ),
        (
            "user_myrights_more",
            serde_json::json!(["OK", format!("\"{shared}\" lrswitep")]),
        ),
        ("revoke", serde_json::json!(["OK", "DELETEACL completed"])),
        (
            "getacl_after",
            serde_json::json!(["OK", format!("\"INBOX\" \"{owner}\" lrswipkxtea")]),
        ),
    ];
    for (key, value) in expected {
        assert_eq!(out[key], value, "{key}: {out}");
    }
    assert_eq!(
        out["user_select"], "OK",
        "EXAMINE of the shared INBOX: {out}"
    );
    for refused in ["user_getacl", "user_setacl", "refused", "user_after"] {
        assert_eq!(out[refused][0], "NO", "{refused}: {out}");
    }
    let audits = world.audit_details("imap.acl.set");
    assert_eq!(audits.len(), 3, "{audits:?}");
}
