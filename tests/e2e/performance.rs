//! End-to-end performance properties of the real server that tests can check (figures are the
//! benchmarks'): twenty 50 MB messages arriving at once are streamed to disk (the server's RSS
//! barely moves, every message is stored intact, a kill -9 leaves no orphan), so are large IMAP
//! APPENDs, two hundred simultaneous IMAP logins stay small (argon2 runs are bounded and
//! shared), and a client that reconnects resumes its TLS session on every listener.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use mssd_e2e::imap_client::ImapClient;
use mssd_e2e::process::proc_status_kib;
use mssd_e2e::submission_world::{A, PASSWORD, martin, world_with};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_mssd");
const CONNECTIONS: usize = 20;
/// Under the default 50 MiB limit with the headers and our trace field.
const BODY_BYTES: usize = 50_000_000;
const LOGINS: usize = 200;

const LIMITS: &str = "[limits]\nmax_connections = 1000\nmax_connections_per_ip = 1000\n\n\
                      [imap]\nmax_connections_per_user = 500\n";

/// 50 MB of base64-looking lines (what a large attachment is): no marker of an XDM archive.
fn body() -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut body = Vec::with_capacity(BODY_BYTES);
    let mut n = 0usize;
    while body.len() + 78 <= BODY_BYTES {
        for _ in 0..76 {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            body.push(ALPHABET[n >> 58]);
        }
        body.extend_from_slice(b"\r\n");
    }
    body
}

/// How many body files the operator's `blobs/` holds.
fn body_files(data_dir: &std::path::Path) -> usize {
    std::fs::read_dir(data_dir.join("blobs"))
        .unwrap()
        .flatten()
        .flat_map(|shard| std::fs::read_dir(shard.path()).unwrap().flatten())
        .count()
}

/// Prints the server's RSS growth during `what` and checks it stayed under `limit_mib`.
fn assert_growth_below(what: &str, before: u64, peak: u64, limit_mib: u64) {
    eprintln!(
        "{what}: server RSS {before} KiB before, peak {peak} KiB (+{} MiB)",
        (peak - before) / 1024
    );
    assert!(
        peak < before + limit_mib * 1024,
        "{what}: the server's RSS grew by {} MiB (from {before} to {peak} KiB)",
        (peak - before) / 1024
    );
}

/// Samples the server's RSS until `stop`; returns the highest seen (KiB).
fn sample_peak(pid: u32, stop: &AtomicBool, peak: &AtomicU64) {
    while !stop.load(Ordering::SeqCst) {
        peak.fetch_max(proc_status_kib(pid, "VmRSS"), Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn twenty_fifty_megabyte_messages_at_once_are_streamed_to_disk() {
    let world = world_with(BIN, LIMITS);
    let pid = world.server.pid();
    // One login first, so the argon2 memory of the first verification is not counted.
    drop(world.logged_in(&martin(), PASSWORD));
    let body = Arc::new(body());
    let expected = hex::encode(Sha256::digest(body.as_slice()));
    let before = proc_status_kib(pid, "VmRSS");
    let (stop, peak) = (AtomicBool::new(false), AtomicU64::new(before));
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| world.logged_in(&martin(), PASSWORD))
        .collect();
    let replies: Vec<String> = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| sample_peak(pid, &stop, &peak));
        let senders: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(i, mut client)| {
                let body = Arc::clone(&body);
                scope.spawn(move || {
                    for command in [format!("MAIL FROM:<{}>", martin()), format!("RCPT TO:<{}>", martin())] {
                        let reply = client.command(&command);
                        assert!(reply.starts_with("250"), "{command}: {reply}");
                    }
                    let reply = client.command("DATA");
                    assert!(reply.starts_with("354"), "{reply}");
                    let head = format!(
                        "From: <{}>\r\nTo: <{}>\r\nSubject: large {i}\r\nMessage-ID: <large-{i}@{A}>\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                        martin(),
                        martin()
                    );
                    client.send_raw(head.as_bytes());
                    for chunk in body.chunks(1 << 20) {
                        client.send_raw(chunk);
                    }
                    client.send_raw(b".\r\n");
                    client.reply()
                })
            })
            .collect();
        let replies = senders.into_iter().map(|s| s.join().unwrap()).collect();
        stop.store(true, Ordering::SeqCst);
        sampler.join().unwrap();
        replies
    });
    for reply in &replies {
        assert!(reply.starts_with("250 "), "{reply}");
    }
    let what = format!("{CONNECTIONS} x {BODY_BYTES} bytes at once");
    assert_growth_below(&what, before, peak.load(Ordering::SeqCst), 100);

    // Each message is stored whole: its header block in the database, its body in one file.
    let stored = mssd_e2e::store::messages(&world.op.data_dir(), &martin(), "INBOX");
    let mut seen = Vec::new();
    for message in stored.iter().filter(|m| m.len() > BODY_BYTES) {
        let split = mssd_store::header_end(message, 1 << 20).expect("a header block");
        assert_eq!(hex::encode(Sha256::digest(&message[split..])), expected);
        let id = mssd_e2e::crash::message_id(message).unwrap();
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), CONNECTIONS, "{seen:?}");
    let files = body_files(&world.op.data_dir());
    assert_eq!(files, CONNECTIONS, "one body file per message");
}

