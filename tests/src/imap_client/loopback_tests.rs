//! The client against a scripted server on a loopback socket: literals both ways, IDLE
//! timeouts that lose nothing, and a multi-megabyte FETCH read quickly.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::{ImapClient, quoted};

/// A scripted server: `script` gets the accepted socket; the client is connected to it.
async fn pair<F, Fut>(script: F) -> (ImapClient, String, tokio::task::JoinHandle<()>)
where
    F: FnOnce(BufReader<TcpStream>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(b"* OK ready\r\n").await.unwrap();
        script(BufReader::new(socket)).await;
    });
    let (client, greeting) = ImapClient::connect_plain(addr).await.unwrap();
    (client, greeting, server)
}

async fn line(socket: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    socket.read_line(&mut line).await.unwrap();
    line
}

#[tokio::test]
async fn large_fetch_literal_is_read_whole_and_quickly() {
    const SIZE: usize = 4 * 1024 * 1024;
    let (mut client, greeting, server) = pair(|mut s| async move {
        assert_eq!(line(&mut s).await, "a1 FETCH 1 BODY[]\r\n");
        let mut out = format!("* 1 FETCH (BODY[] {{{SIZE}}}\r\n").into_bytes();
        out.extend((0..SIZE).map(|i| (i % 251) as u8));
        out.extend_from_slice(b" UID 7)\r\n* 2 EXISTS\r\na1 OK done\r\n");
        s.get_mut().write_all(&out).await.unwrap();
    })
    .await;
    assert_eq!(greeting, "* OK ready");
    let started = Instant::now();
    let reply = client.command("FETCH 1 BODY[]").await.unwrap();
    let took = started.elapsed();
    server.await.unwrap();
    assert_eq!(reply.tag_line, "OK done");
    assert_eq!(
        reply.untagged[0].line,
        format!("1 FETCH (BODY[] {{{SIZE}}} UID 7)")
    );
    let literal = &reply.untagged[0].literals[0];
    assert_eq!(literal.len(), SIZE);
    assert!(
        literal
            .iter()
            .enumerate()
            .all(|(i, &b)| b == (i % 251) as u8)
    );
    assert_eq!(reply.untagged[1].line, "2 EXISTS");
    let head = format!("* 1 FETCH (BODY[] {{{SIZE}}}\r\n").len();
    let tail = " UID 7)\r\n* 2 EXISTS\r\na1 OK done\r\n".len();
    assert_eq!(reply.bytes, head + SIZE + tail);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn sync_append_waits_for_the_continuation_and_non_sync_does_not() {
    let (mut client, _, server) = pair(|mut s| async move {
        assert_eq!(
            line(&mut s).await,
            "a1 APPEND \"Dra\\\"fts\" (\\Seen) {5}\r\n"
        );
        s.get_mut().write_all(b"+ go\r\n").await.unwrap();
        let mut body = [0u8; 7];
        s.read_exact(&mut body).await.unwrap();
        assert_eq!(&body, b"hello\r\n");
        s.get_mut()
            .write_all(b"a1 OK [APPENDUID 3 9] done\r\n")
            .await
            .unwrap();
        assert_eq!(line(&mut s).await, "a2 APPEND \"INBOX\" {2+}\r\n");
        assert_eq!(line(&mut s).await, "hi\r\n");
        s.get_mut()
            .write_all(b"a2 NO [OVERQUOTA] full\r\n")
            .await
            .unwrap();
        assert_eq!(line(&mut s).await, "a3 APPEND \"INBOX\" {9}\r\n");
        s.get_mut().write_all(b"a3 BAD too big\r\n").await.unwrap();
    })
    .await;
    let sync = client.append("Dra\"fts", "\\Seen", b"hello", false).await;
    assert_eq!(sync.unwrap().code(), Some("APPENDUID 3 9"));
    let plus = client.append("INBOX", "", b"hi", true).await.unwrap();
    assert_eq!((plus.status(), plus.code()), ("NO", Some("OVERQUOTA")));
    let refused = client.append("INBOX", "", b"123456789", false).await;
    assert_eq!(refused.unwrap().tag_line, "BAD too big");
    server.await.unwrap();
}

#[tokio::test]
async fn idle_wait_times_out_without_losing_a_partial_response() {
    let (mut client, _, server) = pair(|mut s| async move {
        assert_eq!(line(&mut s).await, "a1 IDLE\r\n");
        s.get_mut().write_all(b"+ idling\r\n* 4 EX").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.get_mut().write_all(b"ISTS\r\n").await.unwrap();
        assert_eq!(line(&mut s).await, "DONE\r\n");
        s.get_mut().write_all(b"a1 OK IDLE done\r\n").await.unwrap();
    })
    .await;
    client.idle().await.unwrap();
    let none = client.idle_wait(Duration::from_millis(100)).await.unwrap();
    assert_eq!(none, None);
    let some = client.idle_wait(Duration::from_secs(5)).await.unwrap();
    assert_eq!(some.as_deref(), Some("4 EXISTS"));
    assert_eq!(client.idle_done().await.unwrap().tag_line, "OK IDLE done");
    server.await.unwrap();
}

#[tokio::test]
async fn a_closed_connection_and_a_stray_tag_are_errors() {
    let (mut client, _, server) = pair(|mut s| async move {
        line(&mut s).await;
        s.get_mut().write_all(b"zz OK other\r\n").await.unwrap();
        line(&mut s).await;
        s.get_mut()
            .write_all(b"* BYE going away\r\n")
            .await
            .unwrap();
    })
    .await;
    let stray = client.command("NOOP").await.unwrap_err();
    assert!(stray.to_string().contains("zz OK other"), "{stray}");
    let closed = client.command("NOOP").await.unwrap_err();
    assert_eq!(closed.kind(), std::io::ErrorKind::UnexpectedEof);
    server.await.unwrap();
}

#[test]
fn quotes_strings() {
    let cases = [
        ("INBOX", "\"INBOX\""),
        (r#"a"b\c"#, r#""a\"b\\c""#),
        ("", "\"\""),
    ];
    for (input, expected) in cases {
        assert_eq!(quoted(input), expected);
    }
}
