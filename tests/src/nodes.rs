//! Several `mssd serve` nodes on one PostgreSQL database: the `[store]` section that points a
//! node at it, and a second node made from a first one (same domain, certificates, liste
//! blanche and configuration; its own data dir for staged bodies; its own listener ports).

use std::path::Path;

use crate::Operator;

/// The `[store]` section of a node on database `url`, with a small pool (the test cluster
/// serves several nodes and tests at once).
pub fn postgres_store(url: &str) -> String {
    format!("[store]\nbackend = \"postgres\"\nurl = \"{url}\"\npool_size = 8\n")
}

/// A new database on this test binary's PostgreSQL cluster; `None` (the test then returns
/// early, as the store's PostgreSQL tests do) when PostgreSQL is not installed.
pub fn fresh_database() -> Option<String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime to create the database")
        .block_on(mssd_pg_test::fresh_database())
}

impl Operator {
    /// Another node of this operator: a copy of its directory (configuration, PKI, liste
    /// blanche, JWKS) without the files a node keeps for itself.
    pub fn another_node(&self) -> Operator {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_tree(self.dir.path(), dir.path());
        Operator {
            bin: self.bin.clone(),
            dir,
            domain: self.domain.clone(),
        }
    }

    /// Points this node's configuration at database `url` (the `url` line of `[store]`,
    /// nothing else changed), as an operator does after a failover; takes effect at the next
    /// start.
    pub fn repoint_store(&self, url: &str) {
        let path = self.config_path();
        let config = std::fs::read_to_string(&path).expect("reading the configuration");
        let mut in_store = false;
        let mut replaced = false;
        let lines: Vec<String> = config
            .lines()
            .map(|line| {
                if line.starts_with('[') {
                    in_store = line.trim() == "[store]";
                } else if in_store && line.trim_start().starts_with("url") {
                    replaced = true;
                    return format!("url = \"{url}\"");
                }
                line.to_owned()
            })
            .collect();
        assert!(replaced, "no url in [store] of:\n{config}");
        std::fs::write(&path, lines.join("\n") + "\n").expect("writing the configuration");
    }
}

/// Copies `from` into `to`, skipping a node's own state: staged bodies, SQLite files, logs.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creating the node's directory");
    for entry in std::fs::read_dir(from).expect("reading the first node's directory") {
        let entry = entry.expect("a directory entry");
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        if name_text == "staging" || name_text.starts_with("mssd.sqlite3") {
            continue;
        }
        let (source, target) = (entry.path(), to.join(&name));
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&source, &target);
        } else {
            std::fs::copy(&source, &target).expect("copying a file of the first node");
        }
    }
}
