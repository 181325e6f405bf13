//! End-to-end: what a hostile client or sender can make the real IMAP server do — a message
//! nested thousands of MIME levels deep, huge lines and literals before login — and that the
//! server answers and stays up, within a bounded memory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mssd_e2e::ImapClient;
use mssd_e2e::process::proc_status_kib;
use mssd_e2e::submission_world::{A, PASSWORD, World, martin, world, world_with};

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

/// Reads what the server sends until it closes or `within` passes; whether it closed.
fn closed_within(stream: &mut TcpStream, within: Duration) -> (bool, String) {
    let start = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while start.elapsed() < within {
        match stream.read(&mut buf) {
            Ok(0) => return (true, String::from_utf8_lossy(&seen).into_owned()),
            Ok(n) => seen.extend_from_slice(&buf[..n.min(4096)]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return (true, String::from_utf8_lossy(&seen).into_owned()),
        }
    }
    (false, String::from_utf8_lossy(&seen).into_owned())
}

/// Ten clients that have not logged in each announce a 40 MB LOGIN literal, then ten send a
/// 40 MB line: the server refuses both after a few KiB, so its memory barely moves (it grew
/// from 70 to 553 MB, and stayed there, when it accepted them).
#[test]
fn huge_literals_and_lines_before_login_are_refused_early() {
    let world = world(BIN);
    let addr = world.server.addr("imap");
    let pid = world.server.pid();
    let before = proc_status_kib(pid, "VmRSS");
    let forty_mb = vec![b'x'; 40 << 20];
    let mut replies = Vec::new();
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for i in 0..20 {
            let data = &forty_mb;
            handles.push(scope.spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                let mut greeting = [0u8; 512];
                let _ = stream.read(&mut greeting).unwrap();
                let head = if i % 2 == 0 {
                    format!("a{i} LOGIN {{{}}}\r\n", data.len())
                } else {
                    String::new()
                };
                stream.write_all(head.as_bytes()).unwrap();
                // The server should answer at once and never invite the data: write it anyway,
                // as a hostile client would, until the server closes.
                stream
                    .set_write_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let _ = stream.write_all(data);
                let (_, seen) = closed_within(&mut stream, Duration::from_secs(10));
                seen
            }));
        }
        for handle in handles {
            replies.push(handle.join().unwrap());
        }
    });
    let peak = proc_status_kib(pid, "VmHWM");
    eprintln!("VmRSS before {before} KiB, VmHWM after {peak} KiB");
    for (i, seen) in replies.iter().enumerate() {
        assert!(
            !seen.contains("\r\n+ "),
            "client {i} was invited to send: {seen}"
        );
        let expected = if i % 2 == 0 {
            "BAD [TOOBIG]"
        } else {
            "BYE [TOOBIG]"
        };
        assert!(seen.contains(expected), "client {i}: {seen}");
    }
    assert!(
        peak < before + 64 * 1024,
        "peak {peak} KiB for {before} KiB before: the server buffered the input"
    );
}

/// Before login the time is for the whole login, not per byte: a client trickling a byte
/// every half second is cut at `imap.login_timeout`; one that never reads its replies too.
#[test]
fn trickling_and_non_reading_clients_are_cut_at_the_login_deadline() {
    let world = world_with(BIN, "[imap]\nlogin_timeout = \"3s\"\n");
    let addr = world.server.addr("imap");
    let start = Instant::now();
    let mut trickler = TcpStream::connect(addr).unwrap();
    trickler
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut closed = false;
    for byte in b"a CAPABILITY and more and more and more"
        .iter()
        .cycle()
        .take(40)
    {
        if trickler.write_all(&[*byte]).is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 4096];
        if let Ok(0) = trickler.read(&mut buf) {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(400));
    }
    assert!(closed, "a trickling client was still connected after 16 s");
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );

    // Commands sent without ever reading the replies: the writes stall, and the deadline
    // still applies.
    let mut deaf = TcpStream::connect(addr).unwrap();
    deaf.set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let commands = "a NOOP\r\n".repeat(200_000);
    let _ = deaf.write_all(commands.as_bytes());
    std::thread::sleep(Duration::from_secs(4));
    let (closed, _) = closed_within(&mut deaf, Duration::from_secs(20));
    assert!(closed, "a client that never reads was still connected");
}
