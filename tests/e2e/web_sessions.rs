//! End-to-end: the web side of the real binary beyond the API — sign-in (OIDC code + PKCE
//! against the TEST provider), strict session cookies and CSRF-protected forms, early
//! refusal of huge uploads, the per-IP rate limit, monitoring on both listeners, HTTP/2.

use std::time::{Duration, Instant};

use mssd_e2e::submission_world::martin;
use mssd_e2e::web_world::*;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

#[test]
fn web_sign_in_gives_a_strict_session_and_forms_need_their_csrf_token() {
    let world = web_world(BIN, "");
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
    let world = web_world(
        BIN,
        "[web]\nrequests_per_second_per_ip = 2\nburst_per_ip = 20\n",
    );
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
    let world = web_world(BIN, "");
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

/// Sign-in against a real provider's endpoints (a test double of the citizens' national
/// provider): the server sends the browser to the authorization endpoint with a state and
/// an S256 challenge, then exchanges the code it gets back, with its PKCE verifier and its
/// client secret, at the token endpoint over HTTPS, and checks the token it receives. A code
/// used twice, or a return with another browser's state, opens no session.
#[test]
fn web_sign_in_with_a_real_provider_exchanges_the_code_with_pkce() {
    use mssd_e2e::oidc_double::{CLIENT_ID, CLIENT_SECRET, OidcDouble, decode};
    use mssd_e2e::peers::{PeerCa, TokenIssuer};
    use mssd_e2e::submission_world::{A, world_with_tls};

    let files = tempfile::tempdir().unwrap();
    let ca = PeerCa::new();
    let mut spec =
        mssd_certs::LeafSpec::new(&[("CN", "localhost"), ("O", "IDP TEST"), ("C", "FR")]);
    spec.dns_names = vec!["localhost".into()];
    spec.ip_addresses = vec!["127.0.0.1".parse().unwrap()];
    spec.server_auth = true;
    let cert = ca.intermediate.issue(&spec).unwrap();
    let (chain, key) = ca.write(files.path(), "idp", &cert);
    let root = files.path().join("idp-root.pem");
    std::fs::write(&root, ca.root.cert_pem()).unwrap();
    let issuer = TokenIssuer::new("https://idp.test.invalid/citizens");
    let jwks = files.path().join("idp-jwks.json");
    std::fs::write(&jwks, issuer.jwks_json()).unwrap();
    let secret = files.path().join("idp-secret");
    std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).unwrap();
    let double = OidcDouble::start(&chain, &key, issuer, "mssd-citizens");
    // The provider's CA is trusted for downloads only (`[http_client]`), never for peers.
    let world = world_with_tls(
        BIN,
        "",
        &format!(
            "[http_client]\nanchors = [\"{}\"]\n\n[citizen]\ndomain = \"patient.{A}\"\n\n[citizen.oidc]\nissuer = \"https://idp.test.invalid/citizens\"\njwks = \"{}\"\naudience = \"mssd-citizens\"\nauthorization_endpoint = \"{}\"\ntoken_endpoint = \"{}\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_file = \"{}\"\n",
            root.display(),
            jwks.display(),
            double.url("/authorize"),
            double.url("/token"),
            secret.display()
        ),
    );
    world.op.cli_ok(&["citizen", "add", PATIENT], None);
    let client = web(&world);
    let page = client.get("/", &[]);
    assert!(page.text().contains("id=\"sign-in\"") && !page.text().contains("TEST"));

    // The server sends the browser to the provider; the test plays the provider's page.
    let begin = |client: &mssd_e2e::web_client::WebClient| {
        let start = client.get("/connexion", &[]);
        assert_eq!(start.status, 303);
        let pending = mssd_e2e::web_client::cookie_pair(start.header("set-cookie").unwrap());
        let location = start.header("location").unwrap().to_string();
        let (endpoint, query) = location.split_once('?').unwrap();
        assert_eq!(endpoint, double.url("/authorize"));
        let params: std::collections::HashMap<String, String> = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), decode(v)))
            .collect();
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], CLIENT_ID);
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["scope"], "openid");
        (pending, params)
    };
    let (pending, params) = begin(&client);
    let redirect = params["redirect_uri"].clone();
    assert!(redirect.ends_with("/connexion/retour"), "{redirect}");
    let code = double.authorize(&params["code_challenge"], &redirect, PATIENT);
    let back = format!("/connexion/retour?code={code}&state={}", params["state"]);
    let done = client.get(&back, &[("Cookie", &pending)]);
    assert_eq!(done.status, 200, "{}", done.text());
    let session = done
        .headers_named("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("mssd_session="))
        .map(mssd_e2e::web_client::cookie_pair)
        .expect("a session");
    assert_eq!(client.get("/boite", &[("Cookie", &session)]).status, 200);
    assert_eq!(double.seen(), vec![Ok(code.clone())]);

    // The same code again: the provider refuses it, no session.
    let (pending, params) = begin(&client);
    let replay = format!("/connexion/retour?code={code}&state={}", params["state"]);
    let refused = client.get(&replay, &[("Cookie", &pending)]);
    assert!(
        refused
            .headers_named("set-cookie")
            .iter()
            .all(|c| !c.starts_with("mssd_session="))
    );
    assert_eq!(
        double.seen().last().unwrap(),
        &Err("unknown code".to_string())
    );
    // Another browser's state: refused before the provider is asked.
    let (_, params) = begin(&client);
    let (other_pending, _) = begin(&client);
    let code = double.authorize(&params["code_challenge"], &redirect, PATIENT);
    let crossed = client.get(
        &format!("/connexion/retour?code={code}&state={}", params["state"]),
        &[("Cookie", &other_pending)],
    );
    assert_eq!(crossed.status, 400);
    assert_eq!(double.seen().len(), 2, "the token endpoint was not asked");
}
