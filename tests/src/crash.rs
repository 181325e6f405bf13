//! Crash tests: killing a running `mssd` the hard way, and reading back what survived.

use std::path::Path;

use crate::Mssd;

/// SIGKILL: no shutdown path runs, no buffer is flushed; then reaps the process.
pub fn sigkill(server: Mssd) {
    let pid = libc::pid_t::try_from(server.pid()).expect("pid");
    // SAFETY: kill(2) on our own child, not yet reaped (the `Mssd` still holds it).
    assert_eq!(
        unsafe { libc::kill(pid, libc::SIGKILL) },
        0,
        "kill -KILL {pid} failed: {}",
        std::io::Error::last_os_error()
    );
    // Drop waits for the exit (its own kill finds the process already dead).
    drop(server);
}

/// The Message-ID field value of each message of `address`'s `folder`, with its bytes.
pub fn messages_by_id(data_dir: &Path, address: &str, folder: &str) -> Vec<(String, Vec<u8>)> {
    crate::store::messages(data_dir, address, folder)
        .into_iter()
        .map(|bytes| (message_id(&bytes).unwrap_or_default(), bytes))
        .collect()
}

/// The Message-ID of a message: the first such field in its header block.
pub fn message_id(message: &[u8]) -> Option<String> {
    let end = find(message, b"\r\n\r\n").unwrap_or(message.len());
    let headers = std::str::from_utf8(&message[..end]).ok()?;
    headers.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("Message-ID")
            .then(|| value.trim().to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_table() {
        let cases: [(&[u8], Option<&str>); 6] = [
            (b"Message-ID: <a@b>\r\n\r\nbody", Some("<a@b>")),
            (b"Subject: x\r\nmessage-id:  <c@d> \r\n\r\n", Some("<c@d>")),
            (
                b"Received: x\r\nMessage-ID: <1@x>\r\nMessage-ID: <2@x>\r\n\r\n",
                Some("<1@x>"),
            ),
            (b"Subject: x\r\n\r\nMessage-ID: <in-body@x>\r\n", None),
            (b"Subject: no id\r\n\r\n", None),
            (b"", None),
        ];
        for (message, expected) in cases {
            assert_eq!(
                message_id(message).as_deref(),
                expected,
                "{}",
                String::from_utf8_lossy(message)
            );
        }
    }
}
