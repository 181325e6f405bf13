//! End-to-end: IMAP of the real `mssd` (143 with STARTTLS, 993 with implicit TLS) — logins and
//! their audit trail, reading and filing delivered mail, APPEND, folders, CONDSTORE, IDLE,
//! shared ORG mailboxes, quotas and the errors a client may provoke.

use std::time::Duration;

use mssd_e2e::peers::plain;
use mssd_e2e::submission::{stored_id, text};
use mssd_e2e::submission_world::{A, ORG_PASSWORD, PASSWORD, World, martin, secretariat, world};
use mssd_e2e::{ImapClient, Reply, Untagged};

#[path = "imap/folders.rs"]
mod folders;
#[path = "imap/messages.rs"]
mod messages;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

fn run<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test)
}

fn host() -> String {
    format!("mail.{A}")
}

/// A session on 143 after STARTTLS, not logged in.
async fn starttls(world: &World) -> ImapClient {
    let (mut client, greeting) = ImapClient::connect_plain(world.server.addr("imap"))
        .await
        .unwrap();
    assert!(greeting.starts_with("* OK "), "{greeting}");
    let reply = client.starttls(world.tls_config(None), &host()).await;
    let reply = reply.expect("STARTTLS handshake");
    assert!(reply.is_ok(), "STARTTLS: {}", reply.describe());
    client
}

/// A session on 143 after STARTTLS and LOGIN.
async fn session(world: &World, user: &str, password: &str) -> ImapClient {
    let mut client = starttls(world).await;
    let reply = client.login(user, password).await.unwrap();
    assert!(reply.is_ok(), "LOGIN {user}: {}", reply.describe());
    client
}

/// Sends `cmd` and asserts a tagged OK.
async fn ok(client: &mut ImapClient, cmd: &str) -> Reply {
    let reply = client.command(cmd).await.unwrap();
    assert!(reply.is_ok(), "{cmd}: {}", reply.describe());
    reply
}

/// Sends `cmd` and asserts the tagged status and, if given, the response code.
async fn refused(client: &mut ImapClient, cmd: &str, status: &str, code: Option<&str>) {
    let reply = client.command(cmd).await.unwrap();
    assert_eq!(reply.status(), status, "{cmd}: {}", reply.describe());
    if code.is_some() {
        assert_eq!(reply.code(), code, "{cmd}: {}", reply.describe());
    }
}

fn text_message(from: &str, to: &str, subject: &str, body: &str) -> String {
    format!("From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\n{body}")
}

/// Sends `messages` by SMTP submission from `from` to `to`, each accepted.
fn deliver(world: &World, from: &str, password: &str, to: &str, messages: &[String]) {
    let mut smtp = world.logged_in(from, password);
    for message in messages {
        stored_id(&smtp.send_message(from, &[to], message.as_bytes()));
    }
}

/// The FETCH response for message `n`.
fn fetch_of(reply: &Reply, n: u32) -> &Untagged {
    let prefix = format!("{n} FETCH (");
    let found = reply.untagged_starting(&prefix);
    assert_eq!(found.len(), 1, "one FETCH {n} in {}", reply.describe());
    found[0]
}

