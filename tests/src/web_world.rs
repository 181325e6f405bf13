//! The web tests' world: operator A with citizens (TEST provider), the two test patients
//! registered, an HTTPS client, tokens, messages from dr.martin, and a browser-like sign-in.

use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};

use crate::submission_world::{A, PASSWORD, World, martin, world_with};
use crate::web_client::{WebClient, cookie_pair};

pub const PATIENT: &str = "279035121518989";
pub const OTHER_PATIENT: &str = "295109912611193";

pub fn citizen(ins: &str) -> String {
    format!("{ins}@patient.{A}")
}

pub fn real_cda(name: &str) -> String {
    let path = format!(
        "{}/../../shared/real-data/cda/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Operator A with citizens (TEST provider) and the two patients registered; `extra` is
/// appended to the configuration.
pub fn web_world(bin: &str, extra: &str) -> World {
    let world = world_with(
        bin,
        &format!(
            "[citizen]\ndomain = \"patient.{A}\"\n\n[citizen.oidc]\ntest_provider = true\n\n[cda]\naccepted_ins_oids = [\"1.2.250.1.213.1.4.10\"]\n\n{extra}"
        ),
    );
    for ins in [PATIENT, OTHER_PATIENT] {
        world.op.cli_ok(&["citizen", "add", ins], None);
    }
    world
}

pub fn web(world: &World) -> WebClient {
    WebClient {
        addr: world.server.addr("https"),
        server_name: format!("mail.{A}"),
        tls: world.tls_config(None),
    }
}

pub fn token(world: &World, ins: &str) -> String {
    world
        .op
        .cli_ok(&["citizen", "token", ins], None)
        .stdout
        .trim()
        .to_string()
}

/// dr.martin sends `message` (from him) to `to` over submission; returns the final reply.
pub fn send_raw(world: &World, to: &str, message: &[u8]) -> String {
    let mut client = world.logged_in(&martin(), PASSWORD);
    client.send_message(&martin(), &[to], message)
}

pub fn send_document(world: &World, to: &str, cda: &str, subject: &str) {
    let zip = xdm_zip(
        &[XdmDocument {
            cda: cda.as_bytes(),
            ..Default::default()
        }],
        &[to],
    );
    let reply = send_raw(
        world,
        to,
        &message_with_xdm(&martin(), to, subject, "", &zip),
    );
    assert!(reply.starts_with("250"), "{reply}");
}

pub const HOSTILE: &str = "<p>Bonjour</p><script>alert('x')</script>\
<a href=\"javascript:alert(1)\">clic</a><img src=\"https://tracker.example/pixel.gif\" alt=\"\">\
<img src=x onerror=\"alert(2)\"><p style=\"background:url(https://tracker.example/bg)\">fin</p>";

pub fn hostile_message(to: &str) -> Vec<u8> {
    format!(
        "From: <{}>\r\nTo: <{to}>\r\nSubject: Message HTML\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{HOSTILE}\r\n",
        martin()
    )
    .into_bytes()
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub fn inbox_id(client: &WebClient, auth: &str) -> i64 {
    let folders = client.get("/api/v1/folders", &[("Authorization", auth)]);
    assert_eq!(folders.status, 200, "{}", folders.text());
    folders
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "INBOX")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// A web session the way a browser gets one: /connexion, the TEST provider's form, the
/// return; returns the session cookie and the CSRF token of the first page.
pub fn sign_in(client: &WebClient, ins: &str) -> (String, String) {
    let start = client.get("/connexion", &[]);
    assert_eq!(start.status, 303);
    let pending = cookie_pair(start.header("set-cookie").unwrap());
    let set = start.header("set-cookie").unwrap();
    assert!(set.contains("HttpOnly") && set.contains("Secure"), "{set}");
    let location = start.header("location").unwrap().to_string();
    assert!(
        location.starts_with("/test-idp/authorize?")
            && location.contains("code_challenge_method=S256")
    );
    assert!(!location.contains(ins));
    let page = client.get(&location, &[]);
    assert_eq!(page.status, 200);
    let page = page.text();
    assert!(page.contains("TEST"));
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page
            .find(&marker)
            .unwrap_or_else(|| panic!("{name} in {page}"))
            + marker.len();
        page[start..start + page[start..].find('"').unwrap()]
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    };
    let form = format!(
        "form_token={}&redirect_uri={}&state={}&code_challenge={}&ins={ins}",
        field("form_token"),
        mssd_web_percent(&field("redirect_uri")),
        field("state"),
        field("code_challenge")
    );
    let authorized = client.post(
        "/test-idp/authorize",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    );
    assert_eq!(authorized.status, 303, "{}", authorized.text());
    let back = authorized.header("location").unwrap().to_string();
    let path = &back[back.find("/connexion/retour").unwrap()..];
    assert!(!path.contains(ins));
    let done = client.get(path, &[("Cookie", &pending)]);
    assert_eq!(done.status, 200, "{}", done.text());
    let session = done
        .headers_named("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("mssd_session="))
        .unwrap()
        .to_string();
    assert!(
        session.contains("HttpOnly")
            && session.contains("Secure")
            && session.contains("SameSite=Strict"),
        "{session}"
    );
    let cookie = cookie_pair(&session);
    let inbox = client.get("/boite", &[("Cookie", &cookie)]);
    assert_eq!(inbox.status, 200);
    let text = inbox.text();
    let marker = "name=\"csrf\" value=\"";
    let at = text.find(marker).unwrap() + marker.len();
    let csrf = text[at..at + text[at..].find('"').unwrap()].to_string();
    (cookie, csrf)
}

pub fn mssd_web_percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// dr.martin sends the citizen PATIENT the real N1 lab report ("Résultats de biologie")
/// and the real N3 TSH report ("Dosage de TSH"), each in its IHE_XDM.zip.
pub fn send_lab_reports(world: &World) {
    let to = citizen(PATIENT);
    send_document(
        world,
        &to,
        &real_cda("BIO-CR-BIO_2024.01_TSH_1.xml"),
        "Dosage de TSH",
    );
    send_document(
        world,
        &to,
        &real_cda("DOC_NON_STRUCTURE_CDA-R2-N1.xml"),
        "Résultats de biologie",
    );
}

/// Runs `python3 tests/web/<script> args…`; panics with its output unless it succeeds;
/// returns what it printed.
pub fn run_web_script(script: &str, args: &[String]) -> String {
    let path = format!("{}/web/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
