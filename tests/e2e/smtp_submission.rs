//! End-to-end: SMTP submission of the real `mssd` (587 with STARTTLS, 465 with implicit
//! TLS) — passwords, Pro Santé Connect tokens and certificates authenticate our users, who
//! send only as their own mailbox and only into the MSSanté trust space; every refusal has
//! its reply code and its audit line.

use mssd_e2e::peers::{TokenIssuer, plain, xoauth2};
use mssd_e2e::submission::{
    announces, base64, command, decode_base64, fields_named, header_block, oauthbearer, reply,
    stored_id, text,
};
use mssd_e2e::submission_world::{
    A, AUDIENCE, B, ISSUER, ORG_PASSWORD, OUTSIDE, OWNER, PASSWORD, app, martin, secretariat,
    suspended, world,
};
use mssd_e2e::{LineClient, SmtpClient, tls_connect};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
/// "Username:" and "Password:" in base64 (RFC 4954 LOGIN challenges as clients expect them).
const LOGIN_USERNAME: &str = "334 VXNlcm5hbWU6";
const LOGIN_PASSWORD: &str = "334 UGFzc3dvcmQ6";
const BAD_CREDENTIALS: &str = "535 5.7.8 Authentication credentials invalid";
const AUTH_OK: &str = "235 2.7.0 Authentication successful";
const AUTH_REQUIRED: &str = "530 5.7.0 Authentication required";

fn mail_from(client: &mut SmtpClient, sender: &str) -> String {
    client.command(&format!("MAIL FROM:<{sender}>"))
}

