//! Reading a list from a file or over HTTPS verified with the configured IGC-Santé anchors only
//! (never the system roots), with a size bound and timeouts.

use std::error::Error as _;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;

use crate::error::{Error, Result};
use crate::location::Location;

/// Limits of one fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Largest document accepted (the 2026 list is a few MiB).
    pub max_bytes: u64,
    /// Time to establish the TCP and TLS connection.
    pub connect_timeout: Duration,
    /// Time for the whole request, body included.
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            max_bytes: 64 * 1024 * 1024,
            connect_timeout: Duration::from_secs(15),
            timeout: Duration::from_secs(120),
        }
    }
}

/// Reads [`Location`]s. Cheap to clone (the HTTPS client is shared).
#[derive(Clone, Debug)]
pub struct Fetcher {
    /// `None` when no anchor is configured: https sources are then refused.
    client: Option<reqwest::Client>,
    options: FetchOptions,
}

impl Fetcher {
    /// A fetcher whose HTTPS connections must chain to one of `anchors` (DER certificates) and
    /// match the URL's host name. With no anchor, only files can be read.
    pub fn new(anchors: &[CertificateDer<'static>], options: FetchOptions) -> Result<Fetcher> {
        if anchors.is_empty() {
            return Ok(Fetcher::files_only(options));
        }
        let mut roots = RootCertStore::empty();
        for anchor in anchors {
            roots.add(anchor.clone())?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .https_only(true)
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("mssd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTPS client: {}", chain(&e))))?;
        Ok(Fetcher {
            client: Some(client),
            options,
        })
    }

    /// Like [`Fetcher::new`], reading the anchors from PEM files.
    pub fn from_anchor_files(paths: &[&Path], options: FetchOptions) -> Result<Fetcher> {
        let mut anchors = Vec::new();
        for path in paths {
            anchors.extend(mssd_certs::load_certs(path)?);
        }
        Fetcher::new(&anchors, options)
    }

    /// A fetcher that reads files only and refuses https sources.
    pub fn files_only(options: FetchOptions) -> Fetcher {
        Fetcher {
            client: None,
            options,
        }
    }

    pub fn options(&self) -> FetchOptions {
        self.options
    }

    /// The whole document at `location`, at most `max_bytes` long.
    pub async fn fetch(&self, location: &Location) -> Result<Vec<u8>> {
        match location {
            Location::File(path) => self.read_file(path).await,
            Location::Https(url) => self.download(url).await,
        }
    }

    async fn read_file(&self, path: &Path) -> Result<Vec<u8>> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let limit = self.options.max_bytes;
        let owned = path.to_path_buf();
        // One blocking call for the whole file, into a buffer of its size: `tokio::fs` would
        // read it in chunks, each a trip to the blocking pool and a copy.
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            let file = std::fs::File::open(&owned)?;
            let size = file.metadata().map_or(0, |m| m.len()).min(limit + 1);
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.take(limit + 1).read_to_end(&mut bytes)?;
            Ok(bytes)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
        let bytes = read.map_err(io)?;
        if bytes.len() as u64 > self.options.max_bytes {
            return Err(Error::TooLarge {
                location: path.display().to_string(),
                limit: self.options.max_bytes,
            });
        }
        Ok(bytes)
    }

    async fn download(&self, url: &str) -> Result<Vec<u8>> {
        let Some(client) = &self.client else {
            return Err(Error::NoTrustAnchor {
                url: url.to_owned(),
            });
        };
        let failed = |detail: String| Error::Download {
            url: url.to_owned(),
            detail,
        };
        let too_large = || Error::TooLarge {
            location: url.to_owned(),
            limit: self.options.max_bytes,
        };
        let mut response = client
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
            .is_some_and(|length| length > self.options.max_bytes)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(chain(&e)))? {
            if (body.len() + chunk.len()) as u64 > self.options.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
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
