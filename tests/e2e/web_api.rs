//! End-to-end: the mailbox API of the real binary over HTTPS — citizens' and
//! professionals' tokens, who may see what, hostile HTML made inert, replies through
//! submission and its rules, and the OpenAPI contract.

use mssd_e2e::submission_world::{A, AUDIENCE, OWNER, martin};
use mssd_e2e::web_world::*;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

#[test]
fn the_api_serves_the_tokens_mailbox_and_nothing_else() {
    let world = web_world(BIN, "");
    send_lab_reports(&world);
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
        ["Message HTML", "Résultats de biologie"],
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
            !r.text().contains("Dosage de TSH") && !r.text().contains("%PDF"),
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
    // The lab report's message to Trash: its document follows it and still opens.
    let moved = client.post(
        &format!("/api/v1/folders/{inbox}/messages/2/trash"),
        &[("Authorization", &mine)],
        b"",
    );
    assert_eq!(moved.status, 200, "{}", moved.text());
    let docs = client
        .get("/api/v1/documents", &[("Authorization", &mine)])
        .json();
    let n1 = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message_folder"] == trash)
        .expect("the document is where its message went");
    let content = client.get(
        &format!("/api/v1/documents/{}/content", n1["id"]),
        &[("Authorization", &mine)],
    );
    assert!(content.body.starts_with(b"%PDF"), "{}", content.status);
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
    let world = web_world(BIN, "");
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

/// The OpenAPI document validates (openapi-spec-validator) and every call of the
/// contract script matches it (path, method, status, JSON schema).
#[test]
fn the_openapi_document_validates_and_the_api_calls_match_it() {
    let world = web_world(BIN, "");
    send_lab_reports(&world);
    let stdout = run_web_script(
        "api_contract.py",
        &[
            format!("https://{}", world.server.addr("https")),
            world.op.pki("root.pem").display().to_string(),
            token(&world, PATIENT),
            token(&world, OTHER_PATIENT),
        ],
    );
    assert!(stdout.contains("openapi: valid"), "{stdout}");
    assert!(stdout.contains("calls matched:"), "{stdout}");
}