#[test]
fn password_logins_after_starttls_deliver_with_the_fields_the_client_left_out() {
    let world = world(BIN);
    let (mut client, ehlo) = world.starttls_session();
    assert!(
        announces(&ehlo, "AUTH XOAUTH2 OAUTHBEARER PLAIN LOGIN"),
        "AUTH after STARTTLS, no EXTERNAL without a certificate: {ehlo}"
    );
    let reply = client.command(&format!("AUTH PLAIN {}", plain(&martin(), PASSWORD)));
    assert_eq!(reply, AUTH_OK);
    assert_eq!(
        client.command("AUTH PLAIN"),
        "503 5.5.1 Already authenticated"
    );
    let without_id_and_date = "From: Dr Martin <dr.martin@hopital-a.test.mssante.fr>\r\nTo: <secretariat@hopital-a.test.mssante.fr>\r\nSubject: sans identifiant\r\n\r\nBonjour,\r\n.ligne avec un point\r\n";
    let reply = client.send_message(&martin(), &[&secretariat()], without_id_and_date.as_bytes());
    let id = stored_id(&reply);
    assert_eq!(client.command("QUIT"), "221 2.0.0 Bye");

    let stored = world.inbox(&secretariat());
    assert_eq!(stored.len(), 1);
    let message = &stored[0];
    assert!(
        message.starts_with(&format!(
            "Received: from client.test ([127.0.0.1])\r\n\tby mail.{A} with ESMTPSA\r\n\t(version=TLSv1_3"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("\r\n\tid {id}\r\n\tfor <{}>;", secretariat())),
        "{message}"
    );
    let headers = header_block(message);
    assert_eq!(
        fields_named(headers, "Message-ID"),
        vec![format!("Message-ID: <{id}@mail.{A}>")]
    );
    let dates = fields_named(headers, "Date");
    assert_eq!(dates.len(), 1, "{headers}");
    assert!(
        dates[0].ends_with(" +0000") && dates[0].len() > 30,
        "{}",
        dates[0]
    );
    assert_eq!(
        fields_named(headers, "Subject"),
        ["Subject: sans identifiant"]
    );
    assert_eq!(
        &message[headers.len()..],
        "\r\nBonjour,\r\n.ligne avec un point\r\n",
        "body kept byte for byte, dot-unstuffed"
    );

    // AUTH LOGIN with both challenges; a message that has its own Message-ID and Date keeps them.
    let (mut client, _) = world.starttls_session();
    assert_eq!(client.command("AUTH LOGIN"), LOGIN_USERNAME);
    assert_eq!(client.command(&base64(&secretariat())), LOGIN_PASSWORD);
    assert_eq!(client.command(&base64(ORG_PASSWORD)), AUTH_OK);
    let complete = "From: <secretariat@hopital-a.test.mssante.fr>\r\nTo: <dr.martin@hopital-a.test.mssante.fr>\r\nSubject: complet\r\nMessage-ID: <own-1@poste.hopital-a.test.mssante.fr>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0100\r\n\r\nRéponse\r\n";
    let reply = client.send_message(&secretariat(), &[&martin()], complete.as_bytes());
    stored_id(&reply);
    let stored = world.inbox(&martin());
    assert_eq!(stored.len(), 1);
    let after_trace = &stored[0][stored[0].find("From: ").expect("From")..];
    assert_eq!(
        after_trace, complete,
        "nothing added when nothing is missing"
    );

    // AUTH PLAIN without an initial response: an empty challenge first (RFC 4954 §4).
    let (mut client, _) = world.starttls_session();
    assert_eq!(client.command("AUTH PLAIN"), "334 ");
    assert_eq!(client.command(&plain(&martin(), PASSWORD)), AUTH_OK);

    let successes = world.audit_details("auth.success");
    let mechanisms: Vec<String> = successes.iter().map(|d| text(d, "mechanism")).collect();
    assert_eq!(mechanisms, ["PLAIN", "LOGIN", "PLAIN"]);
    assert!(
        successes
            .iter()
            .all(|d| text(d, "protocol") == "submission")
    );
    assert_eq!(
        text(&successes[0], "identity"),
        format!("mailbox-user address=\"{}\"", martin())
    );
    let accepted = world.audit_details("submission.message");
    assert_eq!(accepted.len(), 2);
    assert_eq!(text(&accepted[0], "message_id"), format!("<{id}@mail.{A}>"));
    assert_eq!(text(&accepted[0], "sender"), martin());
}

#[test]
fn pro_sante_connect_tokens_authenticate_the_owner_of_the_mailbox() {
    let world = world(BIN);
    let token = world
        .issuer
        .sign(&world.issuer.claims(OWNER, AUDIENCE, 300));
    let mechanisms = [
        ("XOAUTH2", xoauth2(&martin(), &token)),
        ("OAUTHBEARER", oauthbearer(&martin(), &token)),
    ];
    for (mechanism, initial) in &mechanisms {
        let (mut client, _) = world.starttls_session();
        assert_eq!(
            client.command(&format!("AUTH {mechanism} {initial}")),
            AUTH_OK,
            "{mechanism}"
        );
        let body = format!("Subject: via {mechanism}\r\n\r\nJeton accepte\r\n");
        let reply = client.send_message(&martin(), &[&secretariat()], body.as_bytes());
        stored_id(&reply);
    }
    let stored = world.inbox(&secretariat());
    assert_eq!(stored.len(), 2);
    for (message, (mechanism, _)) in stored.iter().zip(&mechanisms) {
        assert!(
            message.contains(&format!("Subject: via {mechanism}\r\n")),
            "{message}"
        );
        assert!(message.contains(" with ESMTPSA\r\n"), "{message}");
    }
    let successes = world.audit_details("auth.success");
    let seen: Vec<(String, String)> = successes
        .iter()
        .map(|d| (text(d, "mechanism"), text(d, "identity")))
        .collect();
    let professional = format!("professional id_nat_ps=\"{OWNER}\"");
    assert_eq!(
        seen,
        [
            ("XOAUTH2".to_string(), professional.clone()),
            ("OAUTHBEARER".to_string(), professional)
        ]
    );
}

#[test]
fn refused_tokens_get_the_json_error_challenge_then_535_and_an_audit_line() {
    let world = world(BIN);
    let issuer = &world.issuer;
    let impostor = TokenIssuer::new(ISSUER);
    // Signed with our key, so the issuer check is what refuses it.
    let wrong_issuer_claims = {
        let mut claims = issuer.claims(OWNER, AUDIENCE, 300);
        claims["iss"] = Value::String("https://auth.example.com/realms/other".into());
        claims
    };
    // (what, mechanism, token, what the audit detail must name)
    let cases = [
        (
            "signed by another key",
            "XOAUTH2",
            impostor.sign(&impostor.claims(OWNER, AUDIENCE, 300)),
            "signature does not verify",
        ),
        (
            "expired",
            "OAUTHBEARER",
            issuer.sign(&issuer.claims(OWNER, AUDIENCE, -3600)),
            "token expired at",
        ),
        (
            "wrong issuer",
            "XOAUTH2",
            issuer.sign(&wrong_issuer_claims),
            "is not the configured issuer",
        ),
        (
            "wrong audience",
            "OAUTHBEARER",
            issuer.sign(&issuer.claims(OWNER, "another-service", 300)),
            "does not contain the configured audience",
        ),
    ];
    for (what, mechanism, token, _) in &cases {
        let (mut client, _) = world.starttls_session();
        let initial = match *mechanism {
            "XOAUTH2" => xoauth2(&martin(), token),
            _ => oauthbearer(&martin(), token),
        };
        let challenge = client.command(&format!("AUTH {mechanism} {initial}"));
        let json = challenge
            .strip_prefix("334 ")
            .unwrap_or_else(|| panic!("{what}: no 334 challenge: {challenge}"));
        let error: Value = serde_json::from_str(&decode_base64(json)).expect("JSON challenge");
        assert_eq!(
            error,
            serde_json::json!({"status": "invalid_token", "schemes": "bearer", "scope": "openid"}),
            "{what}"
        );
        assert_eq!(client.command("AQ=="), BAD_CREDENTIALS, "{what}");
        assert_eq!(
            mail_from(&mut client, &martin()),
            AUTH_REQUIRED,
            "{what}: not authenticated"
        );
    }
    let failures = world.audit_details("auth.failure");
    assert_eq!(failures.len(), cases.len(), "{failures:#?}");
    for (failure, (what, mechanism, _, detail)) in failures.iter().zip(&cases) {
        assert_eq!(text(failure, "mechanism"), *mechanism, "{what}");
        assert_eq!(text(failure, "reason"), "token_rejected", "{what}");
        assert!(
            text(failure, "detail").contains(detail),
            "{what}: {failure}"
        );
    }
    assert!(world.audit_details("auth.success").is_empty());
    assert_eq!(
        world.auth_failures_metric(),
        cases.len() as f64,
        "one count per refused token (the JSON challenge and the client's ^A are one attempt)"
    );
}

#[test]
fn external_on_implicit_tls_authenticates_the_app_mailbox_of_the_certificate() {
    let world = world(BIN);
    let addr = world.server.addr("submissions");
    let with_cert = world.tls_config(Some((&world.op.pki("app.pem"), &world.op.pki("app.key"))));
    let stream = tls_connect(addr, &format!("mail.{A}"), with_cert).expect("TLS on 465");
    let mut client = LineClient::new(stream);
    assert_eq!(reply(&mut client), format!("220 mail.{A} ESMTP mssd"));
    let ehlo = command(&mut client, "EHLO lgc.test");
    assert!(
        announces(&ehlo, "AUTH EXTERNAL XOAUTH2 OAUTHBEARER PLAIN LOGIN"),
        "{ehlo}"
    );
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert_eq!(command(&mut client, "AUTH EXTERNAL ="), AUTH_OK);
    assert_eq!(
        command(&mut client, &format!("MAIL FROM:<{}>", app())),
        "250 2.1.0 Sender OK"
    );
    assert_eq!(
        command(&mut client, &format!("RCPT TO:<{}>", martin())),
        "250 2.1.5 Recipient OK"
    );
    assert!(command(&mut client, "DATA").starts_with("354 "));
    client.send("Subject: resultat\r\n\r\nResultat de biologie disponible\r\n.");
    let id = stored_id(&reply(&mut client));
    assert_eq!(command(&mut client, "QUIT"), "221 2.0.0 Bye");
    let stored = world.inbox(&martin());
    assert_eq!(stored.len(), 1);
    let message = &stored[0];
    assert!(
        message.contains(" with ESMTPSA\r\n") && message.contains(&id),
        "{message}"
    );

    // Without a certificate, EXTERNAL is neither offered nor accepted.
    let stream = tls_connect(addr, &format!("mail.{A}"), world.tls_config(None)).unwrap();
    let mut client = LineClient::new(stream);
    reply(&mut client);
    let ehlo = command(&mut client, "EHLO anonymous.test");
    assert!(!ehlo.contains("EXTERNAL"), "{ehlo}");
    assert_eq!(
        command(&mut client, "AUTH EXTERNAL ="),
        "504 5.5.4 Authentication mechanism not available here"
    );

    let successes = world.audit_details("auth.success");
    assert_eq!(successes.len(), 1, "{successes:#?}");
    assert_eq!(text(&successes[0], "mechanism"), "EXTERNAL");
    assert!(
        text(&successes[0], "certificate_dn").contains(&format!("app.{A}")),
        "{}",
        successes[0]
    );
    assert!(
        text(&successes[0], "identity").starts_with("application dn="),
        "{}",
        successes[0]
    );
}

#[test]
fn no_auth_before_tls_and_no_mail_before_auth() {
    let world = world(BIN);
    let (mut client, greeting) = SmtpClient::connect(world.server.addr("submission"));
    assert!(greeting.starts_with("220 "), "{greeting}");
    let ehlo = client.command("EHLO client.test");
    assert!(announces(&ehlo, "STARTTLS"), "{ehlo}");
    assert!(!ehlo.contains("AUTH"), "no AUTH before TLS: {ehlo}");
    let tls_required = "530 5.7.0 Must issue a STARTTLS command first";
    assert_eq!(
        client.command(&format!("AUTH PLAIN {}", plain(&martin(), PASSWORD))),
        tls_required
    );
    assert_eq!(client.command("AUTH LOGIN"), tls_required);
    assert_eq!(mail_from(&mut client, &martin()), tls_required);
    let (mut client, ehlo) = client
        .starttls(&format!("mail.{A}"), world.tls_config(None))
        .expect("STARTTLS");
    assert!(ehlo.contains("AUTH "), "{ehlo}");
    assert_eq!(mail_from(&mut client, &martin()), AUTH_REQUIRED);
    assert_eq!(
        client.command(&format!("RCPT TO:<{}>", secretariat())),
        "503 5.5.1 Need MAIL before RCPT"
    );
    assert!(world.audit_details("auth.success").is_empty());
    assert!(world.inbox(&secretariat()).is_empty());

    let refused: Vec<String> = world
        .audit_details("submission.refused")
        .iter()
        .map(|d| text(d, "reply"))
        .collect();
    let missing: Vec<&str> = [tls_required, AUTH_REQUIRED]
        .into_iter()
        .filter(|expected| !refused.iter().any(|r| r.starts_with(expected)))
        .collect();
    assert!(
        missing.is_empty(),
        "refusals without an audit line: {missing:?}; audited: {refused:?}"
    );
}

#[test]
fn a_forged_sender_is_refused_and_audited() {
    let world = world(BIN);
    let mut client = world.logged_in(&martin(), PASSWORD);
    let forged = "553 5.7.1 Sender address is not a mailbox the authenticated identity may send as";
    assert_eq!(mail_from(&mut client, &secretariat()), forged);
    assert_eq!(client.command(&format!("MAIL FROM:<someone@{B}>")), forged);
    assert_eq!(client.command("MAIL FROM:<>"), forged);
    // The session goes on: its own address is accepted, whatever the case of the local part.
    assert_eq!(
        client.command(&format!("MAIL FROM:<Dr.Martin@{A}>")),
        "250 2.1.0 Sender OK"
    );

    let refused = world.audit_details("submission.refused");
    let addresses: Vec<String> = refused.iter().map(|d| text(d, "address")).collect();
    assert_eq!(
        addresses,
        [secretariat(), format!("someone@{B}"), "<>".to_string()]
    );
    for detail in &refused {
        assert_eq!(text(detail, "stage"), "mail");
        assert!(text(detail, "reply").starts_with("553 5.7.1 "), "{detail}");
        assert_eq!(
            text(detail, "identity"),
            format!("mailbox-user address=\"{}\"", martin())
        );
    }
}

#[test]
fn recipients_outside_the_trust_space_are_refused_and_listed_remote_ones_queued() {
    let world = world(BIN);
    let mut client = world.logged_in(&martin(), PASSWORD);
    assert_eq!(mail_from(&mut client, &martin()), "250 2.1.0 Sender OK");
    assert_eq!(
        client.command(&format!("RCPT TO:<patient@{OUTSIDE}>")),
        format!(
            "550 5.7.1 {OUTSIDE} is outside the MSSanté trust space (not on the liste blanche)"
        )
    );
    assert_eq!(
        client.command(&format!("RCPT TO:<secretariat@{B}>")),
        "250 2.1.5 Recipient OK"
    );
    assert_eq!(
        client.command("DATA"),
        "354 End data with <CR><LF>.<CR><LF>"
    );
    client.send_raw(b"Subject: adressage\r\n\r\nPatient adresse\r\n.\r\n");
    let id = stored_id(&client.reply());

    let queue = mssd_e2e::store::queue(&world.op.data_dir());
    let queued: Vec<&Vec<String>> = queue.iter().map(|(recipients, _)| recipients).collect();
    assert_eq!(queued, [&vec![format!("secretariat@{B}")]], "{queue:?}");

    let refused = world.audit_details("submission.refused");
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(text(&refused[0], "stage"), "rcpt");
    assert_eq!(text(&refused[0], "address"), format!("patient@{OUTSIDE}"));
    assert!(text(&refused[0], "reply").starts_with("550 5.7.1 "));
    let accepted = world.audit_details("submission.message");
    assert_eq!(accepted.len(), 1);
    assert_eq!(text(&accepted[0], "id"), id);
    assert_eq!(
        accepted[0]["recipients"],
        serde_json::json!([format!("secretariat@{B}")])
    );
}

#[test]
fn five_failed_passwords_from_one_ip_throttle_even_the_right_password() {
    let world = world(BIN);
    let (mut client, _) = world.starttls_session();
    // Five wrong passwords for one account from one IP: that (IP, account) pair is throttled
    // (another IP is not: tests/e2e/auth_limits.rs).
    for _ in 0..5 {
        let reply = client.command(&format!(
            "AUTH PLAIN {}",
            plain(&martin(), "wrong password")
        ));
        assert_eq!(reply, BAD_CREDENTIALS);
    }
    let (mut client, _) = world.starttls_session();
    let reply = client.command(&format!("AUTH PLAIN {}", plain(&martin(), PASSWORD)));
    assert!(
        reply.starts_with("454 4.7.0 Too many failed authentications, try again in "),
        "{reply}"
    );
    assert_eq!(mail_from(&mut client, &martin()), AUTH_REQUIRED);

    let failures = world.audit_details("auth.failure");
    assert_eq!(failures.len(), 5, "{failures:#?}");
    assert!(
        failures
            .iter()
            .all(|d| text(d, "reason") == "invalid_credentials")
    );
    let throttled = world.audit_details("auth.throttled");
    assert_eq!(throttled.len(), 1, "{throttled:#?}");
    assert_eq!(text(&throttled[0], "reason"), "throttled");
    assert!(
        throttled[0]["retry_after_secs"]
            .as_u64()
            .is_some_and(|s| s > 0)
    );
    assert!(world.audit_details("auth.success").is_empty());
}

#[test]
fn a_suspended_mailbox_cannot_log_in_with_its_right_password() {
    let world = world(BIN);
    let (mut client, _) = world.starttls_session();
    let reply = client.command(&format!("AUTH PLAIN {}", plain(&suspended(), PASSWORD)));
    assert!(reply.starts_with("535 5.7.8 "), "{reply}");
    assert_eq!(client.command("AUTH LOGIN"), LOGIN_USERNAME);
    assert_eq!(client.command(&base64(&suspended())), LOGIN_PASSWORD);
    assert!(client.command(&base64(PASSWORD)).starts_with("535 5.7.8 "));
    assert_eq!(mail_from(&mut client, &suspended()), AUTH_REQUIRED);
    let failures = world.audit_details("auth.failure");
    let reasons: Vec<String> = failures.iter().map(|d| text(d, "reason")).collect();
    assert_eq!(reasons, ["mailbox_suspended", "mailbox_suspended"]);
}

/// What users run: Python's smtplib logs in on 587 after STARTTLS and on 465 with implicit
/// TLS, and its messages are delivered.
#[test]
fn python_smtplib_submits_on_587_and_465() {
    let world = world(BIN);
    let script = format!(
        r#"
import smtplib, ssl
ctx = ssl.create_default_context(cafile="{root}")
ctx.check_hostname = False
with smtplib.SMTP("127.0.0.1", {submission}, local_hostname="poste.test", timeout=30) as s:
    s.starttls(context=ctx)
    s.login("{martin}", "{password}")
    assert s.sendmail("{martin}", ["{secretariat}"], b"Subject: 587\r\n\r\nvia starttls\r\n") == {{}}
with smtplib.SMTP_SSL("127.0.0.1", {submissions}, local_hostname="poste.test", timeout=30, context=ctx) as s:
    s.login("{secretariat}", "{org_password}")
    assert s.sendmail("{secretariat}", ["{martin}"], b"Subject: 465\r\n\r\nvia implicit TLS\r\n") == {{}}
print("sent")
"#,
        root = world.op.pki("root.pem").display(),
        submission = world.server.addr("submission").port(),
        submissions = world.server.addr("submissions").port(),
        martin = martin(),
        secretariat = secretariat(),
        password = PASSWORD,
        org_password = ORG_PASSWORD,
    );
    mssd_e2e::python::run_python(&script, &[]);
    for (mailbox, subject, body) in [
        (secretariat(), "587", "via starttls"),
        (martin(), "465", "via implicit TLS"),
    ] {
        let stored = world.inbox(&mailbox);
        assert_eq!(stored.len(), 1, "{mailbox}");
        assert!(stored[0].contains(" with ESMTPSA\r\n"), "{}", stored[0]);
        assert!(
            stored[0].contains(&format!("Subject: {subject}\r\n"))
                && stored[0].ends_with(&format!("\r\n\r\n{body}\r\n")),
            "{}",
            stored[0]
        );
        assert_eq!(
            fields_named(header_block(&stored[0]), "Message-ID").len(),
            1
        );
    }
}

#[test]
fn a_delegated_org_mailbox_may_be_sent_as_until_revoked() {
    let world = world(BIN);
    let forged = "553 5.7.1 Sender address is not a mailbox the authenticated identity may send as";
    let grant = |rights: &str| {
        let out = world.op.cli(
            &[
                "mailbox",
                "grant",
                &secretariat(),
                "--to",
                &martin(),
                "--rights",
                rights,
            ],
            None,
        );
        assert!(out.status.success(), "{}", out.stderr);
        out.stdout
    };
    // Read only: no sending as the ORG mailbox.
    assert!(grant("read").contains("may read"));
    let mut client = world.logged_in(&martin(), PASSWORD);
    assert_eq!(mail_from(&mut client, &secretariat()), forged);
    // With the send right: accepted, and the message goes through.
    assert!(grant("read,send").contains("may read,send"));
    let mut client = world.logged_in(&martin(), PASSWORD);
    let body = format!(
        "From: <{}>\r\nSubject: delegation\r\n\r\nsent for the team\r\n",
        secretariat()
    );
    let reply = client.send_message(&secretariat(), &[&martin()], body.as_bytes());
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    // Revoked: refused again, and every change is in the audit trail.
    let out = world.op.cli(
        &["mailbox", "revoke", &secretariat(), "--to", &martin()],
        None,
    );
    assert!(out.status.success(), "{}", out.stderr);
    let mut client = world.logged_in(&martin(), PASSWORD);
    assert_eq!(mail_from(&mut client, &secretariat()), forged);
    assert_eq!(world.audit_details("mailbox.grant").len(), 2);
    assert_eq!(world.audit_details("mailbox.revoke").len(), 1);
}
