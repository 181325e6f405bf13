//! Sans-I/O parsing of an HTTP/1.x request head. The HTTP listener only serves a few
//! read-only GET endpoints, so the parser accepts exactly what those need and no more.

/// Upper bound of a request head; larger heads get 431.
pub const MAX_HEAD: usize = 8 * 1024;

#[derive(Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum HeadError {
    /// 400: the head is not HTTP/1.x.
    Malformed(&'static str),
    /// 431: the head exceeds `MAX_HEAD`.
    TooLarge,
}

/// Returns `Ok(None)` while the head is incomplete (read more), or the parsed head once the
/// blank line is seen.
pub fn parse_head(buf: &[u8]) -> Result<Option<RequestHead>, HeadError> {
    let end = match find_head_end(buf) {
        Some(end) => end,
        None if buf.len() >= MAX_HEAD => return Err(HeadError::TooLarge),
        None => return Ok(None),
    };
    if end > MAX_HEAD {
        return Err(HeadError::TooLarge);
    }
    let head =
        std::str::from_utf8(&buf[..end]).map_err(|_| HeadError::Malformed("head is not UTF-8"))?;
    let mut lines = head
        .split("\r\n")
        .map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "request line must be METHOD TARGET VERSION",
        ));
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err(HeadError::Malformed(
            "only HTTP/1.0 and HTTP/1.1 are served",
        ));
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(HeadError::Malformed("bad method"));
    }
    if !target.starts_with('/') {
        return Err(HeadError::Malformed("target must be an absolute path"));
    }
    for line in lines.filter(|l| !l.is_empty()) {
        if !line.contains(':') {
            return Err(HeadError::Malformed("header line without a colon"));
        }
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    Ok(Some(RequestHead {
        method: method.to_string(),
        path,
        query,
    }))
}

/// The value of `key` in a query string (`a=1&q=dupont+jean`), percent-decoded, `+` as space.
/// Invalid escapes or UTF-8 give None: the caller answers 400.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    let pair = query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then_some(v)
    })?;
    let bytes = pair.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Case = (&'static [u8], Result<Option<RequestHead>, HeadError>);

    #[test]
    fn table() {
        let ok = |m: &str, p: &str, q: Option<&str>| {
            Ok(Some(RequestHead {
                method: m.into(),
                path: p.into(),
                query: q.map(String::from),
            }))
        };
        let cases: Vec<Case> = vec![
            (
                b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                ok("GET", "/healthz", None),
            ),
            (
                b"GET /metrics HTTP/1.0\r\n\r\n",
                ok("GET", "/metrics", None),
            ),
            (
                b"HEAD /a?q=1&b=2 HTTP/1.1\r\n\r\n",
                ok("HEAD", "/a", Some("q=1&b=2")),
            ),
            (b"GET /healthz HTTP/1.1\n\n", ok("GET", "/healthz", None)),
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\n", Ok(None)),
            (b"", Ok(None)),
            (
                b"GET /healthz\r\n\r\n",
                Err(HeadError::Malformed(
                    "request line must be METHOD TARGET VERSION",
                )),
            ),
            (
                b"GET /healthz HTTP/2\r\n\r\n",
                Err(HeadError::Malformed(
                    "only HTTP/1.0 and HTTP/1.1 are served",
                )),
            ),
            (
                b"get / HTTP/1.1\r\n\r\n",
                Err(HeadError::Malformed("bad method")),
            ),
            (
                b"GET http://x/ HTTP/1.1\r\n\r\n",
                Err(HeadError::Malformed("target must be an absolute path")),
            ),
            (
                b"GET / HTTP/1.1\r\nbroken\r\n\r\n",
                Err(HeadError::Malformed("header line without a colon")),
            ),
            (
                b"GET /\xff HTTP/1.1\r\n\r\n",
                Err(HeadError::Malformed("head is not UTF-8")),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_head(input),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn query_params() {
        let cases: &[(Option<&str>, &str, Option<&str>)] = &[
            (Some("q=dupont"), "q", Some("dupont")),
            (Some("limit=5&q=dupont+jean"), "q", Some("dupont jean")),
            (Some("q=h%C3%B4pital%20nord"), "q", Some("hôpital nord")),
            (Some("q="), "q", Some("")),
            (Some("q"), "q", Some("")),
            (Some("x=1"), "q", None),
            (None, "q", None),
            (Some("q=%zz"), "q", None),
            (Some("q=%C3"), "q", None),
            (Some("q=%4"), "q", None),
        ];
        for (query, key, expected) in cases {
            assert_eq!(query_param(*query, key).as_deref(), *expected, "{query:?}");
        }
    }

    #[test]
    fn oversized_head_is_refused_before_its_end() {
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        assert_eq!(parse_head(&big), Err(HeadError::TooLarge));
    }
}
