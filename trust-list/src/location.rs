//! Where a document comes from: a file or an `https://` URL.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// A file path or an `https://` URL. Plain `http://` is refused: the list decides whom we
/// exchange health data with, so it must come authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Https(String),
}

impl Location {
    /// `https://…` is a URL, `file://…` or anything else a path.
    pub fn parse(input: &str) -> Result<Location> {
        let bad = |reason: &str| Error::BadSource {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("https://") {
            let url =
                reqwest::Url::parse(trimmed).map_err(|e| bad(&format!("not a valid URL: {e}")))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(bad("the URL has no host"));
            }
            return Ok(Location::Https(url.to_string()));
        }
        if lower.starts_with("http://") {
            return Err(bad(
                "plain http is refused: use https:// (verified with the [http_client] anchors) or \
                 a file path",
            ));
        }
        if let Some(path) = trimmed.strip_prefix("file://") {
            return Ok(Location::File(PathBuf::from(path)));
        }
        if lower.contains("://") {
            return Err(bad("only https:// URLs and file paths are supported"));
        }
        Ok(Location::File(PathBuf::from(trimmed)))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Https(url) => f.write_str(url),
        }
    }
}
