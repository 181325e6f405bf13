//! End-to-end: the HTTPS side of the real binary — the mailbox API with citizens' tokens,
//! who may see what, hostile HTML made inert, replies through submission, web sign-in
//! (OIDC code + PKCE against the TEST provider) and its CSRF-protected forms, early refusal
//! of huge uploads, the per-IP rate limit, monitoring on both listeners, HTTP/2.

use std::time::{Duration, Instant};

use mssd_cda::builder::{XdmDocument, message_with_xdm, xdm_zip};
use mssd_e2e::submission_world::{A, AUDIENCE, OWNER, PASSWORD, World, martin, world_with};
use mssd_e2e::web_client::{WebClient, cookie_pair};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const PATIENT: &str = "279035121518989";
const OTHER_PATIENT: &str = "295109912611193";

fn citizen(ins: &str) -> String {
    format!("{ins}@patient.{A}")
}

fn real_cda(name: &str) -> String {
    let path = format!(
        "{}/../../shared/real-data/cda/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Operator A with citizens (TEST provider) and the two patients registered.
fn web_world(extra: &str) -> World {
    let world = world_with(
        BIN,
        &format!(
            "[citizen]\ndomain = \"patient.{A}\"\n\n[citizen.oidc]\ntest_provider = true\n\n[cda]\naccepted_ins_oids = [\"1.2.250.1.213.1.4.10\"]\n\n{extra}"
        ),
    );
    for ins in [PATIENT, OTHER_PATIENT] {
        let out = world.op.cli(&["citizen", "add", ins], None);
        assert!(out.status.success(), "{}", out.stderr);
    }
    world
}

fn web(world: &World) -> WebClient {
    WebClient {
        addr: world.server.addr("https"),
        server_name: format!("mail.{A}"),
        tls: world.tls_config(None),
    }
}

fn token(world: &World, ins: &str) -> String {
    let out = world.op.cli(&["citizen", "token", ins], None);
    assert!(out.status.success(), "{}", out.stderr);
    out.stdout.trim().to_string()
}

/// dr.martin sends `message` (from him) to `to` over submission; returns the final reply.
fn send_raw(world: &World, to: &str, message: &[u8]) -> String {
    let mut client = world.logged_in(&martin(), PASSWORD);
    client.send_message(&martin(), &[to], message)
}

fn send_document(world: &World, to: &str, cda: &str, subject: &str) {
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

const HOSTILE: &str = "<p>Bonjour</p><script>alert('x')</script>\
<a href=\"javascript:alert(1)\">clic</a><img src=\"https://tracker.example/pixel.gif\" alt=\"\">\
<img src=x onerror=\"alert(2)\"><p style=\"background:url(https://tracker.example/bg)\">fin</p>";

fn hostile_message(to: &str) -> Vec<u8> {
    format!(
        "From: <{}>\r\nTo: <{to}>\r\nSubject: Message HTML\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{HOSTILE}\r\n",
        martin()
    )
    .into_bytes()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn inbox_id(client: &WebClient, auth: &str) -> i64 {
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

#[test]
fn the_api_serves_the_tokens_mailbox_and_nothing_else() {
    let world = web_world("");
    send_document(
        &world,
        &citizen(PATIENT),
        &real_cda("DOC_NON_STRUCTURE_CDA-R2-N1.xml"),
        "CR d'examens",
    );
    send_document(
        &world,
        &citizen(PATIENT),
        &real_cda("BIO-CR-BIO_2024.01_TSH_1.xml"),
        "CR TSH",
    );
    assert!(
        send_raw(
            &world,
            &citizen(PATIENT),
            &hostile_message(&citizen(PATIENT))
        )
        .starts_with("250")
    );
    let client = web(&world);
    let mine = bearer(&token(&world, PATIENT));
    let other = bearer(&token(&world, OTHER_PATIENT));

    // No token, a malformed one, a tampered one: 401 with a Bearer challenge.
    let none = client.get("/api/v1/folders", &[]);
    assert_eq!(none.status, 401);
    assert_eq!(none.json()["code"], "unauthenticated");
    assert!(
        none.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    let tampered = format!("{}x", &mine[..mine.len() - 1]);
    for auth in [
        "Bearer",
        "Basic Zm9vOmJhcg==",
        "Bearer not.a.token",
        tampered.as_str(),
    ] {
        assert_eq!(
            client
                .get("/api/v1/folders", &[("Authorization", auth)])
                .status,
            401,
            "{auth}"
        );
    }

    // The citizen's own mailbox: newest first, the documents, the PDF, the N3 rendering.
    let me = client.get("/api/v1/me", &[("Authorization", &mine)]).json();
    assert_eq!(me["address"], citizen(PATIENT));
    assert_eq!(me["kind"], "CITIZEN");
    let inbox = inbox_id(&client, &mine);
    let page = client.get(
        &format!("/api/v1/folders/{inbox}/messages?per_page=2"),
        &[("Authorization", &mine)],
    );
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.json();
    assert_eq!(page["total"], 3);
    let subjects: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["Message HTML", "CR TSH"],
        "newest first, two per page"
    );
    let documents = client
        .get("/api/v1/documents", &[("Authorization", &mine)])
        .json();
    let documents = documents.as_array().unwrap();
    assert_eq!(documents.len(), 2, "{documents:?}");
    let mut levels = Vec::new();
    for d in documents {
        let id = d["id"].as_i64().unwrap();
        let detail = client.get(
            &format!("/api/v1/documents/{id}"),
            &[("Authorization", &mine)],
        );
        assert_eq!(detail.status, 200, "{}", detail.text());
        let level = detail.json()["level"].as_str().unwrap().to_string();
        let content = client.get(
            &format!("/api/v1/documents/{id}/content"),
            &[("Authorization", &mine)],
        );
        assert_eq!(content.status, 200);
        if level == "N1" {
            assert_eq!(content.header("content-type"), Some("application/pdf"));
            assert!(content.body.starts_with(b"%PDF"));
        } else {
            assert!(
                content
                    .header("content-type")
                    .unwrap()
                    .starts_with("text/xml")
            );
            assert!(content.text().contains("ClinicalDocument"));
            let html = client.get(
                &format!("/api/v1/documents/{id}/html"),
                &[("Authorization", &mine)],
            );
            assert_eq!(html.status, 200);
            assert!(
                html.text().contains("<h2>BIOCHIMIE</h2>") && html.text().contains("<table>"),
                "{}",
                html.text()
            );
            assert!(!html.text().contains("<script"));
        }
        levels.push(level);
    }
    levels.sort();
    assert_eq!(levels, ["N1", "N3"]);

    // A professional's Pro Santé Connect token opens the professional's own mailbox.
    let psc = bearer(
        &world
            .issuer
            .sign(&world.issuer.claims(OWNER, AUDIENCE, 300)),
    );
    let professional = client.get("/api/v1/me", &[("Authorization", &psc)]).json();
    assert_eq!(professional["address"], martin());
    assert_eq!(professional["kind"], "PER");
    let r = client.get(
        &format!("/api/v1/folders/{inbox}/messages"),
        &[("Authorization", &psc)],
    );
    assert_eq!(r.status, 403, "not the citizen's mailbox");

    // Another citizen's token: nothing of this mailbox, whatever the route.
    let first_doc = documents[0]["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/folders/{inbox}/messages"),
        format!("/api/v1/folders/{inbox}/messages/1"),
        format!("/api/v1/folders/{inbox}/messages/1/attachments/0"),
        format!("/api/v1/documents/{first_doc}"),
        format!("/api/v1/documents/{first_doc}/content"),
    ] {
        let r = client.get(&path, &[("Authorization", &other)]);
        assert!(
            matches!(r.status, 403 | 404),
            "{path}: {} {}",
            r.status,
            r.text()
        );
        assert!(
            !r.text().contains("CR TSH") && !r.text().contains("%PDF"),
            "{path}"
        );
    }
    for action in ["read", "trash"] {
        let r = client.post(
            &format!("/api/v1/folders/{inbox}/messages/1/{action}"),
            &[("Authorization", &other)],
            b"",
        );
        assert_eq!(r.status, 403, "{action}");
    }
    assert_eq!(
        client
            .get("/api/v1/documents", &[("Authorization", &other)])
            .json(),
        serde_json::json!([])
    );

    // The hostile HTML message: script, javascript: links, handlers and remote images gone.
    let hostile = client
        .get(
            &format!("/api/v1/folders/{inbox}/messages/3"),
            &[("Authorization", &mine)],
        )
        .json();
    assert_eq!(hostile["subject"], "Message HTML");
    let html = hostile["html"].as_str().unwrap();
    for inert in [
        "<script",
        "javascript:",
        "onerror",
        "tracker.example",
        "style=",
    ] {
        assert!(!html.contains(inert), "{inert} in {html}");
    }
    assert!(html.contains("Bonjour"));
    assert_eq!(hostile["remote_images_blocked"], true);
    let asked = client
        .get(
            &format!("/api/v1/folders/{inbox}/messages/3?images=true"),
            &[("Authorization", &mine)],
        )
        .json();
    assert!(
        asked["html"]
            .as_str()
            .unwrap()
            .contains("https://tracker.example/pixel.gif")
    );
    assert!(!asked["html"].as_str().unwrap().contains("<script"));

    // Mark read, then trash: the message moves, and is no longer in INBOX.
    let r = client.post(
        &format!("/api/v1/folders/{inbox}/messages/3/read"),
        &[("Authorization", &mine)],
        b"",
    );
    assert_eq!(r.status, 204);
    let page = client
        .get(
            &format!("/api/v1/folders/{inbox}/messages"),
            &[("Authorization", &mine)],
        )
        .json();
    assert_eq!(page["messages"][0]["seen"], true);
    let moved = client.post(
        &format!("/api/v1/folders/{inbox}/messages/3/trash"),
        &[("Authorization", &mine)],
        b"",
    );
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(
        client
            .get(
                &format!("/api/v1/folders/{inbox}/messages"),
                &[("Authorization", &mine)]
            )
            .json()["total"],
        2
    );
    let trash = moved.json()["folder"].as_i64().unwrap();
    assert_eq!(
        client
            .get(
                &format!("/api/v1/folders/{trash}/messages"),
                &[("Authorization", &mine)]
            )
            .json()["total"],
        1
    );
    // Security headers on every answer.
    let r = client.get("/api/v1/me", &[("Authorization", &mine)]);
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(
        !r.header("content-security-policy")
            .unwrap()
            .contains("unsafe-inline")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert!(r.header("strict-transport-security").is_some());
}

#[test]
fn replies_go_through_submission_and_its_rules() {
    let world = web_world("");
    send_document(
        &world,
        &citizen(PATIENT),
        &real_cda("DOC_NON_STRUCTURE_CDA-R2-N1.xml"),
        "Vos résultats",
    );
    let closed = format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: Information\r\nX-MSS-MES: FIN\r\nMessage-ID: <fin-1@{A}>\r\n\r\nPas de réponse attendue.\r\n",
        martin(),
        citizen(PATIENT)
    );
    let client = web(&world);
    let mine = bearer(&token(&world, PATIENT));
    let inbox = inbox_id(&client, &mine);
    let before = world.inbox(&martin()).len();

    let sent = client.post(
        &format!("/api/v1/folders/{inbox}/messages/1/reply"),
        &[
            ("Authorization", &mine),
            ("Content-Type", "application/json"),
        ],
        br#"{"text":"Merci docteur, bien re\u00e7u."}"#,
    );
    assert_eq!(sent.status, 202, "{}", sent.text());
    assert_eq!(sent.json()["to"], martin());
    let delivered = mssd_e2e::store::wait_for_messages(&world.op.data_dir(), &martin(), before + 1);
    let reply = String::from_utf8_lossy(delivered.last().unwrap()).into_owned();
    assert!(reply.contains("Merci docteur, bien re"), "{reply}");
    assert!(
        reply.contains("Subject: Re: Vos r") || reply.contains("Subject: =?utf-8?"),
        "{reply}"
    );
    assert!(
        reply.contains(&format!("From: <{}>", citizen(PATIENT)))
            || reply.contains(&citizen(PATIENT))
    );

    // A message marked FIN: the citizen rules refuse the reply, as JSON with the SMTP reply.
    assert!(send_raw(&world, &citizen(PATIENT), closed.as_bytes()).starts_with("250"));
    let refused = client.post(
        &format!("/api/v1/folders/{inbox}/messages/2/reply"),
        &[
            ("Authorization", &mine),
            ("Content-Type", "application/json"),
        ],
        br#"{"text":"Une question"}"#,
    );
    assert_eq!(refused.status, 422, "{}", refused.text());
    let body = refused.json();
    assert_eq!(body["code"], "refused");
    assert!(
        body["smtp"].as_str().unwrap().starts_with("550 5.7.1"),
        "{body}"
    );
    // An empty reply and a malformed body are the client's errors.
    let empty = client.post(
        &format!("/api/v1/folders/{inbox}/messages/1/reply"),
        &[
            ("Authorization", &mine),
            ("Content-Type", "application/json"),
        ],
        br#"{"text":"   "}"#,
    );
    assert_eq!(empty.status, 400);
    let malformed = client.post(
        &format!("/api/v1/folders/{inbox}/messages/1/reply"),
        &[
            ("Authorization", &mine),
            ("Content-Type", "application/json"),
        ],
        b"{",
    );
    assert!(
        malformed.status == 400 || malformed.status == 422,
        "{}",
        malformed.status
    );
}

/// A web session the way a browser gets one: /connexion, the TEST provider's form, the
/// return; returns the session cookie and the CSRF token of the first page.
fn sign_in(client: &WebClient, ins: &str) -> (String, String) {
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

fn mssd_web_percent(value: &str) -> String {
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

#[test]
fn web_sign_in_gives_a_strict_session_and_forms_need_their_csrf_token() {
    let world = web_world("");
    send_document(
        &world,
        &citizen(PATIENT),
        &real_cda("DOC_NON_STRUCTURE_CDA-R2-N1.xml"),
        "CR d'examens",
    );
    let client = web(&world);
    assert_eq!(
        client.get("/boite", &[]).status,
        303,
        "no session: back home"
    );
    let (cookie, csrf) = sign_in(&client, PATIENT);
    let inbox = client.get("/boite", &[("Cookie", &cookie)]);
    assert!(
        inbox.text().contains("CR d&#39;examens"),
        "{}",
        inbox.text()
    );
    let csp = inbox.header("content-security-policy").unwrap();
    assert!(!csp.contains("unsafe-inline") && csp.contains("default-src 'none'"));
    let folder = inbox_id(&client, &bearer(&token(&world, PATIENT)));
    let form = "application/x-www-form-urlencoded";
    let reply_path = format!("/message/{folder}/1/repondre");
    for body in [
        "texte=bonjour".to_string(),
        format!("csrf={}x&texte=bonjour", &csrf[..csrf.len() - 1]),
    ] {
        let r = client.post(
            &reply_path,
            &[("Cookie", &cookie), ("Content-Type", form)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 403, "{body}");
    }
    assert_eq!(
        client
            .post(
                "/deconnexion",
                &[("Cookie", &cookie), ("Content-Type", form)],
                b""
            )
            .status,
        403
    );
    let before = world.inbox(&martin()).len();
    let sent = client.post(
        &reply_path,
        &[("Cookie", &cookie), ("Content-Type", form)],
        format!("csrf={csrf}&texte=Bien+re%C3%A7u").as_bytes(),
    );
    assert_eq!(sent.status, 200);
    assert!(sent.text().contains("Réponse envoyée"), "{}", sent.text());
    mssd_e2e::store::wait_for_messages(&world.op.data_dir(), &martin(), before + 1);
    // Another citizen's session sees nothing of this mailbox.
    let (other, _) = sign_in(&client, OTHER_PATIENT);
    let r = client.get(&format!("/message/{folder}/1"), &[("Cookie", &other)]);
    assert_eq!(r.status, 403);
    assert!(!r.text().contains("examens"));
    // Sign-out ends the session.
    let out = client.post(
        "/deconnexion",
        &[("Cookie", &cookie), ("Content-Type", form)],
        format!("csrf={csrf}").as_bytes(),
    );
    assert_eq!(out.status, 200);
    assert_eq!(client.get("/boite", &[("Cookie", &cookie)]).status, 303);
    // An unknown citizen gets no session.
    let start = client.get("/connexion", &[]);
    assert_eq!(start.status, 303);
}

#[test]
fn huge_uploads_are_refused_early_and_floods_slowed() {
    let world = web_world("[web]\nrequests_per_second_per_ip = 2\nburst_per_ip = 20\n");
    let client = web(&world);
    let mine = bearer(&token(&world, PATIENT));
    // 1 GB announced: 413 before the body is read (only a few bytes are sent).
    let mut stream =
        mssd_e2e::tls_connect(client.addr, &client.server_name, client.tls.clone()).unwrap();
    let started = Instant::now();
    use std::io::Write;
    write!(
        stream,
        "POST /api/v1/folders/1/messages/1/reply HTTP/1.1\r\nHost: x\r\nAuthorization: {mine}\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n{{\"text\":\""
    )
    .unwrap();
    stream.flush().unwrap();
    let response = mssd_e2e::web_client::read_response(&mut stream);
    assert_eq!(response.status, 413, "{}", response.text());
    assert!(started.elapsed() < Duration::from_secs(5));
    // Past the burst, 429 with Retry-After.
    let statuses: Vec<u16> = (0..30)
        .map(|_| client.get("/healthz", &[]).status)
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 200);
    let limited = (0..5)
        .map(|_| client.get("/healthz", &[]))
        .find(|r| r.status == 429)
        .unwrap();
    assert_eq!(limited.header("retry-after"), Some("1"));
}

#[test]
fn monitoring_answers_on_both_listeners_and_https_speaks_http2() {
    let world = web_world("");
    let (status, body) = mssd_e2e::http_get(world.server.addr("http"), "/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _) = mssd_e2e::http_get(world.server.addr("http"), "/api/v1/me");
    assert_eq!(status, 404, "the plain listener serves monitoring only");
    let (status, _) = mssd_e2e::http_get(world.server.addr("http"), "/boite");
    assert_eq!(status, 404);
    let client = web(&world);
    assert_eq!(client.get("/healthz", &[]).text(), "ok\n");
    assert!(client.get("/metrics", &[]).text().contains("mssd_"));
    assert_eq!(client.post("/healthz", &[], b"").status, 405);
    // ALPN: a client offering h2 gets HTTP/2.
    let mut config = (*world.tls_config(None)).clone();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let stream = mssd_e2e::tls_connect(
        client.addr,
        &client.server_name,
        std::sync::Arc::new(config),
    )
    .unwrap();
    assert_eq!(stream.conn.alpn_protocol(), Some(b"h2".as_slice()));
}

/// The OpenAPI document validates (openapi-spec-validator) and every call of the
/// contract script matches it (path, method, status, JSON schema).
#[test]
fn the_openapi_document_validates_and_the_api_calls_match_it() {
    let world = web_world("");
    send_document(
        &world,
        &citizen(PATIENT),
        &real_cda("DOC_NON_STRUCTURE_CDA-R2-N1.xml"),
        "CR d'examens",
    );
    send_document(
        &world,
        &citizen(PATIENT),
        &real_cda("BIO-CR-BIO_2024.01_TSH_1.xml"),
        "CR TSH",
    );
    let script = format!(
        "{}/../tests/web/api_contract.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg(format!("https://{}", world.server.addr("https")))
        .arg(world.op.pki("root.pem"))
        .arg(token(&world, PATIENT))
        .arg(token(&world, OTHER_PATIENT))
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("openapi: valid"), "{stdout}");
    assert!(stdout.contains("calls matched:"), "{stdout}");
}