/// Large IMAP APPENDs at once (synchronizing and LITERAL+): streamed to blob files as they
/// arrive, stored intact, and a refused one leaves no file behind.
#[test]
fn large_imap_appends_at_once_are_streamed_to_disk() {
    const APPENDS: usize = 8;
    let world = world_with(BIN, LIMITS);
    let pid = world.server.pid();
    let addr = world.server.addr("imaps");
    let tls = world.tls_config(None);
    let body = Arc::new(body());
    let expected = hex::encode(Sha256::digest(body.as_slice()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let connect = || async {
        let (mut client, _) = ImapClient::connect_tls(addr, tls.clone(), &format!("mail.{A}"))
            .await
            .unwrap();
        assert!(client.login(&martin(), PASSWORD).await.unwrap().is_ok());
        client
    };
    // Logged in before measuring, so argon2's memory is not counted.
    let clients: Vec<ImapClient> = runtime.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..APPENDS {
            clients.push(connect().await);
        }
        clients
    });
    let before = proc_status_kib(pid, "VmRSS");
    let (stop, peak) = (AtomicBool::new(false), AtomicU64::new(before));
    let replies = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| sample_peak(pid, &stop, &peak));
        let replies = runtime.block_on(async {
            let appends = clients.into_iter().enumerate().map(|(i, mut client)| {
                let body = Arc::clone(&body);
                tokio::spawn(async move {
                    let message = [
                        format!("From: <{}>\r\nSubject: append {i}\r\nMessage-ID: <append-{i}@{A}>\r\n\r\n", martin()).as_bytes(),
                        body.as_slice(),
                    ]
                    .concat();
                    client.append("INBOX", "\\Seen", &message, i % 2 == 1).await.unwrap()
                })
            });
            let mut replies = Vec::new();
            for append in appends.collect::<Vec<_>>() {
                replies.push(append.await.unwrap());
            }
            replies
        });
        stop.store(true, Ordering::SeqCst);
        sampler.join().unwrap();
        replies
    });
    for reply in &replies {
        assert!(reply.is_ok(), "{}", reply.tag_line);
        assert!(reply.tag_line.contains("APPENDUID"), "{}", reply.tag_line);
    }
    let what = format!("{APPENDS} APPENDs of {BODY_BYTES} bytes at once");
    assert_growth_below(&what, before, peak.load(Ordering::SeqCst), 60);

    let data_dir = world.op.data_dir();
    let stored = mssd_e2e::store::messages(&data_dir, &martin(), "INBOX");
    let large: Vec<_> = stored.iter().filter(|m| m.len() > BODY_BYTES).collect();
    assert_eq!(large.len(), APPENDS);
    for message in large {
        let split = mssd_store::header_end(message, 1 << 20).expect("a header block");
        assert!(message.starts_with(b"From: <"), "the header block is kept");
        assert_eq!(hex::encode(Sha256::digest(&message[split..])), expected);
    }
    assert_eq!(body_files(&data_dir), APPENDS, "one body file per message");

    // Over IMAP: the size and flags as appended; a refused APPEND leaves no file.
    runtime.block_on(async {
        let mut client = connect().await;
        assert!(client.command("SELECT INBOX").await.unwrap().is_ok());
        let fetched = client
            .command("FETCH 1:* (FLAGS RFC822.SIZE)")
            .await
            .unwrap();
        let sized = fetched
            .untagged
            .iter()
            .filter(|u| u.line.contains("\\Seen") && u.line.contains("RFC822.SIZE 50000"))
            .count();
        assert_eq!(sized, APPENDS, "{:?}", fetched.untagged);
        let refused = client
            .append("No such folder", "", &body[..300_000], true)
            .await
            .unwrap();
        assert_eq!(refused.code(), Some("TRYCREATE"), "{}", refused.tag_line);
        assert!(client.command("NOOP").await.unwrap().is_ok());
    });
    assert_eq!(
        body_files(&data_dir),
        APPENDS,
        "the refused APPEND's file is gone"
    );
}

