//! A test double of a citizens' OpenID Connect provider (the national one cannot run here):
//! an HTTPS token endpoint that checks what RFC 6749 §4.1.3 and RFC 7636 ask of the client
//! (grant type, the code it issued, the redirect URI, client id and secret, and the PKCE
//! verifier against the challenge of the authorization request) and answers with an access
//! token its key signs. The test itself plays the authorization endpoint: it reads the
//! request the server redirected to, then `authorize` records the code it gives back.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::{ServerConnection, StreamOwned};

use crate::peers::TokenIssuer;

/// What the double expects of a token request, and what it saw.
#[derive(Default)]
struct Expected {
    /// code → (PKCE challenge, redirect URI, INS of the citizen who signed in).
    codes: HashMap<String, (String, String, String)>,
    /// Every token request's outcome: Ok(code) or Err(why).
    seen: Vec<Result<String, String>>,
}

pub struct OidcDouble {
    pub addr: SocketAddr,
    expected: Arc<Mutex<Expected>>,
}

pub const CLIENT_ID: &str = "mssd-web-test";
pub const CLIENT_SECRET: &str = "client secret of the test";

impl OidcDouble {
    /// Serves the token endpoint with `chain`/`key` (a certificate for localhost); tokens are
    /// signed by `issuer` for `audience`, the INS in the claim `ins`.
    pub fn start(chain: &Path, key: &Path, issuer: TokenIssuer, audience: &str) -> OidcDouble {
        let config = crate::https::server_config(chain, key);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let expected = Arc::new(Mutex::new(Expected::default()));
        let state = expected.clone();
        let audience = audience.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let Ok(conn) = ServerConnection::new(config.clone()) else {
                    continue;
                };
                let mut tls = StreamOwned::new(conn, stream);
                let Some(form) = read_form(&mut tls) else {
                    continue;
                };
                let outcome = check(&mut state.lock().unwrap(), &form);
                let (status, body) = match &outcome {
                    Ok(ins) => {
                        let now = time::OffsetDateTime::now_utc().unix_timestamp();
                        let token = issuer.sign(&serde_json::json!({
                            "iss": issuer.issuer, "aud": audience, "sub": "citizen",
                            "ins": ins, "iat": now, "exp": now + 300,
                        }));
                        (
                            "200 OK",
                            serde_json::json!({ "access_token": token, "token_type": "Bearer", "expires_in": 300 }),
                        )
                    }
                    Err(why) => (
                        "400 Bad Request",
                        serde_json::json!({ "error": "invalid_grant", "error_description": why }),
                    ),
                };
                state
                    .lock()
                    .unwrap()
                    .seen
                    .push(outcome.map(|_| form.get("code").cloned().unwrap_or_default()));
                let body = body.to_string();
                let _ = write!(
                    tls,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        OidcDouble { addr, expected }
    }

    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// The user agent came to the authorization endpoint with `challenge` and `redirect_uri`,
    /// and citizen `ins` signed in: the code to send back.
    pub fn authorize(&self, challenge: &str, redirect_uri: &str, ins: &str) -> String {
        let code = format!("code-{}", rand_suffix());
        self.expected.lock().unwrap().codes.insert(
            code.clone(),
            (
                challenge.to_string(),
                redirect_uri.to_string(),
                ins.to_string(),
            ),
        );
        code
    }

    /// The outcomes of the token requests so far.
    pub fn seen(&self) -> Vec<Result<String, String>> {
        self.expected.lock().unwrap().seen.clone()
    }
}

fn rand_suffix() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 12];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn check(expected: &mut Expected, form: &HashMap<String, String>) -> Result<String, String> {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if field("grant_type") != "authorization_code" {
        return Err("grant_type".into());
    }
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return Err("client".into());
    }
    let Some((challenge, redirect_uri, ins)) = expected.codes.remove(field("code")) else {
        return Err("unknown code".into());
    };
    if field("redirect_uri") != redirect_uri {
        return Err("redirect_uri".into());
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, field("code_verifier").as_bytes());
    if URL_SAFE_NO_PAD.encode(digest.as_ref()) != challenge {
        return Err("PKCE verifier".into());
    }
    Ok(ins)
}

/// The urlencoded body of a POST.
fn read_form<S: Read>(stream: &mut S) -> Option<HashMap<String, String>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if raw.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while raw.len() < head_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&raw[head_end..]).into_owned();
    Some(
        body.split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect(),
    )
}

/// `application/x-www-form-urlencoded` decoding.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
