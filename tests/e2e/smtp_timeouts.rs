//! End-to-end: SMTP sessions end on time whatever the client does: a byte every so often
//! before authentication does not extend the login deadline (ports 25 and 587), a command
//! trickled after authentication is cut at the command timeout, and a client that never
//! reads its replies is cut off too. A session that loops without delivering is closed after
//! 10,000 commands; one that keeps delivering is not.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mssd_e2e::submission_world::{PASSWORD, martin, world_with};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const CONFIG: &str = "[smtp]\nlogin_timeout = \"3s\"\ncommand_timeout = \"3s\"\n";

/// Sends one byte of `text` every 400 ms until the server closes; the time that took.
fn trickle(stream: &mut TcpStream, text: &[u8]) -> (Duration, String) {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut seen = Vec::new();
    for byte in text.iter().cycle().take(60) {
        if stream.write_all(&[*byte]).is_err() {
            break;
        }
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(400));
    }
    (start.elapsed(), String::from_utf8_lossy(&seen).into_owned())
}

#[test]
fn trickling_clients_are_cut_at_the_deadlines() {
    let world = world_with(BIN, CONFIG);
    for listener in ["smtp", "submission"] {
        let mut stream = TcpStream::connect(world.server.addr(listener)).unwrap();
        let (took, seen) = trickle(&mut stream, b"EHLO slow.example\r\n");
        assert!(
            took < Duration::from_secs(10),
            "{listener}: still open after {took:?}"
        );
        assert!(seen.contains("421 4.4.2"), "{listener}: {seen}");
    }

    // Logged in, a command line trickled byte by byte still has to end in time: the
    // deadline runs from the previous command (a per-byte timeout would end 3 s after the
    // last byte, at about 5.4 s).
    let mut client = world.logged_in(&martin(), PASSWORD);
    let start = Instant::now();
    for byte in b"NOOP".iter().cycle().take(6) {
        client.send_raw(&[*byte]);
        std::thread::sleep(Duration::from_millis(400));
    }
    let reply = client.reply();
    assert!(reply.starts_with("421 4.4.2"), "{reply}");
    assert!(
        start.elapsed() < Duration::from_millis(4500),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_client_that_never_reads_is_cut_off() {
    let world = world_with(BIN, CONFIG);
    let mut stream = TcpStream::connect(world.server.addr("submission")).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    // Far more replies than the socket buffers hold, and never a read.
    let _ = stream.write_all("NOOP\r\n".repeat(400_000).as_bytes());
    std::thread::sleep(Duration::from_secs(5));
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let start = Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) if start.elapsed() < Duration::from_secs(20) => break true,
            Ok(_) if start.elapsed() < Duration::from_secs(20) => continue,
            _ => break false,
        }
    };
    assert!(
        closed,
        "the server still writes to a client that never reads"
    );
}

/// Sends `n` pipelined NOOPs and reads their replies; the last reply read.
fn noops(client: &mut mssd_e2e::clients::SmtpClient, n: usize) -> String {
    client.send_raw(&b"NOOP\r\n".repeat(n));
    let mut last = String::new();
    for _ in 0..n {
        last = client.reply();
        if !last.starts_with("250") {
            break;
        }
    }
    last
}

#[test]
fn the_command_limit_counts_commands_since_the_last_message() {
    let world = world_with(BIN, CONFIG);
    let mut client = world.logged_in(&martin(), PASSWORD);
    // Nearly 20,000 commands in all, never 10,000 without a message between.
    for round in 0..2 {
        let last = noops(&mut client, 9_990);
        assert!(last.starts_with("250"), "round {round}: {last}");
        let message = format!("Subject: round {round}\r\n\r\nbody\r\n");
        let reply = client.send_message(&martin(), &[&martin()], message.as_bytes());
        assert!(reply.starts_with("250"), "round {round}: {reply}");
    }
    // Without a message, the 10,000th command closes the session.
    let last = noops(&mut client, 10_001);
    assert!(last.starts_with("421 4.7.0"), "{last}");
}