#[test]
fn two_hundred_simultaneous_logins_stay_small() {
    let world = world_with(BIN, LIMITS);
    let pid = world.server.pid();
    let addr = world.server.addr("imaps");
    let tls = world.tls_config(None);
    let before = proc_status_kib(pid, "VmRSS");
    let (stop, peak) = (AtomicBool::new(false), AtomicU64::new(before));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let oks = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| sample_peak(pid, &stop, &peak));
        let oks = runtime.block_on(async {
            let mut clients = Vec::new();
            for i in 0..LOGINS {
                // The throttle lets 5 attempts of one account from one address run at once
                // (more look like guessing): the clients come from 40 loopback addresses.
                let from = std::net::IpAddr::from([127, 0, 1, (i % 40) as u8 + 1]);
                let (client, greeting) =
                    ImapClient::connect_tls_from(from, addr, tls.clone(), &format!("mail.{A}"))
                        .await
                        .unwrap();
                assert!(greeting.starts_with("* OK"), "{greeting}");
                clients.push(client);
            }
            // Every LOGIN at once.
            let logins = clients.into_iter().map(|mut client| {
                tokio::spawn(async move {
                    let reply = client.login(&martin(), PASSWORD).await.unwrap();
                    if !reply.is_ok() {
                        eprintln!("LOGIN refused: {}", reply.tag_line);
                    }
                    (reply.is_ok(), client)
                })
            });
            let mut oks = 0;
            let mut kept = Vec::new();
            for login in logins.collect::<Vec<_>>() {
                let (ok, client) = login.await.unwrap();
                oks += usize::from(ok);
                kept.push(client);
            }
            oks
        });
        stop.store(true, Ordering::SeqCst);
        sampler.join().unwrap();
        oks
    });
    assert_eq!(oks, LOGINS);
    let what = format!("{LOGINS} simultaneous logins");
    assert_growth_below(&what, before, peak.load(Ordering::SeqCst), 50);
    let _ = std::io::stderr().flush();
}