/// The numbers of the SEARCH response.
fn search_numbers(reply: &Reply) -> Vec<u32> {
    let lines = reply.untagged_starting("SEARCH");
    assert_eq!(lines.len(), 1, "{}", reply.describe());
    let numbers = lines[0].line["SEARCH".len()..].split('(').next().unwrap();
    numbers
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

/// The value of an untagged `OK [NAME value]`.
fn untagged_code(reply: &Reply, name: &str) -> String {
    let prefix = format!("OK [{name} ");
    let line = &reply.untagged_starting(&prefix)[0].line[prefix.len()..];
    line[..line.find(']').unwrap()].to_string()
}

/// (attributes, name) of each LIST or LSUB response, names unquoted.
fn listed(reply: &Reply) -> Vec<(String, String)> {
    let rows = reply.untagged.iter();
    rows.filter(|u| u.line.starts_with("LIST (") || u.line.starts_with("LSUB ("))
        .map(|u| {
            let (attrs, rest) = u.line[6..].split_once(") ").unwrap();
            let name = rest.split_once(' ').unwrap().1;
            let name = match u.literals.first() {
                Some(literal) => String::from_utf8_lossy(literal).into_owned(),
                None => name
                    .trim_matches('"')
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\"),
            };
            (attrs.to_string(), name)
        })
        .collect()
}

fn names(reply: &Reply) -> Vec<String> {
    listed(reply).into_iter().map(|(_, name)| name).collect()
}

/// The items of the STATUS response ("MESSAGES 2 UNSEEN 1"), whether the name is quoted or not.
fn status_items(reply: &Reply) -> String {
    let line = &reply.untagged_starting("STATUS ")[0].line;
    let items = &line[line.rfind('(').unwrap() + 1..];
    items.trim_end_matches(')').to_string()
}

fn capabilities(reply: &Reply) -> Vec<String> {
    let line = &reply.untagged_starting("CAPABILITY ")[0].line;
    // Capability names are atoms: case-insensitive (RFC 9051 §7.2.2).
    line.split(' ').skip(1).map(str::to_uppercase).collect()
}

#[test]
fn starttls_is_required_before_login_and_implicit_tls_needs_none() {
    let world = world(BIN);
    run(async {
        let addr = world.server.addr("imap");
        let (mut client, greeting) = ImapClient::connect_plain(addr).await.unwrap();
        assert!(greeting.starts_with("* OK [CAPABILITY "), "{greeting}");
        for word in [" IMAP4REV1", " STARTTLS", " LOGINDISABLED"] {
            assert!(
                greeting.to_uppercase().contains(word),
                "{word} in {greeting}"
            );
        }
        assert!(!greeting.contains("AUTH="), "{greeting}");
        let login = format!("LOGIN \"{}\" \"{PASSWORD}\"", martin());
        refused(&mut client, &login, "NO", Some("PRIVACYREQUIRED")).await;
        let sasl = format!("AUTHENTICATE PLAIN {}", plain(&martin(), PASSWORD));
        refused(&mut client, &sasl, "NO", Some("PRIVACYREQUIRED")).await;

        let reply = client.starttls(world.tls_config(None), &host()).await;
        assert!(reply.unwrap().is_ok());
        let caps = capabilities(&ok(&mut client, "CAPABILITY").await);
        for word in [
            "AUTH=PLAIN",
            "AUTH=LOGIN",
            "IDLE",
            "MOVE",
            "UIDPLUS",
            "LITERAL+",
        ] {
            assert!(caps.iter().any(|c| c == word), "{word} in {caps:?}");
        }
        assert!(!caps.iter().any(|c| c == "LOGINDISABLED" || c == "STARTTLS"));
        let reply = client.login(&martin(), PASSWORD).await.unwrap();
        assert!(
            reply.code().unwrap().starts_with("CAPABILITY "),
            "{reply:?}"
        );

        let addr = world.server.addr("imaps");
        let tls = world.tls_config(None);
        let (mut client, greeting) = ImapClient::connect_tls(addr, tls, &host()).await.unwrap();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        assert!(!greeting.contains("LOGINDISABLED"), "{greeting}");
        assert!(client.login(&martin(), PASSWORD).await.unwrap().is_ok());
        ok(&mut client, "SELECT INBOX").await;
    });
}

#[test]
fn logins_and_failures_are_in_the_audit_trail() {
    let world = world(BIN);
    run(async {
        session(&world, &martin(), PASSWORD).await;
        let mut client = starttls(&world).await;
        let sasl = format!("AUTHENTICATE PLAIN {}", plain(&secretariat(), ORG_PASSWORD));
        let reply = ok(&mut client, &sasl).await;
        assert!(
            reply.code().unwrap().starts_with("CAPABILITY "),
            "{reply:?}"
        );
        let mut client = starttls(&world).await;
        let reply = client.login(&martin(), "wrong password").await.unwrap();
        assert_eq!(reply.status(), "NO");
        assert_eq!(reply.code(), Some("AUTHENTICATIONFAILED"));
        ok(&mut client, "LOGOUT").await;
    });
    let World { op, server, .. } = world;
    server.terminate(Duration::from_secs(30));
    let imap: Vec<_> = mssd_e2e::store::audit(&op.data_dir())
        .into_iter()
        .filter(|(kind, _, d)| kind.starts_with("auth.") && text(d, "protocol").starts_with("imap"))
        .collect();
    let successes: Vec<_> = imap.iter().filter(|r| r.0 == "auth.success").collect();
    let identities: Vec<String> = successes.iter().map(|r| text(&r.2, "identity")).collect();
    let expected = [martin(), secretariat()].map(|a| format!("mailbox-user address=\"{a}\""));
    assert_eq!(identities, expected);
    assert_eq!(text(&successes[1].2, "mechanism"), "PLAIN");
    let failures: Vec<_> = imap.iter().filter(|r| r.0 == "auth.failure").collect();
    assert_eq!(failures.len(), 1, "{imap:?}");
    assert!(!text(&failures[0].2, "reason").is_empty(), "{failures:?}");
}

#[test]
fn errors_leave_the_connection_usable() {
    let world = world(BIN);
    run(async {
        let mut client = starttls(&world).await;
        let select = client.command("SELECT INBOX").await.unwrap();
        assert!(!select.is_ok(), "SELECT before login: {select:?}");
        refused(&mut client, "FETCH 1 (FLAGS)", "BAD", None).await;
        assert!(client.login(&martin(), PASSWORD).await.unwrap().is_ok());
        refused(&mut client, "FETCH 1 (FLAGS)", "BAD", None).await;
        for n in 1..=3 {
            let message = format!("Subject: {n}\r\n\r\nCorps {n}.\r\n");
            assert!(
                client
                    .append("INBOX", "", message.as_bytes(), true)
                    .await
                    .unwrap()
                    .is_ok()
            );
        }
        ok(&mut client, "SELECT INBOX").await;
        for cmd in [
            "UID FETCH 999999 (FLAGS)",
            "UID STORE 999999 +FLAGS (\\Seen)",
            "UID COPY 999999 Trash",
        ] {
            let reply = ok(&mut client, cmd).await;
            assert!(
                reply.untagged_starting("").is_empty(),
                "{cmd}: {}",
                reply.describe()
            );
        }
        refused(&mut client, "FETCH 99 (FLAGS)", "BAD", None).await;

        let tag = client.next_tag();
        let huge = format!("{tag} APPEND INBOX {{1073741824}}\r\n");
        client.send_raw(huge.as_bytes()).await.unwrap();
        assert_eq!(client.read_reply(&tag).await.unwrap().status(), "BAD");
        ok(&mut client, "NOOP").await;
        refused(&mut client, "FETCH 1 (FLAGS", "BAD", None).await;
        refused(&mut client, "FROBNICATE INBOX", "BAD", None).await;
        ok(&mut client, "NOOP").await;
        let logout = ok(&mut client, "LOGOUT").await;
        assert_eq!(
            logout.untagged_starting("BYE").len(),
            1,
            "{}",
            logout.describe()
        );
    });
}
