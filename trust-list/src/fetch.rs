//! Reading a list from a file, or over HTTPS through the public client (mssd-http-client:
//! the roots it is given, never the IGC-Santé anchors unless they are listed there), with a
//! size bound and timeouts.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use mssd_http_client::{ClientOptions, PublicClient};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;

use crate::error::{Error, Result};
use crate::location::Location;

/// Limits of one fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Largest document accepted (the 2026 list is a few MiB).
    pub max_bytes: u64,
    /// Time to establish the TCP and TLS connection (clients built by [`Fetcher::new`]; a
    /// client given to [`Fetcher::with_client`] keeps its own).
    pub connect_timeout: Duration,
    /// Time for the whole request, body included (same).
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
    /// `None`: https sources are refused.
    client: Option<PublicClient>,
    options: FetchOptions,
}

impl Fetcher {
    /// A fetcher whose HTTPS connections must chain to one of `roots` (DER certificates) and
    /// match the URL's host name. With no root, only files can be read.
    pub fn new(roots: &[CertificateDer<'static>], options: FetchOptions) -> Result<Fetcher> {
        if roots.is_empty() {
            return Ok(Fetcher::files_only(options));
        }
        let mut store = RootCertStore::empty();
        for root in roots {
            store.add(root.clone())?;
        }
        let client_options = ClientOptions {
            connect_timeout: options.connect_timeout,
            timeout: options.timeout,
            ..ClientOptions::default()
        };
        let client = PublicClient::with_roots(store, client_options)
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Fetcher::with_client(client, options))
    }

    /// A fetcher downloading with `client` (the server's `[http_client]`); `options` bounds
    /// the size.
    pub fn with_client(client: PublicClient, options: FetchOptions) -> Fetcher {
        Fetcher {
            client: Some(client),
            options,
        }
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
        client
            .get_bounded(url, self.options.max_bytes)
            .await
            .map_err(|e| match e {
                mssd_http_client::Error::TooLarge { url, limit } => Error::TooLarge {
                    location: url,
                    limit,
                },
                mssd_http_client::Error::Download { url, detail } => {
                    Error::Download { url, detail }
                }
                other => Error::Download {
                    url: url.to_owned(),
                    detail: other.to_string(),
                },
            })
    }
}