/// A spooled message keeps every byte whatever the packet boundaries: dot-stuffed lines, the
/// final `CRLF.CRLF` split before its last LF, a CR and its LF in two writes; and over BDAT.
#[test]
fn spooled_messages_keep_every_byte_across_packet_boundaries() {
    let world = world_with(BIN, "");
    let mut body = Vec::new();
    let mut line = 0usize;
    while body.len() < 700_000 {
        let text = match line % 5 {
            0 => ".starts with a dot".to_owned(),
            1 => "..".to_owned(),
            2 => format!("line {line} {}", "y".repeat(line % 900)),
            3 => String::new(),
            _ => ".".to_owned(),
        };
        body.extend_from_slice(text.as_bytes());
        body.extend_from_slice(b"\r\n");
        line += 1;
    }
    let head = |n: usize| {
        format!(
            "From: <{m}>\r\nTo: <{m}>\r\nSubject: boundaries {n}\r\nMessage-ID: <boundaries-{n}@{A}>\r\n\r\n",
            m = martin()
        )
    };
    let mut stuffed = Vec::new();
    for line in body.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            stuffed.push(b'.');
        }
        stuffed.extend_from_slice(line);
    }
    stuffed.extend_from_slice(b".\r\n");

    // DATA, in writes cut at awkward places, each given time to arrive alone.
    let mut client = world.logged_in(&martin(), PASSWORD);
    for command in [
        format!("MAIL FROM:<{}>", martin()),
        format!("RCPT TO:<{}>", martin()),
        "DATA".to_owned(),
    ] {
        let reply = client.command(&command);
        assert!(
            reply.starts_with("250") || reply.starts_with("354"),
            "{command}: {reply}"
        );
    }
    let mut data = head(1).into_bytes();
    data.extend_from_slice(&stuffed);
    let cr = data.len() / 2
        + data[data.len() / 2..]
            .iter()
            .position(|&b| b == b'\r')
            .unwrap();
    let cuts = [0, 300_000, cr + 1, data.len() - 1, data.len()];
    for pair in cuts.windows(2) {
        client.send_raw(&data[pair[0]..pair[1]]);
        std::thread::sleep(Duration::from_millis(150));
    }
    let reply = client.reply();
    assert!(reply.starts_with("250 "), "{reply}");

    // BDAT, in three chunks.
    let reply = client.command(&format!("MAIL FROM:<{}>", martin()));
    assert!(reply.starts_with("250"), "{reply}");
    let reply = client.command(&format!("RCPT TO:<{}>", martin()));
    assert!(reply.starts_with("250"), "{reply}");
    let mut message = head(2).into_bytes();
    message.extend_from_slice(&body);
    let thirds = [0, 100_000, 450_000, message.len()];
    for (i, pair) in thirds.windows(2).enumerate() {
        let last = if i == 2 { " LAST" } else { "" };
        client.send_raw(format!("BDAT {}{last}\r\n", pair[1] - pair[0]).as_bytes());
        client.send_raw(&message[pair[0]..pair[1]]);
        let reply = client.reply();
        assert!(reply.starts_with("250"), "BDAT {i}: {reply}");
    }

    let stored = mssd_e2e::store::messages(&world.op.data_dir(), &martin(), "INBOX");
    assert_eq!(stored.len(), 2);
    for (n, message) in stored.iter().enumerate() {
        let split = mssd_store::header_end(message, 1 << 20).unwrap();
        assert!(
            String::from_utf8_lossy(&message[..split]).contains(&format!("boundaries-{}@", n + 1)),
            "message {n}"
        );
        assert!(message[split..] == body[..], "message {} altered", n + 1);
    }
}

/// Sends 50 MB messages one after the other over one authenticated session until the server
/// goes away; returns the Message-IDs that got their 250.
fn upload_until_killed(
    addr: std::net::SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    prefix: String,
    body: Arc<Vec<u8>>,
    acked: &std::sync::Mutex<Vec<String>>,
) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (client, _) = mssd_e2e::SmtpClient::connect(addr);
        let (mut client, _) = client
            .starttls(&format!("mail.{A}"), tls)
            .expect("STARTTLS");
        let reply = client.command(&format!(
            "AUTH PLAIN {}",
            mssd_e2e::peers::plain(&martin(), PASSWORD)
        ));
        assert!(reply.starts_with("235"), "{reply}");
        for n in 0.. {
            let id = format!("<{prefix}-{n}@{A}>");
            for command in [
                format!("MAIL FROM:<{}>", martin()),
                format!("RCPT TO:<{}>", martin()),
                "DATA".to_owned(),
            ] {
                let reply = client.command(&command);
                assert!(
                    reply.starts_with("250") || reply.starts_with("354"),
                    "{reply}"
                );
            }
            client.send_raw(
                format!(
                    "From: <{m}>\r\nTo: <{m}>\r\nMessage-ID: {id}\r\n\r\n",
                    m = martin()
                )
                .as_bytes(),
            );
            for chunk in body.chunks(1 << 20) {
                client.send_raw(chunk);
            }
            client.send_raw(b".\r\n");
            let reply = client.reply();
            assert!(reply.starts_with("250 "), "{reply}");
            acked.lock().unwrap().push(id);
        }
    }));
}

/// The same over IMAP: APPENDs of 50 MB (LITERAL+ or synchronizing) until the server dies.
fn append_until_killed(
    addr: std::net::SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    prefix: String,
    body: Arc<Vec<u8>>,
    acked: &std::sync::Mutex<Vec<String>>,
    non_sync: bool,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            let (mut client, _) = ImapClient::connect_tls(addr, tls, &format!("mail.{A}"))
                .await
                .expect("IMAPS");
            assert!(client.login(&martin(), PASSWORD).await.unwrap().is_ok());
            for n in 0.. {
                let id = format!("<{prefix}-{n}@{A}>");
                let head = format!("From: <{}>\r\nMessage-ID: {id}\r\n\r\n", martin());
                let message = [head.as_bytes(), body.as_slice()].concat();
                let reply = client
                    .append("INBOX", "", &message, non_sync)
                    .await
                    .unwrap();
                assert!(reply.is_ok(), "{}", reply.tag_line);
                acked.lock().unwrap().push(id);
            }
        })
    }));
}

