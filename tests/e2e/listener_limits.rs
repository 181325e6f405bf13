//! End-to-end: each listener has its own connection cap, and the MTA port keeps room of its
//! own: IMAP connections up to their cap (4,200 of them once made port 25 answer 421 and
//! port 465 close) leave ports 25 and 465 serving.

use std::io::Read;
use std::net::TcpStream;

use mssd_e2e::SmtpClient;
use mssd_e2e::submission_world::world_with;

const BIN: &str = env!("CARGO_BIN_EXE_mssd");

#[test]
fn a_full_imap_listener_leaves_the_mta_and_submission_ports_open() {
    let world = world_with(
        BIN,
        "[limits]\nmax_connections = 40\nmax_connections_per_ip = 1000\nmta_reserve = 10\n\n[limits.listeners]\nimap = 25\n",
    );
    let imap = world.server.addr("imap");
    let greet = |stream: &mut TcpStream| {
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let mut held = Vec::new();
    for i in 0..25 {
        let mut stream = TcpStream::connect(imap).unwrap();
        let greeting = greet(&mut stream);
        assert!(greeting.starts_with("* OK"), "connection {i}: {greeting}");
        held.push(stream);
    }
    let mut over = TcpStream::connect(imap).unwrap();
    let refusal = greet(&mut over);
    assert!(refusal.starts_with("* BYE [UNAVAILABLE]"), "{refusal}");

    // Port 25 still greets, and submissions still shakes hands.
    let (mut smtp, greeting) = SmtpClient::connect(world.server.addr("smtp"));
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(smtp.command("QUIT").starts_with("221"));
    let config = world.tls_config(None);
    let stream = mssd_e2e::tls_connect(
        world.server.addr("submissions"),
        &format!("mail.{}", mssd_e2e::submission_world::A),
        config,
    )
    .expect("465 completes its handshake");
    let mut client = SmtpClient::over_tls(stream);
    assert!(client.reply().starts_with("220 "));

    // Submission may take what is left but the MTA reserve; port 25 then still greets.
    let submission = world.server.addr("submission");
    let mut refused_at = None;
    let mut clients = Vec::new();
    for i in 0..20 {
        let (client, greeting) = SmtpClient::connect(submission);
        if !greeting.starts_with("220 ") {
            assert!(greeting.starts_with("421 4.3.2"), "{greeting}");
            refused_at = Some(i);
            break;
        }
        clients.push(client);
    }
    assert!(refused_at.is_some(), "submission never reached the cap");
    let (_, greeting) = SmtpClient::connect(world.server.addr("smtp"));
    assert!(greeting.starts_with("220 "), "{greeting}");
}
