//! End-to-end: what a hostile client or sender can make the real IMAP server do — a message
//! nested thousands of MIME levels deep, huge lines and literals before login — and that the
//! server answers and stays up, within a bounded memory.

use mssd_e2e::ImapClient;
use mssd_e2e::submission_world::{A, PASSWORD, World, martin, world};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

fn run<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test)
}

/// A session on 143 after STARTTLS and LOGIN.
async fn session(world: &World) -> ImapClient {
    let mut client = starttls(world).await;
    let reply = client.login(&martin(), PASSWORD).await.unwrap();
    assert!(reply.is_ok(), "LOGIN: {}", reply.describe());
    client
}

async fn starttls(world: &World) -> ImapClient {
    let (mut client, _) = ImapClient::connect_plain(world.server.addr("imap"))
        .await
        .unwrap();
    let reply = client
        .starttls(world.tls_config(None), &format!("mail.{A}"))
        .await
        .expect("STARTTLS");
    assert!(reply.is_ok(), "STARTTLS: {}", reply.describe());
    client
}

/// `levels` multiparts, each holding the next (the 139 KB message of the review had 2,000).
fn nested(levels: usize) -> Vec<u8> {
    let mut out = format!(
        "From: <{}>\r\nTo: <{}>\r\nSubject: deep\r\nMIME-Version: 1.0\r\n",
        martin(),
        martin()
    );
    for level in 0..levels {
        out.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
        ));
    }
    out.push_str("Content-Type: text/plain\r\n\r\nneedle\r\n");
    for level in (0..levels).rev() {
        out.push_str(&format!("--b{level}--\r\n"));
    }
    out.into_bytes()
}

#[test]
fn deeply_nested_message_is_served_and_the_server_stays_up() {
    let world = world(BIN);
    run(async {
        let mut client = session(&world).await;
        let message = nested(2_000);
        let reply = client.append("INBOX", "", &message, true).await.unwrap();
        assert!(reply.is_ok(), "APPEND: {}", reply.describe());
        client.command("SELECT INBOX").await.unwrap();
        for cmd in [
            "FETCH 1 (BODYSTRUCTURE)",
            "FETCH 1 (BODY ENVELOPE)",
            "FETCH 1 (BODY.PEEK[1.1.1.1.1])",
            "SEARCH BODY needle",
            "SEARCH TEXT deep",
        ] {
            let reply = client.command(cmd).await.unwrap();
            assert!(reply.is_ok(), "{cmd}: {}", reply.describe());
        }
        let reply = client.command("FETCH 1 (BODYSTRUCTURE)").await.unwrap();
        let text = reply.describe().to_ascii_lowercase();
        assert!(text.contains("\"application\" \"octet-stream\""), "{text}");
        // A new connection still works: the server did not die.
        let mut other = session(&world).await;
        let reply = other.command("NOOP").await.unwrap();
        assert!(reply.is_ok(), "{}", reply.describe());
    });
}