/// `kill -9` while four clients upload 50 MB messages (two by SMTP, two by IMAP APPEND),
/// twice: after each restart every acknowledged message is there intact, and no body file is
/// left that no message names (the uploads cut short leave none).
#[test]
fn sigkill_during_fifty_megabyte_uploads_keeps_what_was_acknowledged_and_no_orphan() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let name = std::thread::current()
            .name()
            .unwrap_or_default()
            .to_string();
        if !name.starts_with("uploader-") {
            default_hook(info);
        }
    }));
    let mut world = world_with(BIN, LIMITS);
    let body = Arc::new(body());
    let expected = hex::encode(Sha256::digest(body.as_slice()));
    let tls = world.tls_config(None);
    let mut acked_in_all = Vec::new();
    for round in 0..2 {
        let (addr, imaps) = (world.server.addr("submission"), world.server.addr("imaps"));
        let acked = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (tls, body, acked) = (tls.clone(), Arc::clone(&body), &acked);
                let prefix = format!("r{round}t{t}");
                std::thread::Builder::new()
                    .name(format!("uploader-{round}-{t}"))
                    .spawn_scoped(scope, move || match t {
                        0 | 1 => upload_until_killed(addr, tls, prefix, body, acked),
                        _ => append_until_killed(imaps, tls, prefix, body, acked, t == 3),
                    })
                    .unwrap();
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while acked.lock().unwrap().is_empty() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "nothing acknowledged in 120 s"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(Duration::from_millis(rand::random::<u64>() % 1500));
            mssd_e2e::crash::sigkill(world.server);
        });
        acked_in_all.extend(acked.into_inner().unwrap());
        world.server = world.op.start();

        let stored = mssd_e2e::store::messages(&world.op.data_dir(), &martin(), "INBOX");
        let mut ids = Vec::new();
        for message in &stored {
            let split = mssd_store::header_end(message, 1 << 20).unwrap();
            assert_eq!(
                hex::encode(Sha256::digest(&message[split..])),
                expected,
                "a stored body is torn"
            );
            ids.push(mssd_e2e::crash::message_id(message).unwrap());
        }
        for id in &acked_in_all {
            assert!(ids.contains(id), "{id} got 250 but is not stored");
        }
        let files = body_files(&world.op.data_dir());
        eprintln!(
            "round {round}: {} acknowledged in all ({} by IMAP), {} stored, {files} body files",
            acked_in_all.len(),
            acked_in_all
                .iter()
                .filter(|id| id.contains("t2-") || id.contains("t3-"))
                .count(),
            stored.len()
        );
        assert_eq!(
            files,
            stored.len(),
            "a body file no message names was left behind"
        );
    }
}

/// A client reconnecting with the same configuration resumes its TLS session: STARTTLS on
/// submission, implicit TLS on submissions, IMAPS and HTTPS.
#[test]
fn reconnecting_clients_resume_their_tls_session_on_every_listener() {
    let world = world_with(BIN, "");
    let host = format!("mail.{A}");
    let config = world.tls_config(None);
    for round in 0..2 {
        let (client, _) = mssd_e2e::SmtpClient::connect(world.server.addr("submission"));
        let (mut client, ehlo) = client.starttls(&host, config.clone()).unwrap();
        assert!(ehlo.starts_with("250"), "{ehlo}");
        assert_eq!(
            client.resumed(),
            round == 1,
            "submission, connection {round}"
        );
        assert!(client.command("QUIT").starts_with("221"));
    }
    for listener in ["submissions", "imaps", "https"] {
        // A client of its own per listener: its session cache starts empty.
        let config = world.tls_config(None);
        for round in 0..2 {
            let stream =
                mssd_e2e::tls_connect(world.server.addr(listener), &host, config.clone()).unwrap();
            let resumed = stream.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
            assert_eq!(resumed, round == 1, "{listener}, connection {round}");
            let mut client = mssd_e2e::LineClient::new(stream);
            if listener == "https" {
                client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
            }
            // Reading lets the client take the session tickets sent after the handshake.
            assert!(!client.read_line().is_empty(), "{listener}");
        }
    }
}
