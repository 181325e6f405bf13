//! The HTTPS client: roots from [`Anchors`], https only, bounded redirects, timeouts, and
//! downloads bounded in size.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, RootCertStore};

use crate::anchors::Anchors;
use crate::error::{Error, Result};

/// Limits of a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// Time to establish the TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Time for a whole request, body included.
    pub timeout: Duration,
    /// Redirects followed (each https too); 0 follows none.
    pub max_redirects: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(15),
            timeout: Duration::from_secs(120),
            max_redirects: 5,
        }
    }
}

/// A client for public HTTPS sources. Cheap to clone (connections are pooled and shared).
#[derive(Clone, Debug)]
pub struct PublicClient {
    client: reqwest::Client,
}

impl PublicClient {
    /// Reads the roots of `anchors` now (see [`Anchors::root_store`]) and builds the client.
    pub fn new(anchors: &Anchors, options: ClientOptions) -> Result<PublicClient> {
        PublicClient::with_roots(anchors.root_store()?, options)
    }

    /// A client whose servers must chain to one of `roots` and match the URL's host name.
    pub fn with_roots(roots: RootCertStore, options: ClientOptions) -> Result<PublicClient> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Client(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let redirect = match options.max_redirects {
            0 => reqwest::redirect::Policy::none(),
            n => reqwest::redirect::Policy::limited(n),
        };
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            // Also refuses a redirect to http://.
            .https_only(true)
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(redirect)
            .user_agent(concat!("mssd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Client(chain(&e)))?;
        Ok(PublicClient { client })
    }

    /// The underlying client, for requests other than [`PublicClient::get_bounded`] (a POST
    /// to a token endpoint). Its TLS roots and limits are this client's.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    /// The body at `url` (a 2xx answer), at most `max_bytes` long: a larger Content-Length is
    /// refused before reading, a longer body as soon as it passes the limit.
    pub async fn get_bounded(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>> {
        let failed = |detail: String| Error::Download {
            url: url.to_owned(),
            detail,
        };
        let too_large = || Error::TooLarge {
            url: url.to_owned(),
            limit: max_bytes,
        };
        let mut response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| failed(chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(format!("the server answered HTTP {status}")));
        }
        if response
            .content_length()
            .is_some_and(|length| length > max_bytes)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(chain(&e)))? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// An `https://` URL with a host; plain http and other schemes are refused (see the crate's
/// documentation for why loopback gets no exception).
pub fn parse_https_url(text: &str) -> Result<reqwest::Url> {
    let bad = |reason: &str| Error::BadUrl {
        url: text.to_owned(),
        reason: reason.to_owned(),
    };
    let url = reqwest::Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" => return Err(bad("plain http is refused: use https://")),
        _ => return Err(bad("only https:// URLs are fetched")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("the URL has no host"));
    }
    Ok(url)
}

/// An error and its causes, `a: b: c`, skipping causes that repeat their parent's text:
/// reqwest's own message ("error sending request") hides the TLS reason in the chain.
fn chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut last = text.clone();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !last.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        last = part;
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_https_url_table() {
        let cases: [(&str, std::result::Result<&str, &str>); 7] = [
            (
                "https://auth.esante.gouv.fr/realms/x/certs",
                Ok("https://auth.esante.gouv.fr/realms/x/certs"),
            ),
            (
                "  HTTPS://Example.FR:8443/k ",
                Ok("https://example.fr:8443/k"),
            ),
            ("https://127.0.0.1:9/jwks", Ok("https://127.0.0.1:9/jwks")),
            ("http://127.0.0.1:9/jwks", Err("plain http is refused")),
            ("http://idp.example/jwks", Err("plain http is refused")),
            ("file:///etc/jwks.json", Err("only https://")),
            ("https://", Err("invalid URL")),
        ];
        for (input, expected) in cases {
            match (parse_https_url(input), expected) {
                (Ok(url), Ok(text)) => assert_eq!(url.as_str(), text, "{input}"),
                (Err(e), Err(needle)) => {
                    assert!(e.to_string().contains(needle), "{input}: {e}")
                }
                (got, expected) => panic!("{input}: {got:?} instead of {expected:?}"),
            }
        }
    }

    #[tokio::test]
    async fn nothing_is_sent_over_plain_http() {
        let client = PublicClient::new(&Anchors::WebPki, ClientOptions::default()).expect("client");
        // Nothing listens there: the refusal comes before any connection.
        let err = client
            .get_bounded("http://127.0.0.1:9/x", 10)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("URL scheme is not allowed"),
            "{err}"
        );
    }
}
