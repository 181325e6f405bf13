//! Small value rules several sections share (paths, OIDs).

use std::path::{Path, PathBuf};

/// `path` as given when absolute, else under `base` (the data dir, or the file's folder).
pub(super) fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// Dotted digits with at least one dot, like `1.2.250.1.213`.
pub(super) fn is_dotted_oid(s: &str) -> bool {
    let mut arcs = s.split('.');
    s.contains('.') && arcs.all(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
}
